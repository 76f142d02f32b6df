"""One invocation on its way through a worker, and the error bodies Lambda itself makes.

The HTTP thread that received Invoke creates the ``Invocation``; the worker's Runtime API
thread hands it to the runtime and records its answer; whichever of "answered", "timed out"
and "worker died" happens first wins, the others are ignored.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "MAX_SYNC_PAYLOAD",
    "Invocation",
    "Outcome",
    "exit_error",
    "new_trace_id",
    "response_too_large_error",
    "timeout_error",
]

# Lambda's synchronous request and response limit (6 MB), in bytes as Lambda counts them.
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024


@dataclass(eq=False)
class Invocation:
    """An event for one worker, and the answer once there is one."""

    payload: bytes
    invoked_arn: str
    timeout: int
    client_context: str | None = None
    tenant_id: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str = field(default_factory=lambda: new_trace_id())
    deadline_ms: int = 0
    dispatched_at: float = 0.0
    answered_at: float = 0.0
    response: bytes = b""
    is_error: bool = False
    #: What a generator handler produced so far, item by item (see ``_bootstrap``).
    chunks: list[bytes] = field(default_factory=list)
    #: Called with each chunk as it arrives (InvokeWithResponseStream sets it).
    on_chunk: Callable[[bytes], None] | None = None
    dispatched: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def dispatch(self) -> None:
        """Mark the moment the runtime received the event; the deadline starts now."""
        self.dispatched_at = time.perf_counter()
        self.deadline_ms = int(time.time() * 1000) + self.timeout * 1000
        self.dispatched.set()

    def add_chunk(self, data: bytes) -> bool:
        """Record one streamed item of a running invocation; False once it is answered."""
        with self._lock:
            if self.done.is_set():
                return False
            self.chunks.append(data)
        if self.on_chunk is not None:
            self.on_chunk(data)
        return True

    def finish(self, response: bytes, *, is_error: bool) -> bool:
        """Record the answer unless one was recorded already; True if this one counts.

        A streamed answer's payload is its chunks joined (the runtime answers an empty body
        after them); an error replaces it.
        """
        with self._lock:
            if self.done.is_set():
                return False
            if self.chunks and not is_error:
                response = b"".join(self.chunks) + response
            self.answered_at = time.perf_counter()
            self.response = response
            self.is_error = is_error
            self.dispatched.set()  # an init failure answers before any dispatch
            self.done.set()
            return True


@dataclass
class Outcome:
    """What Invoke answers for one finished invocation."""

    request_id: str
    executed_version: str
    payload: bytes
    function_error: str | None
    log: bytes


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda passes it (``Lambda-Runtime-Trace-Id``), not sampled."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _now_iso() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def timeout_error(request_id: str, seconds: float) -> bytes:
    """The body Lambda answers when a function overruns its timeout."""
    message = f"{_now_iso()} {request_id} Task timed out after {seconds:.2f} seconds"
    return json.dumps({"errorMessage": message, "errorType": "Sandbox.Timedout"}).encode()


def exit_error(request_id: str, returncode: int | None) -> bytes:
    """The body Lambda answers when the runtime process dies during an invocation."""
    if returncode is not None and returncode < 0:
        import signal

        reason = f"signal: {signal.Signals(-returncode).name.removeprefix('SIG').lower()}"
    else:
        reason = f"exit status {returncode}"
    message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
    return json.dumps({"errorMessage": message, "errorType": "Runtime.ExitError"}).encode()


def response_too_large_error() -> bytes:
    """The body Lambda answers when a function returns more than 6 MB."""
    message = f"Response payload size exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes)."
    return json.dumps({"errorMessage": message, "errorType": "Function.ResponseSizeTooLarge"}).encode()
