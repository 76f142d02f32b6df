"""Rendering of ``LambdaResponses`` summaries for notebooks (HTML) and terminals (text).

Pure functions: counts, latency percentiles, the first few errors and the note of an early
stop; never the payloads themselves, so the output stays small for any number of calls.
Every value is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from lambda_magic._fanout_results import ERRORS_SHOWN, FailedInvocation, counts_text
from lambda_magic._theme import THEME_CSS

if TYPE_CHECKING:
    from lambda_magic._fanout_results import Entry, LambdaResponses

__all__ = ["error_line", "responses_html", "responses_text", "summary_lines"]

#: Characters of one error message shown at most.
ERROR_WIDTH = 300

_STYLE = THEME_CSS + (
    "<style>.lm-many{font-family:var(--jp-code-font-family,monospace);font-size:12px;text-align:left}"
    ".lm-many .lm-ok{color:var(--lm-ok);font-weight:bold}.lm-many .lm-bad{color:var(--lm-bad);font-weight:bold}"
    ".lm-many .lm-note{color:var(--lm-note)}.lm-many ul{margin:2px 0 2px 1em;padding:0}</style>"
)


def error_line(index: int, entry: Entry) -> str:
    """``#index what went wrong``, shortened to ``ERROR_WIDTH`` characters."""
    if isinstance(entry, FailedInvocation):
        text = entry.describe()
    else:
        text = f"{entry.function_error} function error: {entry.error}"
    text = " ".join(text.split())
    if len(text) > ERROR_WIDTH:
        text = text[: ERROR_WIDTH - 3] + "..."
    return f"#{index} {text}"


def summary_lines(results: LambdaResponses) -> tuple[str, list[str]]:
    """The headline, and the detail lines (latency, throttling, note)."""
    summary, outcome = results.summary(), results.outcome
    # The note says which calls an interruption left in flight or unsent: the head does not.
    head = (
        f"{results.function_name}: {counts_text(summary, finished_only=bool(outcome.note))} "
        f"({outcome.elapsed:.2f} s at concurrency {outcome.concurrency})"
    )
    lines = []
    latency = summary["latency_ms"]
    if latency:
        lines.append("round trip ms: " + " | ".join(f"{k} {v:.1f}" for k, v in latency.items()))
    if outcome.lowest_concurrency < outcome.concurrency:
        lines.append(f"throttled: concurrency was lowered to {outcome.lowest_concurrency} at times")
    if outcome.capped_by_sandbox:
        lines.append(
            f"the sandbox runs at most {outcome.sandbox_workers} calls of a function at once: "
            f"of the {outcome.concurrency} asked for, the others waited for a worker "
            f"(Sandbox(max_workers=N) raises the cap)"
        )
    if outcome.note:
        lines.append(outcome.note)
    return head, lines


def _first_errors(results: LambdaResponses) -> tuple[list[str], int]:
    errors = results.errors
    shown = [error_line(i, e) for i, e in list(errors.items())[:ERRORS_SHOWN]]
    return shown, len(errors)


def responses_text(results: LambdaResponses) -> str:
    """A plain-text summary for terminals."""
    head, lines = summary_lines(results)
    shown, total = _first_errors(results)
    if shown:
        lines.append(f"errors (first {len(shown)} of {total:,}; all in .errors):")
        lines.extend(f"  {line}" for line in shown)
    return "\n".join([head, *lines])


def responses_html(results: LambdaResponses) -> str:
    """An HTML summary for notebooks; every value escaped."""
    head, lines = summary_lines(results)
    shown, total = _first_errors(results)
    css = "lm-ok" if results.ok else "lm-bad"
    parts = [_STYLE, '<div class="lm-many">', f'<div class="{css}">{escape(head)}</div>']
    parts.extend(f'<div class="lm-note">{escape(line)}</div>' for line in lines)
    if shown:
        parts.append(f"<div>errors (first {len(shown)} of {total:,}; all in <code>.errors</code>):</div><ul>")
        parts.extend(f"<li>{escape(line)}</li>" for line in shown)
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)
