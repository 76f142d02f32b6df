"""Rendering of responses for notebooks (HTML) and terminals (text).

Pure functions of the response: no side effects, every value HTML-escaped, and a large
payload shortened in the display only (the response object keeps all of it). JSON is shown
indented at any size: a large body is re-indented from the start of its raw text, token by
token, so showing it never decodes megabytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from lambda_magic._theme import THEME_CSS

if TYPE_CHECKING:
    from lambda_magic._response import LambdaResponse

__all__ = [
    "DISPLAY_LIMIT",
    "DISPLAY_LINES",
    "log_lines",
    "logs_console_url",
    "payload_preview",
    "response_html",
    "response_text",
]

#: Characters of payload shown at most; the rest is elided with a note.
DISPLAY_LIMIT = 20_000
#: Lines of payload shown at most; the rest is elided with a note.
DISPLAY_LINES = 300

_STYLE = THEME_CSS + (
    "<style>.lm-resp{font-family:var(--jp-code-font-family,monospace);font-size:12px;text-align:left}"
    ".lm-resp .lm-ok{color:var(--lm-ok);font-weight:bold}.lm-resp .lm-bad{color:var(--lm-bad);font-weight:bold}"
    ".lm-resp pre{max-height:24em;overflow:auto;background:var(--lm-code-bg);"
    "border:1px solid var(--lm-edge);padding:6px;margin:4px 0}.lm-resp .lm-note{color:var(--lm-note)}"
    ".lm-resp a{color:var(--lm-link)}</style>"
)
# One JSON token: a string (its closing quote may be past the cut), punctuation, or a scalar.
_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"?|[{}\[\],:]|[^\s{}\[\],:"]+')
_CLOSING = {"{": "}", "[": "]"}
_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def payload_preview(
    response: LambdaResponse, limit: int = DISPLAY_LIMIT, lines: int = DISPLAY_LINES
) -> tuple[str, str | None]:
    """The payload as display text (JSON indented), and a note when it was shortened."""
    raw = response.raw_payload
    if not raw:
        return "", None
    if len(raw) > limit:
        return _large_preview(raw, limit, lines)
    body = response.payload
    text = body if isinstance(body, str) else _pretty(body)
    shown, _ = _take(text.splitlines(keepends=True), limit, lines)
    if len(shown) == len(text):
        return text, None
    total = text.count("\n") + 1
    return shown, f"showing the first {shown.count(chr(10)):,} of {total:,} lines; .payload has all of it"


def _large_preview(raw: bytes, limit: int, lines: int) -> tuple[str, str]:
    """The start of a large body: JSON re-indented from its raw text, other text as it is."""
    head = raw[: 2 * limit].decode("utf-8", errors="replace")
    if _looks_like_json(raw):
        pieces: Iterable[str] = _indented(m.group() for m in _TOKEN_RE.finditer(head))
        what = ", indented"
    else:
        pieces, what = head.splitlines(keepends=True), ""
    shown, _ = _take(pieces, limit, lines)
    count = shown.count("\n")
    return shown, f"showing the first {count:,} lines of {len(raw):,} bytes{what}; .payload has all of it"


def _looks_like_json(raw: bytes) -> bool:
    """An object or array by its first and last characters (decoding all of it costs ~200 ms)."""
    start, end = raw[:64].lstrip()[:1], raw[-64:].rstrip()[-1:]
    return (start, end) in ((b"{", b"}"), (b"[", b"]"))


def _indented(tokens: Iterable[str]) -> Iterator[str]:
    """JSON tokens laid out as ``json.dumps(indent=2)`` would, as pieces of text."""
    depth, pending = 0, None
    for token in tokens:
        if pending is not None:
            opened, pending = pending, None
            if token == _CLOSING[opened]:
                yield opened + token
                continue
            depth += 1
            yield opened + "\n" + "  " * depth
        if token in _CLOSING:
            pending = token
        elif token in ("}", "]"):
            depth = max(0, depth - 1)
            yield "\n" + "  " * depth + token
        elif token == ",":
            yield ",\n" + "  " * depth
        elif token == ":":
            yield ": "
        else:
            yield token
    if pending is not None:
        yield pending


def _take(pieces: Iterable[str], limit: int, lines: int) -> tuple[str, bool]:
    """Join pieces up to ``lines`` lines and about ``limit`` characters; whether it cut."""
    out: list[str] = []
    size = count = 0
    for piece in pieces:
        if count + piece.count("\n") >= lines or size + len(piece) > limit:
            room = min(limit - size, len(piece))
            newlines = [i for i, ch in enumerate(piece[:room]) if ch == "\n"]
            keep = newlines[lines - count - 1] + 1 if len(newlines) >= lines - count else room
            out.append(piece[:keep])
            return "".join(out), True
        out.append(piece)
        size += len(piece)
        count += piece.count("\n")
    return "".join(out), False


def log_lines(log: str) -> str:
    """The log tail with ``\\r``-joined records split into lines.

    The Python runtime writes a multi-line record (a traceback) as one line joined by
    ``\\r``; a terminal would return the cursor and overwrite the ``[ERROR]`` line.
    """
    return log.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def logs_console_url(response: LambdaResponse) -> str | None:
    """The CloudWatch Logs console, the function's log group filtered to this call.

    Only for calls that went to AWS itself: the sandbox and other endpoints have no console.
    """
    host = urlsplit(response.endpoint_url or "").hostname or ""
    region = response.region
    if not region or not response.request_id or not host.endswith(_AWS_HOSTS):
        return None
    name = response.function_name
    if ":function:" in name:  # an ARN or a partial ARN: the log group uses the bare name
        parts = name.split(":")
        region = parts[3] if parts[0] == "arn" and parts[3] else region
        name = parts[parts.index("function") + 1]
    domain = (
        "console.amazonaws.cn"
        if region.startswith("cn-")
        else "console.amazonaws-us-gov.com"
        if region.startswith("us-gov-")
        else "console.aws.amazon.com"
    )
    group = _console_quote(f"/aws/lambda/{name}")
    pattern = _console_quote(f'"{response.request_id}"')
    return (
        f"https://{region}.{domain}/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{group}/log-events$3FfilterPattern$3D{pattern}"
    )


def _console_quote(text: str) -> str:
    """The console's fragment encoding: percent-encoded, then every ``%`` as ``$25``."""
    return quote(text, safe="").replace("%", "$25")


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
    if response.chunks:
        parts.append(f"{len(response.chunks):,} chunk{'' if len(response.chunks) == 1 else 's'} streamed")
    if response.code_sha256:
        parts.append(f"code SHA-256 {response.code_sha256}")
    return parts


def response_text(response: LambdaResponse) -> str:
    """A plain-text rendering for terminals: summary, payload, error and log."""
    lines = [f"{response.label} {response.status_code} {_status_words(response)}", " | ".join(_metrics(response))]
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
        lines.append(log_lines(response.log))
    url = logs_console_url(response)
    if url:
        lines.append(f"CloudWatch Logs: {url}")
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
        # Open, as the console shows it: the log is often what one invoked to read.
        log = escape(log_lines(response.log))
        parts.append(f"<details open><summary>log tail</summary><pre tabindex='0'>{log}</pre></details>")
    url = logs_console_url(response)
    if url:
        parts.append(
            f'<div><a href="{escape(url)}" target="_blank" rel="noopener">CloudWatch Logs</a> '
            '<span class="lm-note">(this call\'s log lines in the AWS console)</span></div>'
        )
    parts.append("</div>")
    return "".join(parts)
