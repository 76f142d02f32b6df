"""%%lambda_invoke through a real IPython InteractiveShell, against moto and the loopback fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from lambda_magic import LambdaResponse, history
from lambda_magic.testing import FakeLambda, Reply, report_log


def run(shell: Any, cell: str) -> Any:
    result = shell.run_cell(cell)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


def usage_error(shell: Any, cell: str) -> str:
    """Run a cell that must fail with IPython's own UsageError, in one line."""
    result = shell.run_cell(cell)
    error = result.error_in_exec
    assert type(error) is UsageError, f"expected UsageError, got {error!r}"
    assert "\n" not in str(error)
    return str(error)


def test_invoke_against_moto_returns_python_objects(shell: Any, moto_lambda: Any) -> None:
    response = run(shell, '%%lambda_invoke echo -o resp\n{"instance": "i-123", "count": 2}')
    assert isinstance(response, LambdaResponse)
    assert response.payload == {"instance": "i-123", "count": 2}
    assert shell.user_ns["resp"] is response
    assert shell.user_ns["_"] is response


def test_qualifier_and_alias_against_moto(shell: Any, moto_lambda: Any) -> None:
    assert run(shell, '%%lambda_invoke echo -q prod\n{"v": 1}').payload == {"v": 1}
    assert run(shell, '%%lambda_invoke echo:1\n{"v": 2}').qualifier is None


def test_chaining_one_response_into_the_next(shell: Any, moto_lambda: Any) -> None:
    run(shell, '%%lambda_invoke echo -o first\n{"id": 41, "name": "web"}')
    cell = '%%lambda_invoke echo\n{"next": ${first.payload["id"] + 1}, "label": "svc-${first.payload["name"]}"}'
    second = run(shell, cell)
    assert second.payload == {"next": 42, "label": "svc-web"}
    shell.user_ns["event"] = {"from": "variable"}
    assert run(shell, "%%lambda_invoke echo\n$event").payload == {"from": "variable"}


def test_line_magic_payload_option_and_file(shell: Any, moto_lambda: Any, tmp_path: Path) -> None:
    assert run(shell, """%lambda_invoke echo --payload '{"line": true}'""").payload == {"line": True}
    path = tmp_path / "event.json"
    path.write_text('{"file": true}')
    assert run(shell, f"%lambda_invoke echo --payload @{path}").payload == {"file": True}


def test_event_and_dryrun(shell: Any, fake: FakeLambda) -> None:
    event = run(shell, '%%lambda_invoke fn -t event\n{"a": 1}')
    assert event.status_code == 202 and event.payload is None and event.ok
    assert run(shell, "%lambda_invoke fn --type DRYRUN").status_code == 204  # no body: the line magic
    assert [c.headers["x-amz-invocation-type"] for c in fake.calls] == ["Event", "DryRun"]


def test_client_context_option_and_variable(shell: Any, fake: FakeLambda) -> None:
    import base64

    run(shell, """%%lambda_invoke fn -c '{"custom": {"k": "v"}}'\n{}""")
    shell.user_ns["ctx"] = {"env": {"stage": "dev"}}
    run(shell, "%%lambda_invoke fn -c $ctx\n{}")
    sent = [json.loads(base64.b64decode(c.headers["x-amz-client-context"])) for c in fake.calls]
    assert sent == [{"custom": {"k": "v"}}, {"env": {"stage": "dev"}}]


def test_function_error_is_displayed_stored_and_raised(shell: Any, fake: FakeLambda) -> None:
    trace = ['  File "/var/task/app.py", line 7, in handler\n    raise ValueError("bad input")\n']
    fake.on("fails", lambda call: Reply.function_error("bad input", trace=trace, log=report_log()))
    response = run(shell, "%%lambda_invoke fails -o failed\n{}")
    assert shell.user_ns["failed"] is response and not response.ok
    html = response._repr_html_()
    assert "ValueError: bad input" in html and "line 7, in handler" in html and "REPORT RequestId" in html
    message = usage_error(shell, "%%lambda_invoke fails -o stored --raise\n{}")
    assert message == "function fails failed (Unhandled): ValueError: bad input (response stored in stored)"
    assert shell.user_ns["stored"].error.type == "ValueError"


