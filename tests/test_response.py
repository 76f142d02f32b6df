"""LambdaResponse: decoding, the parsed error and REPORT line, repr, to_dict."""

from __future__ import annotations

import base64
import json

import pytest

from lambda_magic import FunctionError, LambdaResponse
from lambda_magic._response import parse_report
from lambda_magic.testing import report_log


def make(raw: bytes = b"", **kw: object) -> LambdaResponse:
    fields: dict[str, object] = {
        "function_name": "fn",
        "qualifier": None,
        "invocation_type": "RequestResponse",
        "status_code": 200,
    }
    fields.update(kw)
    return LambdaResponse(raw_payload=raw, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": [1, 2]}', {"a": [1, 2]}),
        (b'"text"', "text"),
        (b"not json", "not json"),
        (b"\xff\xfe\x00", b"\xff\xfe\x00"),
        (b"", None),
        (b"null", None),
        (b"12", 12),
    ],
)
def test_payload_decoding(raw: bytes, expected: object) -> None:
    response = make(raw)
    assert response.payload == expected
    assert response.raw_payload == raw


def test_report_line_is_parsed_into_numbers() -> None:
    report = parse_report(report_log("abc", duration=15.74, init=130.49, lines=("hello",)))
    assert report is not None
    assert report.request_id == "abc"
    assert report.duration_ms == 15.74
    assert report.billed_duration_ms == 16
    assert report.memory_size_mb == 128
    assert report.max_memory_used_mb == 56
    assert report.init_duration_ms == 130.49
    assert report.cold_start


def test_warm_report_has_no_init_duration() -> None:
    report = parse_report(report_log(duration=2.5))
    assert report is not None and report.init_duration_ms is None and not report.cold_start
    assert parse_report("no report here") is None
    assert parse_report(None) is None


def test_function_error_is_parsed() -> None:
    body = {
        "errorMessage": "bad input",
        "errorType": "ValueError",
        "requestId": "r-1",
        "stackTrace": ['  File "/var/task/app.py", line 3, in handler\n    raise ValueError\n'],
    }
    response = make(json.dumps(body).encode(), function_error="Unhandled")
    assert not response.ok
    assert response.error is not None
    assert response.error.message == "bad input"
    assert response.error.type == "ValueError"
    assert "line 3, in handler" in response.error.stack_trace[0]
    assert str(response.error) == "ValueError: bad input"
    with pytest.raises(FunctionError, match="function fn failed \\(Unhandled\\): ValueError: bad input") as info:
        response.raise_for_error()
    assert info.value.response is response


def test_success_has_no_error() -> None:
    response = make(b"{}")
    assert response.ok and response.error is None
    assert response.raise_for_error() is response


def test_log_is_decoded_and_repr_is_terse() -> None:
    log = report_log(duration=1.0)
    response = make(
        b"{}",
        qualifier="prod",
        log_result=base64.b64encode(log.encode()).decode(),
        elapsed=0.0123,
        executed_version="3",
    )
    assert response.log == log
    assert repr(response) == "<LambdaResponse fn:prod 200 OK 12.3 ms>"
    assert repr(make(b"{}", function_error="Unhandled")).startswith("<LambdaResponse fn 200 Unhandled error")


def test_event_and_dryrun_statuses_are_ok() -> None:
    assert make(status_code=202, invocation_type="Event").ok
    assert make(status_code=204, invocation_type="DryRun").payload is None


def test_to_dict_is_plain_data() -> None:
    body = {"errorMessage": "x", "errorType": "E", "stackTrace": ["a"]}
    data = make(json.dumps(body).encode(), function_error="Handled", request_id="r").to_dict()
    json.dumps(data)  # plain data all the way down
    assert data["error"]["stack_trace"] == ["a"]
    assert data["ok"] is False and data["request_id"] == "r"
