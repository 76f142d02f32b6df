"""The results of a fan-out: ``LambdaResponses`` and ``FailedInvocation``.

Every input has exactly one entry, in input order: a ``LambdaResponse`` when Lambda answered
(a function error included), a ``FailedInvocation`` otherwise, whose ``state`` says how far
the call got: ``"failed"`` (refused locally, or sent and answered with an error, or sent and
never answered), ``"in flight"`` (sent when the fan-out was interrupted; it may still run) or
``"not started"`` (never sent). Display methods only return data.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union, overload

if TYPE_CHECKING:
    from lambda_magic._exceptions import LambdaMagicError
    from lambda_magic._request import InvokeRequest
    from lambda_magic._response import LambdaResponse

__all__ = ["Entry", "FailedInvocation", "LambdaResponses", "Outcome", "counts_text", "percentiles"]

#: How many errors the summary shows.
ERRORS_SHOWN = 5


class FailedInvocation:
    """An input that got no response; ``error`` says why and ``state`` how far it got.

    It answers the same questions as a ``LambdaResponse`` where that makes sense:
    ``ok`` is False, ``payload`` None, ``raise_for_error()`` raises ``error``.
    """

    ok = False
    payload = None
    raw_payload = b""
    function_error = None
    status_code = 0
    elapsed = None
    log = None
    report = None
    request_id = None
    executed_version = None

    def __init__(
        self,
        *,
        index: int,
        function_name: str,
        error: LambdaMagicError,
        request: InvokeRequest | None = None,
        state: str = "failed",
    ) -> None:
        self.index = index
        self.function_name = function_name
        self.error = error
        self.request = request
        self.state = state

    @property
    def qualifier(self) -> str | None:
        """The version or alias asked for (None when the request could not be built)."""
        return self.request.qualifier if self.request else None

    @property
    def target(self) -> str:
        """``function:qualifier`` as called (the function alone without a qualifier)."""
        return f"{self.function_name}:{self.qualifier}" if self.qualifier else self.function_name

    def raise_for_error(self) -> FailedInvocation:
        """Raise the error this call ended with."""
        raise self.error

    def to_dict(self) -> dict[str, Any]:
        """Plain data: index, target, state and the error's type and message."""
        return {
            "index": self.index,
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "ok": False,
            "state": self.state,
            "error_type": type(self.error).__name__,
            "error": str(self.error),
            "payload": None,
        }

    def describe(self) -> str:
        """One line: the state and the error."""
        return f"{self.state}: {type(self.error).__name__}: {self.error}"

    def __repr__(self) -> str:
        return f"<FailedInvocation #{self.index} {self.target} {self.state} {type(self.error).__name__}>"

    def _repr_html_(self) -> str:
        from html import escape

        return f'<div class="lm-resp"><b>#{self.index} {escape(self.target)}</b> {escape(self.describe())}</div>'

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else f"#{self.index} {self.target} {self.describe()}")


Entry = Union["LambdaResponse", FailedInvocation]


@dataclass(frozen=True)
class Outcome:
    """How a fan-out ended, beyond its entries.

    ``elapsed`` wall seconds; ``concurrency`` the calls in flight allowed and
    ``lowest_concurrency`` the least that throttling lowered it to; ``note`` why the run
    stopped early (an interruption, a failing events iterable), None when it did not.
    ``peak_concurrency`` is the most calls that were in flight at once, and
    ``sandbox_workers`` the worker cap per function of the local sandbox the calls went to
    (None elsewhere): past it, calls wait for a worker however many are in flight.
    """

    elapsed: float = 0.0
    concurrency: int = 1
    lowest_concurrency: int = 1
    note: str | None = None
    peak_concurrency: int = 0
    sandbox_workers: int | None = None

    @property
    def capped_by_sandbox(self) -> bool:
        """True when the sandbox's worker cap held the calls running below those in flight."""
        cap = self.sandbox_workers
        return cap is not None and cap < self.concurrency and self.peak_concurrency > cap