def test_raise_on_error_setting_fails_the_cell(shell: Any, fake: FakeLambda) -> None:
    fake.on("fails", lambda call: Reply.function_error("nope"))
    shell.run_line_magic("lambda_config", "raise_on_error=true")
    assert "ValueError: nope" in usage_error(shell, "%%lambda_invoke fails\n{}")


def test_log_tail_is_default_and_no_log_turns_it_off(shell: Any, fake: FakeLambda) -> None:
    fake.on("fn", lambda call: Reply.ok({}, log=report_log(duration=3.5, init=120.0)))
    response = run(shell, "%%lambda_invoke fn\n{}")
    assert response.report.duration_ms == 3.5 and response.report.cold_start
    run(shell, "%%lambda_invoke fn --no-log\n{}")
    assert [c.headers["x-amz-log-type"] for c in fake.calls] == ["Tail", "None"]


def test_executed_version_and_request_id(shell: Any, fake: FakeLambda) -> None:
    fake.on("fn", lambda call: Reply.ok({}, version="7"))
    response = run(shell, "%%lambda_invoke fn -q prod\n{}")
    assert response.executed_version == "7" and response.request_id
    assert fake.calls[-1].qualifier == "prod"


def test_quiet_returns_nothing_but_stores(shell: Any, fake: FakeLambda) -> None:
    assert run(shell, "%%lambda_invoke fn --quiet -o r\n{}") is None
    assert shell.user_ns["r"].ok


def test_options_override_settings(shell: Any, fake: FakeLambda) -> None:
    other = FakeLambda().start()
    try:
        run(shell, f"%%lambda_invoke fn --endpoint-url {other.url} --region eu-west-1 --timeout 5\n{{}}")
    finally:
        other.stop()
    assert other.per_function["fn"] == 1 and fake.per_function["fn"] == 0
    assert history[-1].region == "eu-west-1"


def test_history_records_the_cell(shell: Any, fake: FakeLambda) -> None:
    run(shell, '%%lambda_invoke fn\n{"n": ${1 + 1}}')
    entry = history[-1]
    assert entry.origin == "magic" and entry.cell.strip() == '{"n": ${1 + 1}}'
    assert entry.request.substitutions == (("1 + 1", 2),)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('%%lambda_invoke fn\n{"a": 1,\n "b": }', "payload is not valid JSON: Expecting value at line 2, column 7"),
        ("%%lambda_invoke fn\n$nothing_here", "name 'nothing_here' is not defined in the notebook"),
        ('%%lambda_invoke fn\n{"a": ${nothing_here}}', "name 'nothing_here' is not defined"),
        ('%%lambda_invoke fn\n{"a": ${object()}}', "cannot be sent as JSON"),
        ("%%lambda_invoke fn -t sometimes\n{}", "unknown invocation type 'sometimes'"),
        ("%%lambda_invoke 'my fn'\n{}", "malformed function name 'my fn'"),
        ("%%lambda_invoke fn -q 'bad alias'\n{}", "malformed qualifier 'bad alias'"),
        ("%%lambda_invoke fn --tenant-id 'a#b'\n{}", "malformed tenant id"),
        ("%%lambda_invoke fn -c '[1]'\n{}", "client context must be a JSON object"),
        ("%%lambda_invoke fn -c $nothing_here\n{}", "client context $nothing_here: name 'nothing_here' is not defined"),
        ("%%lambda_invoke fn -o 'not a name'\n{}", "is not a Python variable name"),
        ("""%%lambda_invoke fn --payload '{"a": 1}'\n{"b": 2}""", "not both"),
        ("%%lambda_invoke fn --bogus\n{}", "unrecognized arguments: --bogus"),
        ("%%lambda_invoke fn -c '{unclosed\n{}", "cannot parse the magic's line"),
        ("%%lambda_invoke\n{}", "the following arguments are required: function"),
        ("%%lambda_invoke fn --timeout -1\n{}", "read_timeout must be a positive number of seconds, not -1 (option)"),
    ],
)
def test_user_mistakes_are_one_line_usage_errors_and_nothing_is_sent(
    shell: Any, fake: FakeLambda, cell: str, message: str
) -> None:
    assert message in usage_error(shell, cell)
    assert fake.calls == []


