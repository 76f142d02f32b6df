"""Rich display: escaped HTML, terminal text, truncation of large payloads."""

from __future__ import annotations

import base64
import json

from lambda_magic import LambdaResponse
from lambda_magic._response_display import DISPLAY_LIMIT, response_html, response_text
from lambda_magic.testing import report_log


def make(raw: bytes, **kw: object) -> LambdaResponse:
    fields: dict[str, object] = {"function_name": "fn", "qualifier": "prod",
                                 "invocation_type": "RequestResponse", "status_code": 200}
    fields.update(kw)
    return LambdaResponse(raw_payload=raw, **fields)  # type: ignore[arg-type]


def test_html_escapes_every_value() -> None:
    log = report_log(lines=("<script>alert(1)</script>",))
    response = make(json.dumps({"html": "<b>&</b>"}).encode(),
                    log_result=base64.b64encode(log.encode()).decode())
    html = response._repr_html_()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html
    assert "duration 15.74 ms" in html


def test_error_shows_message_and_stack_trace() -> None:
    body = {"errorMessage": "boom <x>", "errorType": "KeyError",
            "stackTrace": ['  File "/var/task/app.py", line 9, in handler\n']}
    response = make(json.dumps(body).encode(), function_error="Unhandled")
    html = response_html(response)
    assert "KeyError: boom &lt;x&gt;" in html and "line 9, in handler" in html
    text = response_text(response)
    assert "Unhandled function error" in text and "line 9, in handler" in text


def test_large_payload_is_truncated_in_display_only() -> None:
    raw = json.dumps({"rows": ["x" * 100] * 60_000}).encode()  # ~6 MB
    response = make(raw)
    html, text = response._repr_html_(), response_text(response)
    for shown in (html, text):
        assert len(shown) < DISPLAY_LIMIT * 2
        assert f"showing the first {DISPLAY_LIMIT:,} of {len(raw):,} bytes" in shown
    assert len(response.payload["rows"]) == 60_000


def test_display_has_no_side_effects() -> None:
    response = make(b'{"a": 1}')
    first = response._repr_html_()
    assert response._repr_html_() == first
    assert "payload" not in response.__dict__ or response.payload == {"a": 1}


def test_event_display_says_accepted() -> None:
    response = make(b"", status_code=202, invocation_type="Event", qualifier=None)
    assert "202 accepted (Event)" in response_text(response)


def test_huge_function_error_is_clipped_in_display_only() -> None:
    body = {"errorMessage": "m" * 3_000_000, "errorType": "ValueError",
            "stackTrace": [f'  File "/var/task/app.py", line {n}, in handler\n' for n in range(100_000)]}
    response = make(json.dumps(body).encode(), function_error="Unhandled")
    for shown in (response._repr_html_(), response_text(response)):
        assert len(shown) < 10 * DISPLAY_LIMIT
        assert "ValueError" in shown
    assert len(response.error.message) == 3_000_000 and len(response.error.stack_trace) == 100_000
