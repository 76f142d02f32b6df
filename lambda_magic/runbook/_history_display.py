"""Rendering of history entries as a table: HTML for notebooks, text for terminals.

Pure functions of the entries; every value HTML-escaped. Colours come from ``_theme``.
Every cell is left-aligned by an inline style: JupyterLab's ``.jp-RenderedHTMLCommon td``
and ``th`` rules right-align table cells and outrank a class selector of ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from lambda_magic._theme import THEME_CSS

if TYPE_CHECKING:
    from lambda_magic.runbook._history import HistoryEntry

__all__ = ["COLUMNS", "history_html", "history_rows", "history_text", "omitted_note"]

#: The table's columns, in order.
COLUMNS = ("#", "time", "function", "qualifier", "type", "status", "duration", "ok", "cell")

_STYLE = THEME_CSS + (
    "<style>.lm-hist{font-family:var(--jp-code-font-family,monospace);font-size:12px;"
    "border-collapse:collapse}.lm-hist th,.lm-hist td{padding:2px 8px}"
    ".lm-hist .lm-ok{color:var(--lm-ok)}.lm-hist .lm-bad{color:var(--lm-bad);font-weight:bold}"
    ".lm-hist-note{color:var(--lm-note);font-size:11px;text-align:left}</style>"
)
_LEFT = ' style="text-align:left"'
_HINT = "each entry's response: lambda_magic.history.entry(N).response"


def history_rows(entries: Sequence[HistoryEntry]) -> list[tuple[str, ...]]:
    """One tuple of display strings per entry, in ``COLUMNS`` order."""
    rows: list[tuple[str, ...]] = []
    for entry in entries:
        duration = entry.duration_ms
        rows.append(
            (
                str(entry.index),
                entry.time.astimezone().strftime("%H:%M:%S"),
                entry.function,
                entry.qualifier or "",
                entry.invocation_type,
                entry.status,
                "" if duration is None else f"{duration:.1f} ms",
                "yes" if entry.ok else "NO",
                entry.where,
            )
        )
    return rows


def omitted_note(entries: Sequence[HistoryEntry], omitted: int) -> str | None:
    """``showing the last 50 of 964 (...)`` when older entries were left out."""
    if not omitted or not entries:
        return None
    first = entries[0].index
    return (
        f"showing the last {len(entries):,} of {len(entries) + omitted:,}: %lambda_history --all "
        f"shows every one, -n N the last N, {max(1, first - 10)}-{first - 1} a range"
    )


def _row_html(entry: HistoryEntry, row: tuple[str, ...]) -> str:
    marked = f' class="{"lm-ok" if entry.ok else "lm-bad"}"'
    cells = "".join(
        f"<td{marked if name in ('status', 'ok') else ''}{_LEFT}>{escape(value)}</td>"
        for name, value in zip(COLUMNS, row, strict=True)
    )
    return f"<tr>{cells}</tr>"


def history_text(entries: Sequence[HistoryEntry], *, omitted: int = 0) -> str:
    """A fixed-width text table; a one-line note when there is nothing to show."""
    if not entries:
        return "no invocations in the history yet"
    rows = [COLUMNS, *history_rows(entries)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    note = omitted_note(entries, omitted)
    return "\n".join([*lines, *([f"({note})"] if note else []), f"({_HINT})"])


def history_html(entries: Sequence[HistoryEntry], *, omitted: int = 0) -> str:
    """An HTML table, left-aligned in every front end; failed entries marked."""
    if not entries:
        return f'{_STYLE}<div class="lm-hist-note">no invocations in the history yet</div>'
    head = "".join(f"<th{_LEFT}>{escape(name)}</th>" for name in COLUMNS)
    body = [_row_html(entry, row) for entry, row in zip(entries, history_rows(entries), strict=True)]
    note = omitted_note(entries, omitted)
    notes = "".join(f'<div class="lm-hist-note">{escape(text)}</div>' for text in (note, _HINT) if text)
    return f'{_STYLE}<table class="lm-hist"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{notes}'
