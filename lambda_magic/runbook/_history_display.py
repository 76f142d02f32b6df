"""Rendering of history entries as a table: HTML for notebooks, text for terminals.

Pure functions of the entries; every value HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambda_magic.runbook._history import HistoryEntry

__all__ = ["COLUMNS", "history_html", "history_rows", "history_text"]

#: The table's columns, in order.
COLUMNS = ("#", "time", "function", "qualifier", "type", "status", "duration", "ok", "cell")

_STYLE = (
    "<style>.lm-hist{font-family:var(--jp-code-font-family,monospace);font-size:12px;"
    "border-collapse:collapse}.lm-hist th,.lm-hist td{padding:2px 8px;text-align:left}"
    ".lm-hist .lm-ok{color:#137333}.lm-hist .lm-bad{color:#c5221f;font-weight:bold}"
    ".lm-hist-note{color:#777;font-size:11px}</style>"
)
_HINT = "each entry's response: lambda_magic.history.entry(N).response"


def history_rows(entries: Sequence[HistoryEntry]) -> list[tuple[str, ...]]:
    """One tuple of display strings per entry, in ``COLUMNS`` order."""
    rows: list[tuple[str, ...]] = []
    for entry in entries:
        duration = entry.duration_ms
        rows.append((
            str(entry.index),
            entry.time.astimezone().strftime("%H:%M:%S"),
            entry.function,
            entry.qualifier or "",
            entry.invocation_type,
            entry.status,
            "" if duration is None else f"{duration:.1f} ms",
            "yes" if entry.ok else "NO",
            entry.where,
        ))
    return rows


def history_text(entries: Sequence[HistoryEntry]) -> str:
    """A fixed-width text table; a one-line note when there is nothing to show."""
    if not entries:
        return "no invocations in the history yet"
    rows = [COLUMNS, *history_rows(entries)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*lines, f"({_HINT})"])


def history_html(entries: Sequence[HistoryEntry]) -> str:
    """An HTML table; failed entries marked."""
    if not entries:
        return '<div class="lm-hist-note">no invocations in the history yet</div>'
    head = "".join(f"<th>{escape(name)}</th>" for name in COLUMNS)
    body = []
    for entry, row in zip(entries, history_rows(entries), strict=True):
        css = "lm-ok" if entry.ok else "lm-bad"
        cells = "".join(
            f'<td class="{css}">{escape(value)}</td>' if name in ("status", "ok") else f"<td>{escape(value)}</td>"
            for name, value in zip(COLUMNS, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'{_STYLE}<table class="lm-hist"><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table><div class="lm-hist-note">{escape(_HINT)}</div>'
    )
