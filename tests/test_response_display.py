"""Rich display: escaped HTML, terminal text, truncation of large payloads."""

from __future__ import annotations

import base64
import json
from typing import Any

from lambda_magic import LambdaResponse
from lambda_magic._response_display import DISPLAY_LIMIT, DISPLAY_LINES, payload_preview, response_html, response_text
from lambda_magic.testing import report_log


def make(raw: bytes, **kw: object) -> LambdaResponse:
    fields: dict[str, object] = {
        "function_name": "fn",
        "qualifier": "prod",
        "invocation_type": "RequestResponse",
        "status_code": 200,
    }
    fields.update(kw)
    return LambdaResponse(raw_payload=raw, **fields)  # type: ignore[arg-type]


def test_html_escapes_every_value() -> None:
    log = report_log(lines=("<script>alert(1)</script>",))
    response = make(json.dumps({"html": "<b>&</b>"}).encode(), log_result=base64.b64encode(log.encode()).decode())
    html = response._repr_html_()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html
    assert "duration 15.74 ms" in html


def test_error_shows_message_and_stack_trace() -> None:
    body = {
        "errorMessage": "boom <x>",
        "errorType": "KeyError",
        "stackTrace": ['  File "/var/task/app.py", line 9, in handler\n'],
    }
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
        assert f"of {len(raw):,} bytes, indented; .payload has all of it" in shown
    assert len(response.payload["rows"]) == 60_000


def _document(rows: int) -> dict[str, Any]:
    """Nested JSON with every kind of token: strings with escapes, numbers, empty containers."""
    return {
        "meta": {"empty": {}, "none": [], "flag": True, "missing": None},
        "rows": [
            {"id": i, "name": f'item "{i}"\\ {{x}}: [y],', "score": i / 7, "tags": ["a", "b"]} for i in range(rows)
        ],
    }


def test_large_json_is_shown_indented_and_cut_after_n_lines() -> None:
    document = _document(40_000)  # ~3.7 MB minified, as Lambda sends it
    response = make(json.dumps(document).encode())
    text, note = payload_preview(response)
    # Laid out exactly as json.dumps(indent=2) lays out the whole document, to the cut.
    assert text == json.dumps(document, indent=2)[: len(text)]
    assert text.count("\n") == DISPLAY_LINES and note is not None
    assert note == (
        f"showing the first {DISPLAY_LINES} lines of {len(response.raw_payload):,} bytes, "
        "indented; .payload has all of it"
    )
    html = response_html(response)
    assert '<pre tabindex="0">{\n  &quot;meta&quot;: {\n    &quot;empty&quot;: {},\n    &quot;none&quot;: [],' in html
    assert "payload" not in response.__dict__  # shown without decoding megabytes
    assert len(response.payload["rows"]) == 40_000


def test_json_under_the_byte_limit_is_still_cut_after_n_lines() -> None:
    document = list(range(3_000))  # 17 KB minified, 3,002 lines indented
    response = make(json.dumps(document).encode())
    text, note = payload_preview(response)
    assert text == json.dumps(document, indent=2)[: len(text)] and text.count("\n") == DISPLAY_LINES
    assert note == f"showing the first {DISPLAY_LINES} of 3,002 lines; .payload has all of it"
    assert f"... ({note})" in response_text(response)
    assert payload_preview(make(b'{"a": [1, 2]}')) == ('{\n  "a": [\n    1,\n    2\n  ]\n}', None)


def test_large_text_is_cut_after_n_lines_as_it_is() -> None:
    raw = "".join(f"line {{{i}}}: [x]\n" for i in range(100_000)).encode()
    text, note = payload_preview(make(raw))
    assert text.splitlines()[:2] == ["line {0}: [x]", "line {1}: [x]"] and text.count("\n") == DISPLAY_LINES
    assert note == f"showing the first {DISPLAY_LINES} lines of {len(raw):,} bytes; .payload has all of it"


