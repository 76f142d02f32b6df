"""Endpoints for the benchmarks, each in its own process so it does not share our GIL.

``fake_server(delay)`` runs ``FakeLambda`` answering every call with its payload after
``delay`` seconds; ``sandbox_server()`` runs ``lambda_magic.sandbox.Sandbox`` with its demo
functions (``echo``, ``sleep``...), or yields None when the sandbox cannot start here;
``node_server()`` runs ``fast_endpoint.js`` (a zero-latency echo in Node.js, so the server is
never the bottleneck), or yields None when ``node`` is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["bench_env", "fake_server", "node_server", "sandbox_server"]

_FAKE = """
import sys
from lambda_magic.testing import FakeLambda, Reply
delay = float(sys.argv[1])
fake = FakeLambda(default=lambda call: Reply.ok(call.payload, delay=delay)).start()
print(fake.url, flush=True)
sys.stdin.read()
"""


_SANDBOX = """
import sys
try:
    from lambda_magic.sandbox import Sandbox
    sandbox = Sandbox(port=0, max_workers=int(sys.argv[1])).start()
except Exception as exc:
    print(f"error: {exc}", flush=True)
    raise SystemExit(1)
print(sandbox.endpoint_url, flush=True)
sys.stdin.read()
sandbox.stop()
"""


def bench_env() -> None:
    """Dummy credentials and a region, no user config: the benchmarks never reach AWS."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        os.environ.pop(name, None)


@contextmanager
def child_server(source: str, *args: str) -> Iterator[str]:
    """Run ``source`` (which prints its URL, then serves until stdin closes) in a child
    process; yield the URL, and stop the child afterwards."""
    child = subprocess.Popen(
        [sys.executable, "-c", source, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        _stop(child)


def fake_server(delay: float) -> AbstractContextManager[str]:
    """A FakeLambda in a child process answering after ``delay`` s; yields its URL."""
    return child_server(_FAKE, str(delay))


@contextmanager
def sandbox_server(max_workers: int = 8) -> Iterator[str | None]:
    """The sandbox with its demo functions in a child process; yields its URL (None if it fails)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _SANDBOX, str(max_workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        yield url if url.startswith("http") else None
    finally:
        _stop(child)


@contextmanager
def node_server() -> Iterator[str | None]:
    """``fast_endpoint.js`` under Node.js; yields its URL (None without ``node``)."""
    node = shutil.which("node")
    if node is None:
        yield None
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fast_endpoint.js")
    child = subprocess.Popen([node, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        yield url if url.startswith("http") else None
    finally:
        _stop(child)


def _stop(child: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if child.stdin:
        child.stdin.close()
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
