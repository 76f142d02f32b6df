"""Running an invocation end to end: pick a worker, run, build the answer and its log.

Synchronous invocations run on the HTTP thread that received them. Event invocations are
answered 202 at once and wait in their function's queue (``_events``).
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable

from lambda_magic.sandbox._events import EventQueues
from lambda_magic.sandbox._invocation import (
    MAX_SYNC_PAYLOAD,
    Invocation,
    Outcome,
    response_too_large_error,
)
from lambda_magic.sandbox._logs import PlatformLog
from lambda_magic.sandbox._pool import Pools
from lambda_magic.sandbox._registry import FunctionVersion, Resolved
from lambda_magic.sandbox._workers import Run

__all__ = ["Invoker", "LogSink"]

LogSink = Callable[[str, bytes], None]
#: Receives (function name, log stream, log) of every finished invocation.
LogRecorder = Callable[[str, str, bytes], None]
_RECENT_LOGS = 20


class Invoker:
    """Runs invocations on the sandbox's pools."""

    def __init__(
        self, pools: Pools, *, log_sink: LogSink | None = None, log_recorder: LogRecorder | None = None
    ) -> None:
        self._pools = pools
        self._log_sink = log_sink
        self._log_recorder = log_recorder
        self._events = EventQueues(self.invoke, budget=pools.max_workers)
        self._recent: dict[str, collections.deque[bytes]] = collections.defaultdict(
            lambda: collections.deque(maxlen=_RECENT_LOGS)
        )

    def invoke(self, target: Resolved, invocation: Invocation) -> Outcome:
        """Run ``invocation`` on a worker of ``target`` and return what Invoke answers."""
        spec = target.version
        pool = self._pools.pool(spec.name)
        worker = pool.acquire(spec, target.function.reserved_concurrency)
        try:
            run = worker.run(invocation)
        finally:
            pool.release(worker)
        payload, error = invocation.response, "Unhandled" if invocation.is_error else None
        if error is None and len(payload) > MAX_SYNC_PAYLOAD:
            payload, error = response_too_large_error(), "Unhandled"
        log = _log_of(invocation, spec, run, error_body=payload if run.timed_out else None)
        self._recent[spec.name].append(log)
        if self._log_recorder is not None:
            self._log_recorder(spec.name, run.log_stream, log)
        if self._log_sink is not None:
            self._log_sink(spec.name, log)
        return Outcome(invocation.request_id, spec.version, payload, error, log)

    def submit_event(self, target: Resolved, invocation: Invocation) -> None:
        """Queue an Event invocation; it runs in the background."""
        self._events.submit(target, invocation)

    def recent_logs(self, function_name: str) -> list[bytes]:
        """The logs of the function's last invocations, oldest first."""
        return list(self._recent.get(function_name, ()))

    def close(self) -> None:
        """Drop queued events; running ones end when their workers are killed."""
        self._events.close()


def _log_of(invocation: Invocation, spec: FunctionVersion, run: Run, error_body: bytes | None) -> bytes:
    """The invocation's log as Lambda writes it: init output, START, output, END, REPORT."""
    rid = invocation.request_id
    platform = PlatformLog(spec.log_format, spec.system_log_level)
    parts = [run.init_output, platform.start(rid, spec.version), run.output]
    if error_body is not None:  # Lambda logs the timeout message itself
        parts.append(f"{json.loads(error_body)['errorMessage']}\n".encode())
    parts += [
        platform.end(rid),
        platform.report(
            rid,
            duration_ms=run.duration_ms,
            memory_mb=spec.memory,
            max_memory_mb=run.max_memory_mb,
            init_ms=run.init_ms,
            status="timeout" if run.timed_out else "success",
        ),
    ]
    return b"".join(parts)
