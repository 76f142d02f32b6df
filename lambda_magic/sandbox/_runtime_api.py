"""The Lambda Runtime API of one execution environment, as awslambdaric polls it.

Each worker gets its own listening socket on 127.0.0.1, as each Lambda execution environment
has its own Runtime API: the endpoint then tells which worker is asking, which a shared
endpoint could not (a TCP peer does not say its PID). awslambdaric keeps one keep-alive
connection for ``/next`` and the answers; init errors come on a second, short connection.

Only the worker itself gets in: awslambdaric takes a bare ``host:port`` (no path or header
could carry a token), so each accepted connection's client socket is looked up in
``/proc/net/tcp`` and must be one of the worker process's own descriptors. Any other local
process (or a web page) cannot take the worker's event or inject an error into its answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
from typing import Protocol

from lambda_magic.sandbox._http import LeanHandler
from lambda_magic.sandbox._invocation import Invocation

__all__ = ["RuntimeApi", "RuntimeBackend", "connection_owned_by"]

_log = logging.getLogger("lambda_magic.sandbox")
_NEXT = "/2018-06-01/runtime/invocation/next"
_ANSWER = re.compile(r"/2018-06-01/runtime/invocation/(?P<id>[^/]+)/(?P<kind>response|error)")
_CHUNK = re.compile(r"/2018-06-01/runtime/invocation/(?P<id>[^/]+)/chunk")  # the sandbox's own
_INIT_ERROR = "/2018-06-01/runtime/init/error"
_ACCEPTED = b'{"status":"OK"}'


class RuntimeBackend(Protocol):
    """What a Runtime API needs from its worker."""

    def owner_pid(self) -> int | None:
        """The process allowed to connect (None if it never started)."""

    def next_invocation(self) -> Invocation | None:
        """Block until there is an event for this worker; None when it is being stopped."""

    def answer(self, request_id: str, body: bytes, *, is_error: bool) -> bool:
        """Record the answer to ``request_id``; False if no such invocation is running."""

    def init_failed(self, body: bytes) -> None:
        """Record that the handler could not be loaded (the runtime exits next)."""

    def chunk(self, request_id: str, body: bytes) -> bool:
        """Record one item a generator handler produced; False if ``request_id`` is not running."""


class RuntimeApi:
    """A Runtime API endpoint serving one worker on its own port."""

    def __init__(self, backend: RuntimeBackend) -> None:
        self.backend = backend
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="lambda-sandbox-runtime-api")

    @property
    def address(self) -> str:
        """``host:port`` for ``AWS_LAMBDA_RUNTIME_API``."""
        host, port = self._sock.getsockname()
        return f"{host}:{port}"

    def start(self) -> None:
        """Accept connections in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and drop open connections."""
        # shutdown() wakes a thread blocked in accept() on Linux; close() alone would not.
        for sock in [self._sock, *self._snapshot()]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    def _snapshot(self) -> list[socket.socket]:
        with self._lock:
            return list(self._connections)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, peer = self._sock.accept()
            except OSError:
                return
            owner = self.backend.owner_pid()
            if owner is None or not connection_owned_by(conn, owner):
                _log.warning("sandbox refused a Runtime API connection from port %s: not worker pid %s", peer[1], owner)
                conn.close()
                continue
            with self._lock:
                self._connections.add(conn)
            threading.Thread(
                target=self._serve, args=(conn, peer), daemon=True, name="lambda-sandbox-runtime-conn"
            ).start()

    def _serve(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        try:
            _RuntimeHandler(conn, peer, self)  # type: ignore[arg-type]
        except OSError:
            pass  # the worker died or was killed mid-request
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()


class _RuntimeHandler(LeanHandler):
    server: RuntimeApi  # type: ignore[assignment]

    def do_GET(self) -> None:
        if self.path != _NEXT:
            self.send_json(404, {"errorMessage": "unknown path", "errorType": "NotFound"})
            return
        invocation = self.server.backend.next_invocation()
        if invocation is None:
            self.close_connection = True
            self.send_json(500, {"errorMessage": "stopping", "errorType": "Runtime.Stopping"})
            return
        self.send(200, invocation.payload, _event_headers(invocation))

    def do_POST(self) -> None:
        body = self.read_body() or b""
        match = _ANSWER.fullmatch(self.path)
        if match:
            known = self.server.backend.answer(match["id"], body, is_error=match["kind"] == "error")
            if known:
                self.send(202, _ACCEPTED)
            else:
                self.send_json(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
        elif chunk := _CHUNK.fullmatch(self.path):
            if self.server.backend.chunk(chunk["id"], body):
                self.send(202, _ACCEPTED)
            else:
                self.send_json(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
        elif self.path == _INIT_ERROR:
            self.server.backend.init_failed(body)
            self.send(202, _ACCEPTED)
        else:
            self.send_json(404, {"errorMessage": "unknown path", "errorType": "NotFound"})


def _event_headers(invocation: Invocation) -> dict[str, str]:
    headers = {
        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
        "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_arn,
        "Lambda-Runtime-Trace-Id": invocation.trace_id,  # the runtime sets _X_AMZN_TRACE_ID
    }
    if invocation.client_context:
        headers["Lambda-Runtime-Client-Context"] = invocation.client_context
    if invocation.tenant_id:
        headers["Lambda-Runtime-Aws-Tenant-Id"] = invocation.tenant_id
    return headers


def connection_owned_by(conn: socket.socket, pid: int) -> bool:
    """Whether the client end of accepted ``conn`` is a descriptor of process ``pid``."""
    inode = _client_inode(conn.getpeername()[1], conn.getsockname()[1])
    if not inode:
        return False
    target = f"socket:[{inode}]"
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in descriptors:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
    return False


def _client_inode(client_port: int, server_port: int) -> int | None:
    """The socket inode of the loopback TCP connection from ``client_port`` to ``server_port``."""
    try:
        with open("/proc/net/tcp", encoding="ascii") as table:
            next(table)
            for line in table:
                fields = line.split()
                local, remote = fields[1], fields[2]
                if int(local.rsplit(":", 1)[1], 16) == client_port and int(remote.rsplit(":", 1)[1], 16) == server_port:
                    return int(fields[9])
    except (OSError, ValueError, IndexError):
        pass
    return None
