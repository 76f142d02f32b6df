"""A worker's Runtime API serves that worker only: no other process takes or answers its events."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import invoke_json, lambda_client, running_sandbox, write_module

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

GATE = """
    import pathlib, time

    def handler(event, context):
        pathlib.Path(event["started"]).write_text("in")
        while not pathlib.Path(event["release"]).exists():
            time.sleep(0.01)
        return "released"
"""


def _runtime_api_of(pid: int) -> tuple[str, int]:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    value = next(v for v in environ if v.startswith(b"AWS_LAMBDA_RUNTIME_API="))
    host, port = value.split(b"=", 1)[1].decode().rsplit(":", 1)
    return host, int(port)


def _wait_for(path: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.01)
    return False


def _post(address: tuple[str, int], path: str, body: bytes) -> bytes:
    """A raw POST from this (foreign) process; what comes back before the server closes."""
    with socket.create_connection(address, timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {address[0]}\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        try:
            sock.sendall(head + body)
            return sock.recv(65536)
        except ConnectionResetError:
            return b""


def test_another_process_cannot_inject_an_error_into_a_running_invocation(tmp_path: Path) -> None:
    write_module(tmp_path / "code", "gate", GATE)
    started, release = tmp_path / "started", tmp_path / "release"
    results: list[Any] = []
    with running_sandbox(demo=False) as sandbox:
        sandbox.add_function("gate", code=tmp_path / "code" / "gate.py", timeout=30)
        event = {"started": str(started), "release": str(release)}
        caller = threading.Thread(target=lambda: results.append(invoke_json(lambda_client(sandbox), "gate", event)))
        caller.start()
        try:
            assert _wait_for(started)
            address = _runtime_api_of(sandbox.status()["workers"][0]["pid"])
            injected = b'{"errorMessage": "injected", "errorType": "Evil"}'
            assert _post(address, "/2018-06-01/runtime/init/error", injected) == b""
            assert _post(address, "/2018-06-01/runtime/invocation/next", b"") == b""
        finally:
            release.write_text("go")
            caller.join(timeout=30)
    response, body = results[0]
    assert body == "released"
    assert "FunctionError" not in response
