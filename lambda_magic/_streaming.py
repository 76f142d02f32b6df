"""Response streaming: one call of ``InvokeWithResponseStream``, read chunk by chunk.

The engine calls ``send`` for a request with ``stream=True``. Until Lambda answers 200 the
call is like ``Invoke``: errors are mapped and retried by the engine's rules. Once the
answer has started the function is running, so nothing here is ever re-sent: a stream that
breaks (dropped connection, read timeout between chunks, an exception event, no closing
``InvokeComplete``) is an ``InvocationUnknownError`` ("may have run"), and Ctrl-C stops
reading with an ``InterruptedInvocationError`` saying the function may still run.
Each chunk goes to ``on_chunk`` as it arrives (the live display); the answer joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import InterruptedInvocationError, InvocationUnknownError

if TYPE_CHECKING:
    from lambda_magic._engine import CallContext
    from lambda_magic._request import InvokeRequest

__all__ = ["ChunkSink", "send"]

#: Receives each chunk's bytes as it arrives.
ChunkSink = Callable[[bytes], None]


def send(client: Any, params: dict[str, Any], request: InvokeRequest, context: CallContext,
         on_chunk: ChunkSink | None = None) -> dict[str, Any]:
    """Call InvokeWithResponseStream and read it to the end; an ``invoke``-shaped answer.

    The answer has ``Payload`` (the chunks joined), ``Chunks``, and ``FunctionError``,
    ``ErrorDetails`` and ``LogResult`` from ``InvokeComplete``.
    """
    answer = client.invoke_with_response_stream(**params)
    chunks: list[bytes] = []
    complete = _read(answer["EventStream"], chunks, on_chunk, request, context)
    return {
        "StatusCode": answer.get("StatusCode"),
        "ExecutedVersion": answer.get("ExecutedVersion"),
        "ResponseMetadata": answer.get("ResponseMetadata", {}),
        "Payload": b"".join(chunks),
        "Chunks": tuple(chunks),
        "FunctionError": complete.get("ErrorCode") or None,
        "ErrorDetails": complete.get("ErrorDetails"),
        "LogResult": complete.get("LogResult"),
    }


def _read(stream: Any, chunks: list[bytes], on_chunk: ChunkSink | None, request: InvokeRequest,
          context: CallContext) -> dict[str, Any]:
    """Every event until ``InvokeComplete``; its fields."""
    complete: dict[str, Any] | None = None
    try:
        for event in _events(stream, chunks, request, context):
            if "PayloadChunk" in event:
                data = event["PayloadChunk"].get("Payload") or b""
                chunks.append(data)
                if on_chunk is not None:
                    on_chunk(data)
            elif "InvokeComplete" in event:
                complete = event["InvokeComplete"]
    except KeyboardInterrupt:
        stream.close()
        raise InterruptedInvocationError(
            f"stopped reading the response stream of {_target(request)} after {_received(chunks)}: "
            "the function may still be running in Lambda; it was not re-sent",
            function=request.function_name, region=context.region) from None
    if complete is None:
        raise _broken(request, context, chunks, "it ended without InvokeComplete")
    return complete


def _events(stream: Any, chunks: list[bytes], request: InvokeRequest,
            context: CallContext) -> Iterator[dict[str, Any]]:
    """The stream's events; a failure to read one is the stream breaking."""
    events = iter(stream)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return
        except Exception as exc:
            raise _mapped(exc, request, context, chunks) from exc
        yield event


def _mapped(exc: Exception, request: InvokeRequest, context: CallContext,
            chunks: list[bytes]) -> InvocationUnknownError:
    from lambda_magic._engine import map_error

    error = map_error(exc, request=request, context=context)
    if isinstance(error, InvocationUnknownError):
        return error
    return _broken(request, context, chunks, str(error))


def _broken(request: InvokeRequest, context: CallContext, chunks: list[bytes],
            why: str) -> InvocationUnknownError:
    return InvocationUnknownError(
        f"the response stream of {_target(request)} broke after {_received(chunks)} ({why}): "
        "the function may have run; it was not re-sent, check its logs before invoking again",
        function=request.function_name, region=context.region)


def _received(chunks: list[bytes]) -> str:
    return f"{len(chunks):,} chunk{'' if len(chunks) == 1 else 's'}"


def _target(request: InvokeRequest) -> str:
    name = request.function_name
    return f"{name}:{request.qualifier}" if request.qualifier else name
