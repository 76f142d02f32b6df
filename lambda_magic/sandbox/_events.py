"""Event (asynchronous) invocations: a queue per function, as Lambda keeps one.

Each function's events wait in their own queue and are run by at most ``budget`` threads of
that function (its share of workers), so a slow or throttled function never holds back the
events of another. A throttled event (reserved concurrency used up) goes back to the head of
its queue and is retried with a growing backoff, as Lambda retries throttled events for hours
instead of dropping them; other failures end the event, whose log is kept like any other.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

from lambda_magic.sandbox._errors import ApiError
from lambda_magic.sandbox._invocation import Invocation
from lambda_magic.sandbox._registry import Resolved

__all__ = ["EventQueues"]

_log = logging.getLogger("lambda_magic.sandbox")
_FIRST_BACKOFF = 0.2
_MAX_BACKOFF = 5.0
Runner = Callable[[Resolved, Invocation], object]


class EventQueues:
    """Queued Event invocations, drained per function by up to ``budget`` threads each."""

    def __init__(self, run: Runner, *, budget: int) -> None:
        self._run = run
        self._budget = budget
        self._queues: dict[str, collections.deque[tuple[Resolved, Invocation]]] = collections.defaultdict(
            collections.deque
        )
        self._active: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def submit(self, target: Resolved, invocation: Invocation) -> None:
        """Queue an event for ``target``'s function; it runs in the background."""
        name = target.version.name
        with self._lock:
            self._queues[name].append((target, invocation))
            if self._active[name] >= self._budget or self._stopping.is_set():
                return
            self._active[name] += 1
        threading.Thread(target=self._drain, args=(name,), daemon=True, name=f"lambda-sandbox-events-{name}").start()

    def pending(self, function_name: str) -> int:
        """How many events of the function wait (not running)."""
        with self._lock:
            return len(self._queues.get(function_name, ()))

    def close(self) -> None:
        """Drop queued events; running ones end when their workers are killed."""
        self._stopping.set()
        with self._lock:
            self._queues.clear()

    def _drain(self, name: str) -> None:
        backoff = _FIRST_BACKOFF
        while (event := self._next(name)) is not None:
            try:
                self._run(*event)
                backoff = _FIRST_BACKOFF
            except ApiError as err:
                if err.code != "TooManyRequestsException":
                    _log.warning("sandbox dropped an event for %s: %s", name, err.message)
                    continue
                with self._lock:
                    self._queues[name].appendleft(event)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    def _next(self, name: str) -> tuple[Resolved, Invocation] | None:
        with self._lock:
            queue = self._queues.get(name)
            if self._stopping.is_set() or not queue:
                self._active[name] -= 1
                return None
            return queue.popleft()
