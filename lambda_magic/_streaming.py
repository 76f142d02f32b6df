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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import InterruptedInvocationError, InvocationUnknownError

if TYPE_CHECKING:
    from lambda_magic._engine import CallContext
    from lambda_magic._request import InvokeRequest

__all__ = ["ChunkSink", "send"]

#: Receives each chunk's bytes as it arrives.
ChunkSink = Callable[[bytes], None]


def send(
    client: Any, params: dict[str, Any], request: InvokeRequest, context: CallContext, on_chunk: ChunkSink | None = None
) -> dict[str, Any]:
    """Call InvokeWithResponseStream and read it to the end; an ``invoke``-shaped answer.

    The answer has ``Payload`` (the chunks joined), ``Chunks``, and ``FunctionError``,
    ``ErrorDetails`` and ``LogResult`` from ``InvokeComplete``.
    """
    answer = client.invoke_with_response_stream(**params)
    chunks: list[bytes] = []
    accepted = _Accepted(request, context, answer.get("ResponseMetadata", {}).get("RequestId"))
    complete = _read(answer["EventStream"], chunks, on_chunk, accepted)
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


@dataclass(frozen=True)
class _Accepted:
    """A call Lambda accepted: what its errors must name (the request id finds its logs)."""

    request: InvokeRequest
    context: CallContext
    request_id: str | None

    @property
    def target(self) -> str:
        name = self.request.function_name
        return f"{name}:{self.request.qualifier}" if self.request.qualifier else name

    @property
    def logs_hint(self) -> str:
        rid = self.request_id
        return f"%lambda_logs {self.request.function_name} --request-id {rid}" if rid else "its logs"

    def details(self) -> dict[str, Any]:
        return {"function": self.request.function_name, "region": self.context.region, "request_id": self.request_id}


def _read(stream: Any, chunks: list[bytes], on_chunk: ChunkSink | None, accepted: _Accepted) -> dict[str, Any]:
    """Every event until ``InvokeComplete``; its fields."""
    complete: dict[str, Any] | None = None
    try:
        for event in _events(stream, chunks, accepted):
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
            f"stopped reading the response stream of {accepted.target} after {_received(chunks)}: "
            f"the function may still be running in Lambda; it was not re-sent (see {accepted.logs_hint})",
            **accepted.details(),
        ) from None
    if complete is None:
        raise _broken(accepted, chunks, "it ended without InvokeComplete")
    return complete


def _events(stream: Any, chunks: list[bytes], accepted: _Accepted) -> Iterator[dict[str, Any]]:
    """The stream's events; a failure to read one is the stream breaking."""
    events = iter(stream)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return
        except Exception as exc:
            raise _mapped(exc, accepted, chunks) from exc
        yield event


def _mapped(exc: Exception, accepted: _Accepted, chunks: list[bytes]) -> InvocationUnknownError:
    from lambda_magic._engine import map_error

    error = map_error(exc, request=accepted.request, context=accepted.context)
    why = str(error)
    if isinstance(error, InvocationUnknownError):  # keep its cause; _broken gives the advice
        why = why.split(":", 1)[0]
    return _broken(accepted, chunks, why)


def _broken(accepted: _Accepted, chunks: list[bytes], why: str) -> InvocationUnknownError:
    return InvocationUnknownError(
        f"the response stream of {accepted.target} broke after {_received(chunks)} ({why}): "
        f"the function may have run; it was not re-sent, check {accepted.logs_hint} before "
        "invoking again",
        **accepted.details(),
    )


def _received(chunks: list[bytes]) -> str:
    return f"{len(chunks):,} chunk{'' if len(chunks) == 1 else 's'}"
