"""Rendering of responses for notebooks (HTML) and terminals (text).

Pure functions of the response: no side effects, every value HTML-escaped, and a large
payload shortened in the display only (the response object keeps all of it).
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from lambda_magic._theme import THEME_CSS

if TYPE_CHECKING:
    from lambda_magic._response import LambdaResponse

__all__ = ["DISPLAY_LIMIT", "payload_preview", "response_html", "response_text"]

#: Characters of payload shown at most; the rest is elided with a note.
DISPLAY_LIMIT = 20_000

_STYLE = THEME_CSS + (
    "<style>.lm-resp{font-family:var(--jp-code-font-family,monospace);font-size:12px;text-align:left}"
    ".lm-resp .lm-ok{color:var(--lm-ok);font-weight:bold}.lm-resp .lm-bad{color:var(--lm-bad);font-weight:bold}"
    ".lm-resp pre{max-height:24em;overflow:auto;background:var(--lm-code-bg);"
    "border:1px solid var(--lm-edge);padding:6px;margin:4px 0}.lm-resp .lm-note{color:var(--lm-note)}</style>"
)


def payload_preview(response: LambdaResponse, limit: int = DISPLAY_LIMIT) -> tuple[str, str | None]:
    """The payload as display text, and a note when it was shortened."""
    raw = response.raw_payload
    if not raw:
        return "", None
    if len(raw) > limit:
        head = raw[:limit].decode("utf-8", errors="replace")
        return head, f"showing the first {limit:,} of {len(raw):,} bytes; .payload has all of it"
    body = response.payload
    text = body if isinstance(body, str) else _pretty(body)
    if len(text) > limit:
        return text[:limit], f"showing the first {limit:,} of {len(text):,} characters"
    return text, None


def _clip(text: str, limit: int = DISPLAY_LIMIT) -> str:
    """An error message or stack trace shortened for display (it can be megabytes)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters; .error has all of it)"


def _pretty(body: Any) -> str:
    if isinstance(body, bytes):
        return f"<{len(body):,} bytes of binary data>"
    return json.dumps(body, indent=2, ensure_ascii=False)


def _status_words(response: LambdaResponse) -> str:
    if response.function_error:
        return f"{response.function_error} function error"
    return {202: "accepted (Event)", 204: "checked (DryRun)"}.get(response.status_code, "OK")


def _metrics(response: LambdaResponse) -> list[str]:
    parts = [f"{response.elapsed * 1000:.1f} ms round trip"]
    report = response.report
    if report is not None:
        memory = f"/{report.memory_size_mb:g} MB" if report.memory_size_mb else " MB"
        for label, value, unit in (
            ("duration", report.duration_ms, " ms"),
            ("billed", report.billed_duration_ms, " ms"),
            ("memory", report.max_memory_used_mb, memory),
            ("init", report.init_duration_ms, " ms (cold start)"),
        ):
            if value is not None:
                parts.append(f"{label} {value:g}{unit}")
    if response.executed_version:
        parts.append(f"version {response.executed_version}")
    if response.request_id:
        parts.append(f"request {response.request_id}")
    return parts


def response_text(response: LambdaResponse) -> str:
    """A plain-text rendering for terminals: summary, payload, error and log."""
    lines = [f"{response.label} {response.status_code} {_status_words(response)}",
             " | ".join(_metrics(response))]
    error = response.error
    if error is not None:
        lines.append(f"error: {_clip(str(error))}")
        if error.stack_trace:
            lines.append(_clip("\n".join(line.rstrip("\n") for line in error.stack_trace)))
    elif response.raw_payload:
        text, note = payload_preview(response)
        lines.append(text)
        if note:
            lines.append(f"... ({note})")
    if response.log:
        lines.append("--- log tail ---")
        lines.append(response.log.rstrip("\n"))
    return "\n".join(lines)


def response_html(response: LambdaResponse) -> str:
    """An HTML rendering for notebooks; every value escaped."""
    css = "lm-ok" if response.ok else "lm-bad"
    parts = [
        _STYLE,
        '<div class="lm-resp">',
        f'<div><b>{escape(response.label)}</b> <span class="{css}">{response.status_code} '
        f"{escape(_status_words(response))}</span></div>",
        f'<div class="lm-note">{escape(" | ".join(_metrics(response)))}</div>',
    ]
    error = response.error
    if error is not None:
        trace = "".join(error.stack_trace)
        parts.append(f'<div class="lm-bad">{escape(_clip(str(error)))}</div>')
        if trace:
            parts.append(f'<pre tabindex="0">{escape(_clip(trace))}</pre>')
    elif response.raw_payload:
        text, note = payload_preview(response)
        # tabindex: a scrolling box must be reachable by keyboard (axe: scrollable-region-focusable)
        parts.append(f'<pre tabindex="0">{escape(text)}</pre>')
        if note:
            parts.append(f'<div class="lm-note">{escape(note)}</div>')
    if response.log:
        parts.append(f"<details><summary>log tail</summary><pre tabindex='0'>{escape(response.log)}</pre></details>")
    parts.append("</div>")
    return "".join(parts)
