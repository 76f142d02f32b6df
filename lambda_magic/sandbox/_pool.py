"""Which worker runs an invocation: warm reuse, scale-out and reserved concurrency.

Each function has a pool. An invocation takes the most recently used idle worker of its
version (Lambda keeps recently used environments warm the same way), or starts a new one
while the function has fewer than ``max_workers``; past that it waits for one to come back.
A function with reserved concurrency instead refuses (``TooManyRequestsException``) once
that many of its invocations are running, as Lambda does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lambda_magic.sandbox._errors import ApiError
from lambda_magic.sandbox._registry import LATEST, FunctionVersion
from lambda_magic.sandbox._workers import Worker

__all__ = ["FunctionPool", "Pools", "throttled"]


def throttled() -> ApiError:
    """TooManyRequestsException as Lambda sends it when reserved concurrency is used up."""
    return ApiError(
        "TooManyRequestsException",
        429,
        "Rate Exceeded.",
        fields={"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
        headers={"Retry-After": "1"},
    )


class FunctionPool:
    """The workers of one function, across its versions."""

    def __init__(self, max_workers: int, make_worker: Callable[[FunctionVersion], Worker]) -> None:
        self._max_workers = max_workers
        self._make_worker = make_worker
        self._workers: list[Worker] = []
        self._idle: list[Worker] = []  # most recently used last
        self._starting = 0
        self._running = 0
        self._closed = False
        self._cond = threading.Condition()

    def acquire(self, spec: FunctionVersion, reserved: int | None) -> Worker:
        """A worker for ``spec``, warm if one is idle; raises throttling past ``reserved``."""
        with self._cond:
            if reserved is not None and self._running >= reserved:
                raise throttled()
            self._running += 1
            try:
                warm = self._wait_for_slot(spec)
            except BaseException:
                self._running -= 1
                raise
        return warm if warm is not None else self._start(spec)

    def _wait_for_slot(self, spec: FunctionVersion) -> Worker | None:
        """Under the lock: an idle worker for ``spec``, or None once a new one may start."""
        while True:
            self._retire_stale(spec)
            for worker in reversed(self._idle):
                if worker.spec is spec:
                    self._idle.remove(worker)
                    return worker
            if len(self._workers) + self._starting < self._max_workers:
                self._starting += 1
                return None
            if self._idle:  # full of other versions' idle workers: make room
                self._evict(self._idle[0])
                continue
            self._cond.wait()

    def _retire_stale(self, spec: FunctionVersion) -> None:
        """Kill idle workers built for an older configuration of ``$LATEST``."""
        for worker in list(self._idle):
            stale = worker.spec.version == spec.version == LATEST and worker.spec is not spec
            if stale or worker.state == "dead":
                self._evict(worker)

    def _evict(self, worker: Worker) -> None:
        self._idle.remove(worker)
        self._workers.remove(worker)
        worker.kill()

    def _start(self, spec: FunctionVersion) -> Worker:
        try:
            worker = self._make_worker(spec)
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._running -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            if not self._closed:
                self._workers.append(worker)
                return worker
        worker.kill()  # the sandbox stopped while this one was starting
        raise ApiError("ServiceException", 500, "The sandbox is stopping.")

    def release(self, worker: Worker) -> None:
        """Give a worker back after its invocation; dead ones are dropped."""
        with self._cond:
            self._running -= 1
            if worker.state == "dead":
                if worker in self._workers:
                    self._workers.remove(worker)
            else:
                self._idle.append(worker)
            self._cond.notify()

    def drop_idle(self) -> None:
        """Kill the idle workers: the function was redefined."""
        with self._cond:
            for worker in list(self._idle):
                self._evict(worker)

    def workers(self) -> list[Worker]:
        """The pool's workers, live or not yet dropped."""
        with self._cond:
            return list(self._workers)

    def close(self) -> list[Worker]:
        """Forget every worker and return them (the caller kills them)."""
        with self._cond:
            self._closed = True
            workers, self._workers, self._idle = self._workers, [], []
            self._cond.notify_all()
            return workers


class Pools:
    """The pools of all functions of a sandbox."""

    def __init__(self, max_workers: int, make_worker: Callable[[FunctionVersion], Worker]) -> None:
        self._max_workers = max_workers
        self._make_worker = make_worker
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    @property
    def max_workers(self) -> int:
        """The most workers one function may have."""
        return self._max_workers

    def pool(self, function_name: str) -> FunctionPool:
        """The pool of ``function_name``, made on first use."""
        pool = self._pools.get(function_name)
        if pool is None:
            with self._lock:
                pool = self._pools.setdefault(function_name, FunctionPool(self._max_workers, self._make_worker))
        return pool

    def describe(self) -> list[dict[str, Any]]:
        """Every worker as plain data."""
        return [worker.describe() for pool in list(self._pools.values()) for worker in pool.workers()]

    def close(self) -> list[Worker]:
        """Empty every pool and return all workers (the caller kills them)."""
        with self._lock:
            pools = list(self._pools.values())
        return [worker for pool in pools for worker in pool.close()]
