"""The session's invocation history: every call in order, linked to its response.

Entries hold the request (never credentials: those are not part of a request), the response
or the error, and where the call came from: a cell (its text and ``In [n]`` number), the
form, or the API. Errors are kept detached from their traceback and cause, whose frames and
botocore objects reach the client and its credentials. Entries are numbered from 1 for the
whole session; ``%lambda_history`` and ``%lambda_export`` select them by those numbers
(``"1-3,5"``).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from lambda_magic._exceptions import HistoryError, LambdaMagicError

if TYPE_CHECKING:
    from lambda_magic._payload import PayloadTemplate
    from lambda_magic._request import InvokeRequest
    from lambda_magic._response import LambdaResponse

__all__ = [
    "CellMark",
    "CellRun",
    "History",
    "HistoryEntry",
    "HistoryError",
    "HistoryTable",
    "history",
    "parse_selection",
]

#: Entries kept at most by default; the oldest are dropped first (their numbers stay unused).
DEFAULT_MAXLEN = 10_000
#: Rows a history table shows by default: the most recent ones.
TABLE_ROWS = 50


@dataclass(frozen=True)
class HistoryEntry:
    """One invocation: its request, and its response or the error it raised.

    ``cell`` is what the caller passed (a magic's body); ``source`` and ``execution_count``
    are the whole notebook cell that was running and its ``In [n]`` number, when known.
    """

    index: int
    request: InvokeRequest
    response: LambdaResponse | None = None
    error: LambdaMagicError | None = None
    origin: str = "api"
    cell: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    source: str | None = None
    execution_count: int | None = None

    @property
    def ok(self) -> bool:
        """True when a response came back and the function did not fail."""
        return self.response is not None and self.response.ok

    @property
    def template(self) -> PayloadTemplate | None:
        """The payload as written (literal text and ``${expr}`` slots), as the request
        recorded it; None for a payload given as a value, or none."""
        return self.request.template

    @property
    def slot_values(self) -> tuple[Any, ...]:
        """The value each of the template's slots had, in order."""
        return tuple(value for _expression, value in self.request.substitutions)

    @property
    def function(self) -> str:
        """The function name as called."""
        return self.request.function_name

    @property
    def logical_id(self) -> str | None:
        """``STACK/LogicalId`` when the function was named by its stack, else None."""
        return self.request.logical_id

    @property
    def qualifier(self) -> str | None:
        """The version or alias called, if any."""
        return self.request.qualifier

    @property
    def invocation_type(self) -> str:
        """RequestResponse, Event or DryRun."""
        return self.request.invocation_type

    @property
    def target(self) -> str:
        """``function:qualifier`` (the function alone without a qualifier)."""
        return f"{self.function}:{self.qualifier}" if self.qualifier else self.function

    @property
    def status(self) -> str:
        """``200 OK``, ``200 Unhandled``, ``202 Accepted``... or the error's class name."""
        if self.response is None:
            return type(self.error).__name__ if self.error is not None else "no answer"
        if self.response.function_error:
            return f"{self.response.status_code} {self.response.function_error}"
        words = {202: "Accepted", 204: "DryRun"}.get(self.response.status_code, "OK")
        return f"{self.response.status_code} {words}"

    @property
    def duration_ms(self) -> float | None:
        """The round trip in milliseconds (None when no answer came)."""
        return None if self.response is None else self.response.elapsed * 1000

    @property
    def where(self) -> str:
        """The cell the call came from (``In [5]``), else its origin (api, form...)."""
        return f"In [{self.execution_count}]" if self.execution_count is not None else self.origin


@dataclass(frozen=True)
class CellRun:
    """A notebook cell that ran: its ``In [n]`` number, its text, and whether it succeeded.

    Kept so that an exported notebook can include the cells between the invocations (the
    Python that links one step to the next), not only the cells that invoked.
    """

    execution_count: int | None
    source: str
    ok: bool = True


class CellMark:
    """The notebook cell a call started in; its ``In [n]`` settles when the cell ends.

    A call can outlive its cell (a fan-out's calls in flight at Ctrl-C finish later): it
    keeps the mark it started under, so its entry is labelled with that cell, not none.
    """

    __slots__ = ("execution_count", "source")

    def __init__(self, source: str, execution_count: int | None) -> None:
        self.source = source
        self.execution_count = execution_count


class History:
    """A thread-safe sequence of ``HistoryEntry``, oldest first, at most ``maxlen`` long."""

    def __init__(self, maxlen: int = DEFAULT_MAXLEN) -> None:
        self._entries: deque[HistoryEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._counter = 0
        self._cell: CellMark | None = None
        self._cell_entries: list[int] = []
        self._cells: deque[CellRun] = deque(maxlen=maxlen)
        self._listeners: list[Callable[[HistoryEntry], None]] = []

    def listen(self, callback: Callable[[HistoryEntry], None]) -> Callable[[], None]:
        """Call ``callback(entry)`` after each entry is recorded (from the recording thread:
        a fan-out records from its workers); returns the function that stops it."""
        with self._lock:
            self._listeners.append(callback)

        def stop() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return stop

    @property
    def maxlen(self) -> int:
        """Entries kept at most; setting it drops the oldest ones beyond it."""
        return self._entries.maxlen or DEFAULT_MAXLEN

    @maxlen.setter
    def maxlen(self, value: int) -> None:
        if int(value) < 1:
            raise HistoryError(f"history maxlen must be at least 1, not {value}")
        with self._lock:
            self._entries = deque(self._entries, maxlen=int(value))
            self._cells = deque(self._cells, maxlen=int(value))

    def record(self, request: InvokeRequest, *, started_in: CellMark | None = None, **details: Any) -> HistoryEntry:
        """Append an entry for ``request`` (numbered from 1 across clears).

        ``started_in`` is the cell the call started in (``current_cell()`` then), for a call
        that may finish after its cell; by default, the cell running now.
        """
        if details.get("error") is not None:
            details["error"] = _detached(details["error"])
        if details.get("endpoint_url"):
            details["endpoint_url"] = without_userinfo(details["endpoint_url"])
        with self._lock:
            cell = started_in or self._cell
            if cell is not None:
                details.setdefault("source", cell.source)
                details.setdefault("execution_count", cell.execution_count)
            self._counter += 1
            entry = HistoryEntry(self._counter, request, **details)
            self._entries.append(entry)
            if cell is not None and cell is self._cell and entry.source is cell.source:
                self._cell_entries.append(entry.index)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(entry)
        return entry

    def current_cell(self) -> CellMark | None:
        """The cell running now (None outside cells: the form's button, other threads)."""
        with self._lock:
            return self._cell

    def clear(self) -> None:
        """Forget every entry and cell (numbering goes on)."""
        with self._lock:
            self._entries.clear()
            self._cells.clear()

    def begin_cell(self, source: str, execution_count: int | None = None) -> None:
        """Attribute the entries recorded from now on to this notebook cell; ``end_cell``
        may correct its number once the shell has settled it."""
        with self._lock:
            self._cell = CellMark(source, execution_count)
            self._cell_entries = []

    def end_cell(self, ok: bool = True, execution_count: int | None = None) -> None:
        """Stop attributing entries to a cell (the form and callbacks run outside cells);
        remember the cell if it has an ``In [n]`` number.

        ``execution_count`` is the number the shell finally gave the cell (IPython's
        ``ExecutionResult.execution_count``): the cell's entries take it, since the number
        read when the cell started can be off by one (IPython 9 counts up before
        ``pre_run_cell``, IPython 8 after the cell).
        """
        with self._lock:
            cell, self._cell = self._cell, None
            if cell is None:
                return
            count = execution_count if execution_count is not None else cell.execution_count
            if count != cell.execution_count and self._cell_entries:
                self._renumber(set(self._cell_entries), count)
            cell.execution_count = count  # calls still running record the settled number
            self._cell_entries = []
            if count is not None:
                self._cells.append(CellRun(count, cell.source, ok))

    def _renumber(self, indexes: set[int], count: int | None) -> None:
        """Give the entries numbered ``indexes`` the cell number ``count`` (lock held)."""
        self._entries = deque(
            (replace(entry, execution_count=count) if entry.index in indexes else entry for entry in self._entries),
            maxlen=self._entries.maxlen,
        )

    def cells(self) -> list[CellRun]:
        """The numbered cells that ran since the last clear, oldest first."""
        with self._lock:
            return list(self._cells)

    def entry(self, number: int) -> HistoryEntry:
        """The entry numbered ``number`` (as ``%lambda_history`` shows it)."""
        for entry in self:
            if entry.index == number:
                return entry
        raise HistoryError(f"no entry {number} in the history ({self._span()}): see %lambda_history")

    def select(self, spec: str | Iterable[int] | None = None) -> list[HistoryEntry]:
        """Entries by number: ``"1-3,5"``, numbers, or None for all; in history order."""
        entries = list(self)
        if spec is None:
            return entries
        wanted = parse_selection(spec) if isinstance(spec, str) else [int(n) for n in spec]
        present = {entry.index for entry in entries}
        missing = [n for n in wanted if n not in present]
        if missing:
            names = ", ".join(map(str, missing))
            raise HistoryError(f"no entry {names} in the history ({self._span()}): see %lambda_history")
        chosen = set(wanted)
        return [entry for entry in entries if entry.index in chosen]

    def table(self, spec: str | Iterable[int] | None = None, *, last: int | None = None) -> HistoryTable:
        """The selected entries as a displayable table; with ``last``, only the most recent."""
        entries = self.select(spec)
        omitted = max(0, len(entries) - last) if last is not None else 0
        return HistoryTable(tuple(entries[omitted:]), omitted=omitted)

    def _span(self) -> str:
        entries = list(self)
        if not entries:
            return "it is empty"
        return f"entries {entries[0].index}-{entries[-1].index} are there"

    def __iter__(self) -> Iterator[HistoryEntry]:
        with self._lock:
            return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> HistoryEntry:
        with self._lock:
            return self._entries[index]

    def __repr__(self) -> str:
        return f"<History {len(self)} invocations>"

    def _repr_html_(self) -> str:
        return self.table(last=TABLE_ROWS)._repr_html_()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.table(last=TABLE_ROWS).text())


@dataclass(frozen=True)
class HistoryTable:
    """Some history entries, displayed as a table (HTML in notebooks, text in terminals).

    ``omitted`` counts the older selected entries left out (``last=``); the table says so.
    """

    entries: tuple[HistoryEntry, ...]
    omitted: int = 0

    def text(self) -> str:
        """The table as plain text."""
        from lambda_magic.runbook._history_display import history_text

        return history_text(self.entries, omitted=self.omitted)

    def _repr_html_(self) -> str:
        from lambda_magic.runbook._history_display import history_html

        return history_html(self.entries, omitted=self.omitted)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.text())

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> HistoryEntry:
        return self.entries[index]

    def __repr__(self) -> str:
        return f"<HistoryTable {len(self)} entries>"


_RANGE_RE = re.compile(r"(\d+)(?:-(\d+))?")
_MAX_RANGE = 1_000_000


def parse_selection(spec: str) -> list[int]:
    """``"1-3,5"`` to ``[1, 2, 3, 5]`` (sorted, without repeats)."""
    numbers: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        match = _RANGE_RE.fullmatch(part)
        if not match:
            raise HistoryError(f"bad entry selection {spec!r}: use entry numbers and ranges such as 1-3,5")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if low < 1 or high < low or high - low > _MAX_RANGE:
            raise HistoryError(
                f"bad entry range {part!r} in {spec!r}: write low-high, from 1, at most {_MAX_RANGE:,} entries"
            )
        numbers.update(range(low, high + 1))
    return sorted(numbers)


def without_userinfo(url: str) -> str:
    """The URL without any ``user:password@`` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _detached(error: LambdaMagicError) -> LambdaMagicError:
    """A copy of ``error`` without traceback, cause or context.

    The traceback's frames hold the botocore client (and so the credentials), and a
    botocore cause can hold the signed request; the history keeps neither.
    """
    copy = type(error).__new__(type(error))
    copy.args = error.args
    copy.__dict__.update(error.__dict__)
    return copy


#: The history of this Python session.
history = History()
