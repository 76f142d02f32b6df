"""InvokeWithResponseStream: a generator handler's items sent as they are produced.

The invocation runs on a helper thread (``Invoker.invoke`` blocks until the function ends)
while the HTTP thread writes each chunk the worker reports as a ``PayloadChunk`` event, in
an HTTP chunked body, then ``InvokeComplete`` with the error and the log tail. A handler
that returns a value instead of a generator answers it as one chunk, as Lambda does for a
function that does not stream. An error raised before the answer starts (throttling) is an
ordinary error answer; once the 200 is out, a failure can only end the stream.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from lambda_magic.sandbox._errors import ApiError
from lambda_magic.sandbox._event_stream import invoke_complete, payload_chunk
from lambda_magic.sandbox._invocation import Invocation, Outcome
from lambda_magic.sandbox._invoker import Invoker
from lambda_magic.sandbox._logs import tail_b64
from lambda_magic.sandbox._registry import Resolved

__all__ = ["PATH_PREFIX", "stream_answer"]

PATH_PREFIX = "2021-11-15"
_Item = bytes | Outcome | BaseException


def stream_answer(
    handler: Any, invoker: Invoker, target: Resolved, invocation: Invocation, headers: dict[str, str], *, tail: bool
) -> None:
    """Run ``invocation`` and answer ``handler``'s request with its event stream."""
    items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
    invocation.on_chunk = items.put
    threading.Thread(
        target=_run, args=(invoker, target, invocation, items), daemon=True, name="lambda-sandbox-stream"
    ).start()
    item = items.get()
    if isinstance(item, BaseException):
        raise item  # nothing was answered yet: an ordinary error answer
    _start(handler, {**headers, "X-Amz-Executed-Version": target.version.version})
    while isinstance(item, bytes):
        _write(handler, payload_chunk(item))
        item = items.get()
    if isinstance(item, BaseException):  # a sandbox fault mid-stream: the client sees it break
        handler.close_connection = True
        return
    _write(handler, _closing(invocation, item, tail=tail))
    handler.wfile.write(b"0\r\n\r\n")


def _run(invoker: Invoker, target: Resolved, invocation: Invocation, items: queue.SimpleQueue[_Item]) -> None:
    try:
        items.put(invoker.invoke(target, invocation))
    except BaseException as exc:  # handed to the HTTP thread
        items.put(exc if isinstance(exc, ApiError) else ApiError("ServiceException", 500, str(exc)))


def _closing(invocation: Invocation, outcome: Outcome, *, tail: bool) -> bytes:
    """The events after the streamed ones: a buffered answer as one chunk, InvokeComplete."""
    log = tail_b64(outcome.log) if tail else None
    if outcome.function_error:
        details = outcome.payload.decode("utf-8", "replace")
        return invoke_complete(error_code=outcome.function_error, error_details=details, log_result=log)
    head = b"" if invocation.chunks or not outcome.payload else payload_chunk(outcome.payload)
    return head + invoke_complete(log_result=log)


def _start(handler: Any, headers: dict[str, str]) -> None:
    lines = [
        "HTTP/1.1 200 OK",
        "Content-Type: application/vnd.amazon.eventstream",
        "Transfer-Encoding: chunked",
        *(f"{key}: {value}" for key, value in headers.items()),
    ]
    handler.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def _write(handler: Any, data: bytes) -> None:
    """One HTTP chunk, written at once (the socket writer is unbuffered)."""
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