def test_payload_over_the_event_limit_is_refused_before_sending(shell: Any, fake: FakeLambda) -> None:
    shell.user_ns["big"] = {"blob": "x" * (1024 * 1024)}
    assert "over Lambda's 1,048,576-byte limit for Event" in usage_error(shell, "%%lambda_invoke fn -t event\n$big")
    assert fake.calls == []


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.error(404, "ResourceNotFoundException", "Function not found"), "function fn not found in us-east-1"),
        (Reply.error(403, "AccessDeniedException", "denied"), "the credentials need lambda:InvokeFunction"),
        (Reply.error(403, "ExpiredTokenException", "expired"), "AWS refused the credentials (ExpiredTokenException)"),
        (Reply.error(413, "RequestTooLargeException", "too big"), "too large"),
    ],
)
def test_aws_failures_are_one_line_usage_errors(shell: Any, fake: FakeLambda, reply: Reply, message: str) -> None:
    fake.script("fn", reply)
    assert message in usage_error(shell, "%%lambda_invoke fn -o kept\n{}")
    assert "kept" not in shell.user_ns  # nothing arrived, so nothing (stale or partial) was stored


def test_throttled_after_retries(shell: Any, fake: FakeLambda) -> None:
    shell.run_line_magic("lambda_config", "throttle_retries=1")
    fake.on("fn", lambda call: Reply.throttle(0.01))
    assert "is throttled" in usage_error(shell, "%%lambda_invoke fn\n{}")
    assert fake.per_function["fn"] == 2


def test_read_timeout_in_the_magic(shell: Any, fake: FakeLambda) -> None:
    fake.script("slow", Reply.ok({}, delay=1.0))
    message = usage_error(shell, "%%lambda_invoke slow --timeout 0.2\n{}")
    assert "may still be running and was not re-sent" in message


def test_no_credentials(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shell.run_line_magic("lambda_config", "region=us-east-1")
    assert "no AWS credentials" in usage_error(shell, "%%lambda_invoke fn\n{}")


def test_no_region(shell: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert "no AWS region: pass --region" in usage_error(shell, "%%lambda_invoke fn\n{}")


def test_unknown_profile(shell: Any) -> None:
    assert "AWS profile 'ghost' is not in ~/.aws/config" in usage_error(
        shell, "%%lambda_invoke fn --profile ghost --region us-east-1\n{}"
    )


def test_access_key_without_secret(shell: Any) -> None:
    shell.run_line_magic("lambda_config", "access_key=AKIAEXAMPLE000000 region=us-east-1")
    assert "access_key is set but secret_key_path is not" in usage_error(shell, "%%lambda_invoke fn\n{}")


def test_endpoint_unreachable(shell: Any, aws_env: None) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    shell.run_line_magic("lambda_config", "throttle_retries=1 throttle_max_wait=0.5")
    assert "cannot connect to" in usage_error(shell, f"%%lambda_invoke fn --endpoint-url http://127.0.0.1:{port}\n{{}}")


def test_help_lists_every_option(shell: Any) -> None:
    doc = shell.find_cell_magic("lambda_invoke").__doc__
    for option in (
        "--type",
        "--qualifier",
        "--client-context",
        "--output",
        "--payload",
        "--no-log",
        "--raise",
        "--quiet",
        "--region",
        "--profile",
        "--endpoint-url",
        "--timeout",
        "--tenant-id",
        "--durable-execution-name",
    ):
        assert option in doc


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:fn",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:fn",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:prod",
        "arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:fn",
    ],
)
def test_every_partitions_arn_is_sent(shell: Any, fake: FakeLambda, arn: str) -> None:
    run(shell, f"%%lambda_invoke {arn} --quiet\n{{}}")
    assert [call.function for call in fake.calls] == [arn]


def test_output_names_that_would_break_the_session_are_refused(shell: Any, fake: FakeLambda) -> None:
    for name in ("__builtins__", "class", "None", "print", "_5", "In"):
        assert f"-o {name}" in usage_error(shell, f"%%lambda_invoke fn -o {name}\n{{}}")
    assert fake.calls == []
    assert run(shell, "len([1, 2])") == 2  # the session still works
