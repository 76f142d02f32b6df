"""``FakeLambda``: a scriptable loopback Invoke endpoint for testing code that calls Lambda.

It speaks the real HTTP API to an unmodified boto3 client (``endpoint_url=fake.url``) and
produces what moto cannot: function errors, log tails with REPORT lines, executed versions,
throttling with ``Retry-After``, 5xx answers, slow answers and dropped connections. It
counts every request it receives, per function and per ``"id"`` field of the payload, so a
test can prove that no invocation arrived twice. It binds to 127.0.0.1 only::

    with FakeLambda() as fake:
        fake.script("fn", Reply.throttle(retry_after=0.01), Reply.ok({"done": True}))
        client = boto3.client("lambda", endpoint_url=fake.url, region_name="us-east-1")
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

__all__ = ["Call", "FakeLambda", "Reply", "report_log"]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    function: str
    qualifier: str | None
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        """The request body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    """What the fake answers: status, body, headers, after ``delay`` seconds.

    ``drop=True`` reads the request and closes the connection without answering.
    """

    status: int = 200
    body: bytes = b"null"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def ok(cls, payload: Any = None, *, log: str | None = None, version: str = "$LATEST", delay: float = 0.0) -> Reply:
        """A successful synchronous answer with an optional log tail."""
        headers = {"X-Amz-Executed-Version": version}
        if log is not None:
            headers["X-Amz-Log-Result"] = base64.b64encode(log.encode()[-4096:]).decode()
        return cls(200, json.dumps(payload).encode(), headers, delay)

    @classmethod
    def function_error(
        cls,
        message: str,
        error_type: str = "ValueError",
        *,
        trace: list[str] | None = None,
        log: str | None = None,
        kind: str = "Unhandled",
    ) -> Reply:
        """The runtime's error payload with ``X-Amz-Function-Error``."""
        body = {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": str(uuid.uuid4()),
            "stackTrace": trace or ['  File "/var/task/app.py", line 3, in handler\n    raise\n'],
        }
        reply = cls.ok(body, log=log)
        reply.headers["X-Amz-Function-Error"] = kind
        return reply

    @classmethod
    def error(cls, status: int, code: str, message: str = "", **extra: Any) -> Reply:
        """An AWS error response, as botocore's rest-json parser reads it."""
        body = json.dumps({"Type": "User", "message": message or code, **extra}).encode()
        return cls(status, body, {"x-amzn-ErrorType": code})

    @classmethod
    def throttle(cls, retry_after: float = 0.05) -> Reply:
        """429 TooManyRequestsException with a ``Retry-After`` header."""
        reply = cls.error(429, "TooManyRequestsException", "Rate exceeded", Reason="ConcurrentInvocationLimitExceeded")
        reply.headers["Retry-After"] = f"{retry_after:g}"
        return reply


def report_log(
    request_id: str = "req-1", *, duration: float = 15.74, init: float | None = None, lines: tuple[str, ...] = ()
) -> str:
    """A log tail in Lambda's START / END / REPORT format."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration} ms\tBilled Duration: "
        f"{int(duration) + 1} ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB"
    )
    if init is not None:
        report += f"\tInit Duration: {init} ms"
    body = "".join(f"{line}\n" for line in lines)
    return f"START RequestId: {request_id} Version: $LATEST\n{body}END RequestId: {request_id}\n{report}\n"


Handler = Callable[[Call], Reply]


class FakeLambda:
    """A threaded loopback server speaking Lambda's Invoke API."""

    def __init__(self, *, default: Handler | None = None, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.per_function: Counter[str] = Counter()
        self.per_id: Counter[Any] = Counter()
        self._scripts: dict[str, deque[Reply]] = {}
        self._handlers: dict[str, Handler] = {}
        self._default = default or (lambda call: Reply.ok(call.payload))
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _RequestHandler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3 (``endpoint_url=``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, function: str, *replies: Reply) -> None:
        """Answer the next calls to ``function`` with ``replies``, in order."""
        with self._lock:
            self._scripts.setdefault(function, deque()).extend(replies)

    def on(self, function: str, handler: Handler) -> None:
        """Answer every call to ``function`` with ``handler(call)`` (after any script)."""
        self._handlers[function] = handler

    def reply_for(self, call: Call) -> Reply:
        """Record ``call`` and choose its reply."""
        with self._lock:
            self.calls.append(call)
            self.per_function[call.function] += 1
            payload = _safe_payload(call.body)
            if isinstance(payload, dict) and "id" in payload:
                self.per_id[payload["id"]] += 1
            script = self._scripts.get(call.function)
            if script:
                return script.popleft()
        return self._handlers.get(call.function, self._default)(call)

    def start(self) -> FakeLambda:
        """Serve in a daemon thread."""
        # A short poll: stop() waits for the loop to notice, 0.5 s by default, at every test's end.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLambda:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _safe_payload(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    fake: FakeLambda

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped connections are part of the script, not errors worth printing."""


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without TCP_NODELAY every small answer waits on Nagle plus delayed ACK (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log lines."""

    def do_POST(self) -> None:
        url = urlparse(self.path)
        parts = url.path.split("/")
        function = unquote(parts[3]) if len(parts) > 3 else ""
        qualifier = parse_qs(url.query).get("Qualifier", [None])[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        call = Call(function, qualifier, {k.lower(): v for k, v in self.headers.items()}, body)
        reply = self.server.fake.reply_for(call)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._answer(reply, call)

    def _answer(self, reply: Reply, call: Call) -> None:
        kind = call.headers.get("x-amz-invocation-type", "RequestResponse")
        status = reply.status
        body = reply.body
        if status == 200 and kind != "RequestResponse":
            status, body = (202, b"") if kind == "Event" else (204, b"")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in reply.headers.items():
            if kind == "RequestResponse" or not key.lower().startswith("x-amz-"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
