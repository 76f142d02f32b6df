"""The session's invocation history: every call in order, linked to its response.

Entries hold the request (never credentials: those are not part of a request) and the
response or the error, and where the call came from (a cell's text, the form, the API).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambda_magic._exceptions import LambdaMagicError
    from lambda_magic._request import InvokeRequest
    from lambda_magic._response import LambdaResponse

__all__ = ["History", "HistoryEntry", "history"]


@dataclass(frozen=True)
class HistoryEntry:
    """One invocation: its request, and its response or the error it raised."""

    index: int
    request: InvokeRequest
    response: LambdaResponse | None = None
    error: LambdaMagicError | None = None
    origin: str = "api"
    cell: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def ok(self) -> bool:
        """True when a response came back and the function did not fail."""
        return self.response is not None and self.response.ok


class History:
    """A thread-safe, append-only sequence of ``HistoryEntry``; ``clear()`` empties it."""

    def __init__(self) -> None:
        self._entries: list[HistoryEntry] = []
        self._lock = threading.Lock()
        self._counter = 0

    def record(self, request: InvokeRequest, **details: object) -> HistoryEntry:
        """Append an entry for ``request`` (numbered from 1 across clears)."""
        with self._lock:
            self._counter += 1
            entry = HistoryEntry(self._counter, request, **details)  # type: ignore[arg-type]
            self._entries.append(entry)
            return entry

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> HistoryEntry:
        return self._entries[index]

    def __repr__(self) -> str:
        return f"<History {len(self)} invocations>"


#: The history of this Python session.
history = History()
