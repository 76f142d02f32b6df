"""Fan-out: one invocation per event, at bounded and adaptive concurrency, nothing lost.

Every call takes the single path (``_invoke.execute``: the engine, then the history) on one
shared client whose connection pool is as large as the concurrency. The main thread reads
the events lazily, one per free slot of an ``AdaptiveLimiter``, and keeps the progress bar;
worker threads send. Each input ends with exactly one entry, in input order
(``LambdaResponses``). Throttled calls are retried by the engine (backoff, jitter,
``Retry-After``) while the limiter halves the calls in flight; a call Lambda may have
accepted is never re-sent. Ctrl-C stops starting calls and returns what completed, with
entries saying which calls were in flight and which never started.
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from contextlib import suppress
from functools import partial
from typing import Any, Protocol

from lambda_magic._exceptions import (
    EndpointUnreachableError,
    InterruptedInvocationError,
    InvokeError,
    LambdaMagicError,
    ParameterError,
    PayloadError,
    ThrottledError,
)
from lambda_magic._fanout_results import Entry, FailedInvocation, LambdaResponses, Outcome
from lambda_magic._limiter import AdaptiveLimiter, Slot
from lambda_magic._payload import PayloadTemplate, encode_payload, expand_payload
from lambda_magic._request import InvokeRequest, make_request
from lambda_magic._settings import Settings, resolve_settings

__all__ = ["ProgressBar", "cell_event", "cell_events", "fan_out", "index_ranges", "invoke_many", "progress_bar"]

#: Seconds between progress updates while calls complete (20 a second; also how soon
#: Ctrl-C is noticed). tqdm's own throttling is off: it showed 1 then 174 of 300.
TICK = 0.05

_NAME_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

Build = Callable[[int, Any], InvokeRequest]


def invoke_many(
    function: str,
    events: Iterable[Any],
    *,
    concurrency: int | None = None,
    invocation_type: str = "RequestResponse",
    qualifier: str | None = None,
    client_context: Any = None,
    log: bool | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    read_timeout: float | None = None,
    progress: bool = True,
) -> LambdaResponses:
    """Invoke ``function`` once per event and return every result, in input order.

    ``events`` is any iterable (a generator is read lazily, one event per free slot); each
    event is a payload as ``invoke()`` takes it (str is JSON text, bytes are sent as is).
    At most ``concurrency`` calls (default: the ``max_concurrency`` setting) are in flight;
    throttling halves that until Lambda recovers. A failed call stays in the results as a
    ``FailedInvocation``; Ctrl-C returns what completed. ``progress`` shows a progress bar.
    """
    settings = resolve_settings(
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        read_timeout=read_timeout,
        max_concurrency=concurrency,
    )
    return fan_out(
        function,
        events,
        settings,
        progress=progress,
        invocation_type=invocation_type,
        qualifier=qualifier,
        client_context=client_context,
        log=settings.log_tail if log is None else log,
    )


def fan_out(
    function: str,
    events: Iterable[Any],
    settings: Settings,
    *,
    encode: Callable[[Any], bytes | None] = encode_payload,
    label: str | None = None,
    origin: str = "api",
    cell: str | None = None,
    progress: bool = True,
    client: Any = None,
    bar: ProgressBar | None = None,
    **fields: Any,
) -> LambdaResponses:
    """Run the fan-out: ``fields`` are ``make_request``'s keywords, shared by every call.

    They are checked once before anything is sent. ``encode`` turns an event into payload
    bytes; with ``label`` each request records ``label[i]`` and its event as substitution.
    ``client`` replaces the shared client built from the settings (a transport seam);
    ``bar`` replaces the progress bar (tqdm's when ``progress``).
    """
    _check_events(events)
    shared = make_request(function, None, **fields)
    fields["client_context"] = shared.client_context

    def build(index: int, event: Any) -> InvokeRequest:
        if label:  # element i of a named list: the template is that element, ${label[i]}
            slot = f"{label}[{index}]"
            extra = {"substitutions": ((slot, event),), "template": PayloadTemplate.slot(slot)}
        else:  # element i of a JSON array as written: sent as the literal it expanded to
            extra = {"substitutions": fields.get("substitutions", ()), "template": None}
        return make_request(function, encode(event), **{**fields, **extra})

    run = _Run(function, build, settings, origin=origin, cell=cell, client=client)
    return run.run(events, bar=bar if bar is not None else progress_bar(function, _length(events), enabled=progress))


def _length(events: Iterable[Any]) -> int | None:
    return len(events) if isinstance(events, Sized) else None


def _check_events(events: Any) -> None:
    kind = type(events).__name__
    if kind == "DataFrame":  # iterating one gives its column names, never what was meant
        raise ParameterError("events is a DataFrame: pass df.to_dict('records') for one event per row")
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
        raise ParameterError(
            f"events must be a list or other iterable of events, not a {kind}: "
            'pass a list, e.g. [{"id": 1}, {"id": 2}]'
        )


def cell_events(text: str, namespace: Mapping[str, Any]) -> tuple[Iterable[Any], dict[str, Any]]:
    """The events of a ``--each`` cell, and the ``fan_out`` keywords that record their origin.

    The body is a JSON array (``${expr}`` expanded once, before splitting) or ``$name`` of
    a list or other iterable in the notebook.
    """
    body = text.strip()
    if not body:
        raise PayloadError("--each needs events: a JSON array in the cell, or $name of a list")
    whole = _NAME_RE.fullmatch(body)
    if whole:
        return _named_events(whole.group(1), namespace), {"label": whole.group(1)}
    expanded = expand_payload(body, namespace)
    events = json.loads(expanded.data or b"null")
    if not isinstance(events, list):
        kinds: dict[type, str] = {dict: "object", str: "string"}
        kind = kinds.get(type(events), type(events).__name__)
        raise PayloadError(f"--each needs a JSON array of events, not a JSON {kind}: wrap the events in [ ]")
    return events, {"substitutions": expanded.substitutions}


def _named_events(name: str, namespace: Mapping[str, Any]) -> Iterable[Any]:
    if name not in namespace:
        raise PayloadError(f"${name}: name {name!r} is not defined in the notebook; define it first")
    value = namespace[name]
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise PayloadError(
            f"--each: ${name} is a {type(value).__name__}, not a list of events: "
            "give a list (or other iterable) of events"
        )
    return value


def cell_event(value: Any) -> bytes | None:
    """A cell's event as payload bytes: every value JSON-encoded, strings included."""
    return json.dumps(value).encode() if isinstance(value, str) else encode_payload(value)


class ProgressBar(Protocol):
    """What the fan-out needs of a progress bar (tqdm's methods of the same names).

    It is shown (``refresh``) before anything is sent, then told of completed calls at
    most every ``TICK`` seconds and at least that often while calls complete.
    """

    def update(self, n: int) -> Any:
        """``n`` more calls completed."""

    def set_postfix_str(self, text: str, refresh: bool = True) -> Any:
        """A note after the bar (throttling)."""

    def refresh(self) -> Any:
        """Draw the bar now."""

    def close(self) -> Any:
        """The fan-out is over."""


class _NoBar:
    """Stands in for tqdm when progress is off."""

    def update(self, n: int) -> None:
        """Nothing to show."""

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        """Nothing to show."""

    def refresh(self) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(function: str, total: int | None, *, enabled: bool) -> ProgressBar:
    """A progress bar: a widget in a Jupyter kernel, text on stderr elsewhere, or a silent
    stand-in.

    Chosen on each call, not by ``tqdm.auto``, which decides once at its first import: a
    terminal session that imported it while a kernel-like shell was set up kept the
    widget bar, printing it as text to stdout. tqdm's own throttling is off (every update
    is drawn): the fan-out paces its updates.
    """
    if not enabled:
        return _NoBar()
    if _in_kernel():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    bar: ProgressBar = tqdm(total=total, desc=function, unit="call", dynamic_ncols=True, mininterval=0, miniters=1)
    return bar


def _in_kernel() -> bool:
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class _Run:
    """One fan-out in progress: the shared client, the limiter, the workers, every entry.

    The main thread reads the events (at most ``concurrency`` ahead of the workers), builds
    their requests and shows progress; worker threads take requests from a queue, wait for
    a limiter slot and send. Nothing waits on the main thread between two calls.
    """

    def __init__(
        self, function: str, build: Build, settings: Settings, *, origin: str, cell: str | None, client: Any = None
    ) -> None:
        from lambda_magic.runbook._history import history

        self.function = function
        self.build = build
        self.settings = settings
        self.origin, self.cell = origin, cell
        self.started_in = history.current_cell()  # calls in flight at Ctrl-C finish after the cell
        self.concurrency = settings.max_concurrency
        self.client = client  # built in run(), once the progress bar shows
        self.limiter = AdaptiveLimiter(self.concurrency)
        # SimpleQueue: its get() blocks in C; a Queue's Python condition costs every call a wakeup.
        self.queue: queue.SimpleQueue[tuple[int, InvokeRequest] | None] = queue.SimpleQueue()
        self.ahead = 2 * self.concurrency  # requests read but unfinished, at most
        self.entries: list[Entry | None] = []
        self.pending: dict[int, InvokeRequest] = {}  # queued or sending, not finished
        self.in_flight: set[int] = set()  # taken by a worker past the cancel check
        self.waiting: set[int] = set()  # of those, waiting to retry: Lambda has not accepted them
        self.peak = 0  # the most calls in flight at once
        self.done = 0
        self.shown = 0
        self.next_tick = 0.0  # monotonic time of the next progress update
        self.draining = False
        self.reader_waiting = False
        self.cancelled = False
        self.changed = threading.Condition()

    def run(self, events: Iterable[Any], *, bar: ProgressBar) -> LambdaResponses:
        """Send every event; on Ctrl-C, stop starting calls and return what completed."""
        started = time.perf_counter()
        bar.refresh()  # shown before the client is built (boto3, credentials) and anything is sent
        total = _length(events)
        interrupted, note, workers = False, None, []
        try:
            self._connect()
            workers = self._start_workers(self.concurrency if total is None else max(1, min(total, self.concurrency)))
            note = self._dispatch(iter(events), bar)
            self._drain(bar)
        except KeyboardInterrupt:
            interrupted = True
            self._cancel()
        except BaseException:
            self._cancel()
            raise
        finally:
            self._stop_workers(workers)
            self._tick(bar, final=True)
            bar.close()
        entries = self._final_entries(events if interrupted else None)
        if interrupted:
            note = _interrupt_note(entries, unread=not isinstance(events, Sequence))
        outcome = Outcome(
            elapsed=time.perf_counter() - started,
            concurrency=self.concurrency,
            lowest_concurrency=self.limiter.lowest,
            note=note,
            peak_concurrency=self.peak,
            sandbox_workers=_sandbox_workers(self.client),
        )
        return LambdaResponses(entries, function_name=self.function, outcome=outcome)

    def _connect(self) -> None:
        """The shared client, its pool as large as the concurrency (unless one was given)."""
        from lambda_magic._client import invoker_for

        if self.client is None:
            self.client = invoker_for(self.settings, pool_size=self.concurrency)

    # --- the main thread: read, queue, wait ---------------------------------------------

    def _dispatch(self, events: Iterator[Any], bar: ProgressBar) -> str | None:
        """Queue one request per event; a note if reading the events failed."""
        while True:
            try:
                event = next(events)
            except StopIteration:
                return None
            except Exception as exc:  # the user's iterable failed: keep what was sent
                return (
                    f"stopped reading the events at #{len(self.entries)} ({type(exc).__name__}: "
                    f"{exc}); the calls before it completed"
                )
            index = len(self.entries)
            request = self._request(index, event)
            if request is not None:
                self._enqueue(index, request, bar)

    def _request(self, index: int, event: Any) -> InvokeRequest | None:
        """The event's request, or None after storing why it was refused (nothing sent)."""
        try:
            request = self.build(index, event)
        except LambdaMagicError as error:
            with self.changed:
                self.entries.append(FailedInvocation(index=index, function_name=self.function, error=error))
                self.done += 1
            return None
        with self.changed:
            self.entries.append(None)
            self.pending[index] = request
        return request

    def _enqueue(self, index: int, request: InvokeRequest, bar: ProgressBar) -> None:
        """Queue the request once fewer than ``ahead`` are unfinished: events are read lazily."""
        while True:
            with self.changed:
                self.reader_waiting = len(self.pending) > self.ahead
                if self.reader_waiting:
                    self.changed.wait(self._until_tick())
            if not self.reader_waiting:
                break
            self._tick(bar)
        self.queue.put((index, request))
        self._tick(bar)

    def _drain(self, bar: ProgressBar) -> None:
        with self.changed:
            self.draining = True
        while True:
            with self.changed:
                if self.done >= len(self.entries):
                    return
                self.changed.wait(self._until_tick())
            self._tick(bar)

    def _until_tick(self) -> float:
        return min(TICK, max(0.001, self.next_tick - time.monotonic()))

    def _tick(self, bar: ProgressBar, *, final: bool = False) -> None:
        """Show the calls completed since the last update, at most and at least every TICK."""
        now = time.monotonic()
        if now < self.next_tick and not final:
            return
        self.next_tick = now + TICK
        done, shown = self.done, self.shown
        if done > shown:
            bar.update(done - shown)
            self.shown = done
        permitted = self.limiter.permitted
        if permitted < self.concurrency:
            bar.set_postfix_str(f"throttled: {permitted} in flight", refresh=False)

    def _cancel(self) -> None:
        """Start nothing more: queued calls stay unsent, waiting retries give up."""
        with self.changed:
            self.cancelled = True
            self.changed.notify_all()
        self.limiter.close()
        with suppress(queue.Empty):
            while True:
                self.queue.get_nowait()

    def _start_workers(self, count: int) -> list[threading.Thread]:
        # Daemon threads: calls still in flight after Ctrl-C must not hold up the interpreter's exit.
        workers = [threading.Thread(target=self._work, name=f"lambda_magic-{i}", daemon=True) for i in range(count)]
        for worker in workers:
            worker.start()
        return workers

    def _stop_workers(self, workers: list[threading.Thread]) -> None:
        for _ in workers:  # the queue is empty now: every call finished or was dropped
            self.queue.put(None)
        if not self.cancelled:
            for worker in workers:
                worker.join()

    # --- worker threads -----------------------------------------------------------------

    def _work(self) -> None:
        while (item := self.queue.get()) is not None:
            slot = self.limiter.acquire()
            if slot is not None:  # None: closed, the fan-out was interrupted
                self._call(*item, slot)

    def _call(self, index: int, request: InvokeRequest, slot: Slot) -> None:
        with self.changed:
            if self.cancelled:  # interrupted before this call was sent
                self.limiter.release(slot, answered=False)
                return
            self.in_flight.add(index)
            self.peak = max(self.peak, len(self.in_flight) - len(self.waiting))
        entry: Entry | None = None
        try:
            entry = self._send(index, request, slot)
        finally:
            error = entry.error if isinstance(entry, FailedInvocation) else None
            self.limiter.release(slot, throttled=isinstance(error, ThrottledError))
            with self.changed:
                self.in_flight.discard(index)
                self.pending.pop(index, None)
                self.entries[index] = (
                    entry
                    if entry is not None
                    else _failed(index, request, InvokeError("no result", function=self.function))
                )
                self.done += 1
                if self.reader_waiting or (self.draining and self.done >= len(self.entries)):
                    self.changed.notify_all()

    def _send(self, index: int, request: InvokeRequest, slot: Slot) -> Entry:
        from lambda_magic._invoke import execute

        try:
            return execute(
                request,
                self.settings,
                origin=self.origin,
                cell=self.cell,
                client=self.client,
                retry=partial(self._retry_wait, index, slot),
                started_in=self.started_in,
            )
        except LambdaMagicError as error:
            return _failed(index, request, error)
        except Exception as exc:  # a bug must not lose the input: keep it as a failed entry
            return _failed(
                index,
                request,
                InvokeError(
                    f"invoking {request.function_name} failed unexpectedly: {type(exc).__name__}: {exc}",
                    function=request.function_name,
                ),
            )

    def _retry_wait(self, index: int, slot: Slot, error: InvokeError, delay: float) -> bool:
        """The engine's ``RetryHook``: wait before re-sending a call Lambda did not accept.

        The slot is given back while waiting; a throttle also lowers the calls in flight, a
        refused connection does not (nothing reached Lambda). False once the fan-out is
        cancelled: the engine then reports that nothing runs for this call.
        """
        throttled = not isinstance(error, EndpointUnreachableError)
        with self.changed:
            self.waiting.add(index)
        self.limiter.release(slot, throttled=throttled, answered=throttled)
        resumed = not self._sleep_unless_cancelled(delay) and self.limiter.reacquire(slot)
        with self.changed:
            if resumed and not self.cancelled:
                self.waiting.discard(index)
                return True
        self.limiter.release(slot, answered=False)
        return False

    def _sleep_unless_cancelled(self, delay: float) -> bool:
        deadline = time.monotonic() + delay
        with self.changed:
            while not self.cancelled and (left := deadline - time.monotonic()) > 0:
                self.changed.wait(left)
            return self.cancelled

    # --- the result -----------------------------------------------------------------------

    def _final_entries(self, events: Iterable[Any] | None) -> list[Entry]:
        """Every entry; after an interruption, unfinished ones say how far they got."""
        with self.changed:
            entries = list(self.entries)
            pending, in_flight = dict(self.pending), self.in_flight - self.waiting
            waiting = set(self.waiting)
        final = [
            entry if entry is not None else self._unfinished(i, pending.get(i), i in in_flight, i in waiting)
            for i, entry in enumerate(entries)
        ]
        if isinstance(events, Sequence):
            final.extend(self._never_read(events, len(final)))
        return final

    def _unfinished(self, index: int, request: InvokeRequest | None, in_flight: bool, waiting: bool) -> Entry:
        target = f"#{index} ({self.function})"
        if in_flight:
            error: LambdaMagicError = InterruptedInvocationError(
                f"interrupted while {target} was in flight: it may still run in Lambda; it was not "
                "re-sent (its outcome goes to lambda_magic.history)",
                function=self.function,
            )
            return _failed(index, request, error, state="in flight", function=self.function)
        why = "while waiting to retry it; Lambda had not accepted it" if waiting else "before it was sent"
        error = InvokeError(f"not started: the fan-out was interrupted {why}", function=self.function)
        return _failed(index, request, error, state="not started", function=self.function)

    def _never_read(self, events: Sequence[Any], start: int) -> Iterator[Entry]:
        for index in range(start, len(events)):
            try:
                request: InvokeRequest | None = self.build(index, events[index])
            except LambdaMagicError:
                request = None
            yield self._unfinished(index, request, False, False)


def _sandbox_workers(client: Any) -> int | None:
    """The worker cap of the sandbox in this process that ``client`` calls, if it calls one."""
    sandbox = sys.modules.get("lambda_magic.sandbox._sandbox")  # never imported just to ask
    endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
    if sandbox is None or not isinstance(endpoint, str):
        return None
    cap: int | None = sandbox.worker_cap(endpoint)
    return cap


def _failed(
    index: int,
    request: InvokeRequest | None,
    error: LambdaMagicError,
    *,
    state: str = "failed",
    function: str | None = None,
) -> FailedInvocation:
    name = request.function_name if request is not None else function or "?"
    return FailedInvocation(index=index, function_name=name, error=error, request=request, state=state)


def _interrupt_note(entries: list[Entry], *, unread: bool) -> str:
    """What an interruption left behind, by state."""
    states: dict[str, list[int]] = {"in flight": [], "not started": []}
    for index, entry in enumerate(entries):
        if isinstance(entry, FailedInvocation) and entry.state in states:
            states[entry.state].append(index)
    parts = ["interrupted"]
    if states["in flight"]:
        parts.append(
            f"{len(states['in flight']):,} were in flight and may still run in Lambda "
            f"({index_ranges(states['in flight'])}; outcomes go to lambda_magic.history)"
        )
    if states["not started"]:
        parts.append(f"{len(states['not started']):,} never started ({index_ranges(states['not started'])})")
    if unread:
        parts.append("the rest of the events was not read")
    return parts[0] + ": " + "; ".join(parts[1:]) if len(parts) > 1 else "interrupted"


def index_ranges(indices: list[int], *, limit: int = 8) -> str:
    """``#3-#7, #9`` for sorted indices, at most ``limit`` runs."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    text = ", ".join(f"#{a}" if a == b else f"#{a}-#{b}" for a, b in runs[:limit])
    return text + (", ..." if len(runs) > limit else "")