class LambdaResponses(Sequence[Entry]):
    """The results of ``invoke_many`` / ``%%lambda_invoke --each``: one entry per input.

    A sequence in input order of ``LambdaResponse`` and ``FailedInvocation``; ``payloads``
    and ``errors`` pick them apart, ``summary()`` counts them, ``to_dataframe()`` tabulates
    them. ``complete`` is False when the run stopped early; ``note`` then says why.
    """

    def __init__(self, entries: list[Entry], *, function_name: str, outcome: Outcome | None = None) -> None:
        self._entries = entries
        self.function_name = function_name
        self.outcome = outcome or Outcome()

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    @property
    def note(self) -> str | None:
        """Why the run stopped early (None when every input was sent)."""
        return self.outcome.note

    @property
    def complete(self) -> bool:
        """True when every input was sent and has its final result."""
        return self.outcome.note is None

    @property
    def ok(self) -> bool:
        """True when the run is complete and every call succeeded."""
        return self.complete and all(entry.ok for entry in self._entries)

    @property
    def payloads(self) -> list[Any]:
        """Every entry's decoded payload, in input order (None for failed calls)."""
        return [entry.payload for entry in self._entries]

    @property
    def errors(self) -> dict[int, Entry]:
        """Function errors and failed calls, by input index.

        Not the calls an interruption left in flight or never started: nothing failed there
        (``indices("in flight")`` and ``indices("not started")`` list them).
        """
        return {
            index: entry
            for index, entry in enumerate(self._entries)
            if not entry.ok and getattr(entry, "state", "failed") == "failed"
        }

    def indices(self, state: str) -> list[int]:
        """Input indices of failed entries in ``state`` ("failed", "in flight", "not started")."""
        return [i for i, e in enumerate(self._entries) if isinstance(e, FailedInvocation) and e.state == state]

    def summary(self) -> dict[str, Any]:
        """Counts by outcome and round-trip latency percentiles (ms) of the answered calls."""
        counts = {
            "calls": len(self._entries),
            "ok": 0,
            "function_errors": 0,
            "failed": 0,
            "in_flight": 0,
            "not_started": 0,
        }
        latencies: list[float] = []
        for entry in self._entries:
            if isinstance(entry, FailedInvocation):
                counts[{"in flight": "in_flight", "not started": "not_started"}.get(entry.state, "failed")] += 1
                continue
            latencies.append(entry.elapsed * 1000)
            counts["ok" if entry.ok else "function_errors" if entry.function_error else "failed"] += 1
        return {**counts, "latency_ms": percentiles(latencies)}

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per input (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("LambdaResponses.to_dataframe() needs pandas: pip install pandas") from None
        rows = [_row(entry) for entry in self._entries]
        return pd.DataFrame(rows, columns=list(_ROW_COLUMNS), index=pd.RangeIndex(len(rows), name="input"))

    def __repr__(self) -> str:
        return f"<LambdaResponses {self.function_name} {counts_text(self.summary())}>"

    def _repr_html_(self) -> str:
        from lambda_magic._fanout_results_display import responses_html

        return responses_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from lambda_magic._fanout_results_display import responses_text

        printer.text(repr(self) if cycle else responses_text(self))


_ROW_COLUMNS = (
    "ok",
    "state",
    "status_code",
    "function_error",
    "error",
    "payload",
    "elapsed_ms",
    "request_id",
    "executed_version",
)


def _row(entry: Entry) -> dict[str, Any]:
    if isinstance(entry, FailedInvocation):
        return {
            "ok": False,
            "state": entry.state,
            "status_code": None,
            "function_error": None,
            "error": f"{type(entry.error).__name__}: {entry.error}",
            "payload": None,
            "elapsed_ms": None,
            "request_id": None,
            "executed_version": None,
        }
    error = entry.error
    return {
        "ok": entry.ok,
        "state": "answered",
        "status_code": entry.status_code,
        "function_error": entry.function_error,
        "error": None if error is None else str(error),
        "payload": entry.payload,
        "elapsed_ms": entry.elapsed * 1000,
        "request_id": entry.request_id,
        "executed_version": entry.executed_version,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max by the nearest-rank method; empty without values."""
    if not values:
        return {}
    ordered = sorted(values)
    last = len(ordered) - 1
    picks = {
        name: ordered[min(last, max(0, -(-len(ordered) * q // 100) - 1))]
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99))
    }
    return {**picks, "max": ordered[-1]}


def counts_text(summary: dict[str, Any], *, finished_only: bool = False) -> str:
    """``30 calls: 10 ok, 10 function errors, 10 failed``; with ``finished_only``, the calls
    that finished (``22 of 200 calls finished: ...``) and nothing of the others."""
    unfinished = summary["in_flight"] + summary["not_started"]
    if finished_only and unfinished:
        head = f"{summary['calls'] - unfinished:,} of {summary['calls']:,} calls finished"
        keys: tuple[tuple[str, str], ...] = (("function_errors", "function errors"), ("failed", "failed"))
    else:
        head = f"{summary['calls']:,} calls"
        keys = (
            ("function_errors", "function errors"),
            ("failed", "failed"),
            ("in_flight", "in flight"),
            ("not_started", "not started"),
        )
    parts = [f"{head}: {summary['ok']:,} ok"]
    parts.extend(f"{summary[key]:,} {label}" for key, label in keys if summary[key])
    return ", ".join(parts)
