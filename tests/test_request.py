"""The request object: validation against the Invoke API's own rules."""

from __future__ import annotations

import base64
import json

import pytest

from lambda_magic import ParameterError, PayloadError, make_request
from lambda_magic._request import normalize_invocation_type


@pytest.mark.parametrize(
    ("spelling", "api"),
    [
        ("request", "RequestResponse"),
        ("REQUEST", "RequestResponse"),
        ("RequestResponse", "RequestResponse"),
        ("event", "Event"),
        ("Event", "Event"),
        ("dryrun", "DryRun"),
        ("DryRun", "DryRun"),
    ],
)
def test_invocation_type_accepts_api_and_runbook_names(spelling: str, api: str) -> None:
    assert normalize_invocation_type(spelling) == api


def test_unknown_invocation_type_is_one_line() -> None:
    with pytest.raises(ParameterError, match="unknown invocation type 'sometimes'"):
        make_request("fn", invocation_type="sometimes")


@pytest.mark.parametrize(
    "name",
    [
        "my-function",
        "my_function.v2",
        "fn:prod",
        "fn:$LATEST",
        "123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn:7",
    ],
)
def test_function_names_lambda_accepts(name: str) -> None:
    assert make_request(name).function_name == name


@pytest.mark.parametrize("name", ["my function", "fn/../x", "a" * 257, "fn:prod:extra"])
def test_malformed_function_name(name: str) -> None:
    with pytest.raises(ParameterError, match="malformed function name"):
        make_request(name)


def test_missing_function_name() -> None:
    with pytest.raises(ParameterError, match="no function given"):
        make_request("  ")


@pytest.mark.parametrize(
    ("field", "value"),
    [("qualifier", "bad alias!"), ("tenant_id", "tenant#1"), ("durable_execution_name", "has space")],
)
def test_malformed_optional_fields(field: str, value: str) -> None:
    with pytest.raises(ParameterError, match="malformed"):
        make_request("fn", **{field: value})


def test_api_params_carry_every_field() -> None:
    request = make_request(
        "fn",
        b'{"a": 1}',
        invocation_type="event",
        qualifier="prod",
        client_context={"custom": {"k": "v"}},
        tenant_id="t-1",
        durable_execution_name="run-1",
    )
    params = request.to_api_params()
    assert params["InvocationType"] == "Event"
    assert params["LogType"] == "None"  # Event calls never return a log tail
    assert params["Qualifier"] == "prod"
    assert json.loads(base64.b64decode(params["ClientContext"])) == {"custom": {"k": "v"}}
    assert params["TenantId"] == "t-1"
    assert params["DurableExecutionName"] == "run-1"
    assert params["Payload"] == b'{"a": 1}'


def test_no_payload_sends_none() -> None:
    assert "Payload" not in make_request("fn").to_api_params()
    assert make_request("fn").to_api_params()["LogType"] == "Tail"


@pytest.mark.parametrize(("kind", "limit"), [("RequestResponse", 6 * 1024 * 1024), ("Event", 1024 * 1024)])
def test_payload_over_the_limit_is_refused_before_sending(kind: str, limit: int) -> None:
    make_request("fn", b" " * limit, invocation_type=kind)
    with pytest.raises(PayloadError, match=f"over Lambda's {limit:,}-byte limit for {kind}"):
        make_request("fn", b" " * (limit + 1), invocation_type=kind)


def test_client_context_from_json_text() -> None:
    assert make_request("fn", client_context='{"env": {"stage": "dev"}}').client_context == {"env": {"stage": "dev"}}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "not valid JSON \\(line 1, column 2"),
        ("[1, 2]", "must be a JSON object"),
        ({"custom": {"blob": "x" * 3000}}, "over Lambda's 3,583-byte limit"),
        ({"custom": {1, 2}}, "cannot be encoded as JSON"),
    ],
)
def test_bad_client_context(value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        make_request("fn", client_context=value)