def test_terminal_log_tail_splits_carriage_return_records() -> None:
    record = (
        "[ERROR] KeyError: 'id'\rTraceback (most recent call last):\r"
        '  File "/var/task/app.py", line 3, in handler\r    return event["id"]'
    )
    log = report_log(lines=(record,))
    response = make(b"{}", log_result=base64.b64encode(log.encode()).decode())
    text = response_text(response)
    assert "\r" not in text
    lines = text.splitlines()
    assert "[ERROR] KeyError: 'id'" in lines and "Traceback (most recent call last):" in lines
    assert '  File "/var/task/app.py", line 3, in handler' in lines
    assert "\r" not in response_html(response)
    assert "<details open><summary>log tail</summary>" in response_html(response)  # open, as in the console


def _aws(**kw: Any) -> LambdaResponse:
    fields: dict[str, Any] = {
        "request_id": "5f1c-<id>",
        "region": "eu-west-1",
        "endpoint_url": "https://lambda.eu-west-1.amazonaws.com",
    }
    return make(b"{}", **{**fields, **kw})


def test_cloudwatch_logs_link_for_calls_to_aws_only() -> None:
    url = (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/"
        "log-group/$252Faws$252Flambda$252Ffn/log-events$3FfilterPattern$3D$25225f1c-$253Cid$253E$2522"
    )
    assert f"CloudWatch Logs: {url}" in response_text(_aws())
    assert f'<a href="{url}" target="_blank" rel="noopener">CloudWatch Logs</a>' in response_html(_aws())
    arn = "arn:aws:lambda:us-west-2:123456789012:function:orders"
    assert (
        "us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#logsV2:log-groups/log-group/"
        "$252Faws$252Flambda$252Forders/" in response_text(_aws(function_name=arn))
    )
    assert "console.amazonaws.cn" in response_text(_aws(region="cn-north-1"))
    for elsewhere in ("http://127.0.0.1:9001", "http://localhost:4566", None):
        assert "CloudWatch" not in response_text(_aws(endpoint_url=elsewhere))
        assert "CloudWatch" not in response_html(_aws(endpoint_url=elsewhere))


def test_cloudwatch_link_through_boto3_against_aws_not_the_sandbox(moto_lambda: Any, demo_sandbox: Any) -> None:
    import lambda_magic

    aws = lambda_magic.invoke("echo", {"a": 1}, region="us-east-1")
    assert aws.endpoint_url == "https://lambda.us-east-1.amazonaws.com" and aws.request_id
    assert f"$2522{aws.request_id}$2522" in response_text(aws)
    sandbox = lambda_magic.invoke("echo", {"a": 1}, endpoint_url=demo_sandbox.endpoint_url, region="us-east-1")
    assert sandbox.endpoint_url == demo_sandbox.endpoint_url and "CloudWatch" not in response_text(sandbox)


def test_code_sha256_in_the_summary_when_known() -> None:
    digest = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    response = make(b"{}", code_sha256=digest)
    assert f"code SHA-256 {digest}" in response_text(response) and digest in response_html(response)
    assert response.to_dict()["code_sha256"] == digest
    assert "SHA-256" not in response_text(make(b"{}"))


def test_display_has_no_side_effects() -> None:
    response = make(b'{"a": 1}')
    first = response._repr_html_()
    assert response._repr_html_() == first
    assert "payload" not in response.__dict__ or response.payload == {"a": 1}


def test_event_display_says_accepted() -> None:
    response = make(b"", status_code=202, invocation_type="Event", qualifier=None)
    assert "202 accepted (Event)" in response_text(response)


def test_huge_function_error_is_clipped_in_display_only() -> None:
    body = {
        "errorMessage": "m" * 3_000_000,
        "errorType": "ValueError",
        "stackTrace": [f'  File "/var/task/app.py", line {n}, in handler\n' for n in range(100_000)],
    }
    response = make(json.dumps(body).encode(), function_error="Unhandled")
    for shown in (response._repr_html_(), response_text(response)):
        assert len(shown) < 10 * DISPLAY_LIMIT
        assert "ValueError" in shown
    assert len(response.error.message) == 3_000_000 and len(response.error.stack_trace) == 100_000


def test_text_of_exactly_n_lines_is_shown_whole_without_a_note() -> None:
    raw = "".join(f"{i}\n" for i in range(DISPLAY_LINES)).encode()
    assert payload_preview(make(raw)) == (raw.decode(), None)
