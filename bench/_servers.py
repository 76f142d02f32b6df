"""Endpoints for the benchmarks, each in its own process so it does not share our GIL.

``fake_server(delay)`` runs ``FakeLambda`` answering every call with its payload after
``delay`` seconds; ``sandbox_server()`` runs ``python -m lambda_magic.sandbox`` with the demo
functions (``echo``), or yields None when the sandbox cannot start here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["bench_env", "fake_server", "sandbox_server"]

_FAKE = """
import sys
from lambda_magic.testing import FakeLambda, Reply
delay = float(sys.argv[1])
fake = FakeLambda(default=lambda call: Reply.ok(call.payload, delay=delay)).start()
print(fake.url, flush=True)
sys.stdin.read()
"""


def bench_env() -> None:
    """Dummy credentials and a region, no user config: the benchmarks never reach AWS."""
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        os.environ.pop(name, None)


@contextmanager
def fake_server(delay: float) -> Iterator[str]:
    """A FakeLambda in a child process answering after ``delay`` s; yields its URL."""
    child = subprocess.Popen([sys.executable, "-c", _FAKE, str(delay)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        _stop(child)


@contextmanager
def sandbox_server() -> Iterator[str | None]:
    """``python -m lambda_magic.sandbox`` in a child process; yields its URL (None if it fails)."""
    port = _free_port()
    child = subprocess.Popen([sys.executable, "-m", "lambda_magic.sandbox", "--port", str(port), "--quiet"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{port}" if _wait_for(port, child) else None
    finally:
        _stop(child)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, child: subprocess.Popen[bytes], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(child: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    if child.stdin:
        child.stdin.close()
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
