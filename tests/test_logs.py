"""Whole logs from CloudWatch Logs: %lambda_logs and response.logs() through a real shell
against the sandbox's Logs API, boto3's logs client against the sandbox, and moto's Logs."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from IPython.core.error import UsageError

from lambda_magic import session_settings
from lambda_magic._exceptions import AccessDeniedError
from lambda_magic._logs import follow_logs, parse_since, read_logs
from lambda_magic._settings import resolve_settings
from lambda_magic.sandbox import Sandbox

HANDLERS = """
    import logging

    logging.getLogger().setLevel(logging.INFO)

    def handler(event, context):
        print(f"working on {event.get('job')}")
        logging.info("logged for %s", event.get("job"))
        print("x" * event.get("padding", 0))
        return {"job": event.get("job")}
"""


@pytest.fixture(scope="module")
def log_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("log-code")
    (code / "chatty.py").write_text(textwrap.dedent(HANDLERS))
    with Sandbox(demo=False) as sandbox:
        sandbox.add_function("chatty", code=code, handler="chatty.handler")
        sandbox.add_function("fresh", code=code, handler="chatty.handler")  # one test's alone
        yield sandbox


@pytest.fixture
def on_sandbox(log_sandbox: Sandbox, aws_env: None) -> Sandbox:
    session_settings().update(endpoint_url=log_sandbox.endpoint_url, region=log_sandbox.region)
    return log_sandbox


def _messages(lines: Any) -> list[str]:
    return [line.message.rstrip("\n") for line in lines]


def test_event_invocation_log_is_found_by_its_request_id(
    shell: Any, on_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell_magic("lambda_invoke", "chatty -t Event -o fired", '{"job": "fire-and-forget"}')
    shell.run_cell_magic("lambda_invoke", "chatty -o other", '{"job": "another"}')
    fired = shell.user_ns["fired"]
    assert fired.status_code == 202 and fired.log is None  # Lambda returns no log for Event
    rid = fired.request_id
    # --follow with a request id waits for the invocation's REPORT line, then stops.
    shell.run_line_magic("lambda_logs", f"chatty --request-id {rid} --follow")
    printed = capsys.readouterr().out
    assert f"REPORT RequestId: {rid}" in printed
    lines = shell.run_line_magic("lambda_logs", f"chatty --request-id {rid} -o logs")
    assert shell.user_ns["logs"] is lines
    text = lines.text
    assert text.startswith(f"START RequestId: {rid}") and "working on fire-and-forget" in text
    assert f"\t{rid}\tlogged for fire-and-forget" in text  # the runtime's logging line
    assert "another" not in text  # the other invocation's lines are not this one's
    assert _messages(lines)[-1].startswith(f"REPORT RequestId: {rid}")
    assert lines.group == "/aws/lambda/chatty"


def test_response_logs_has_more_than_the_4kb_tail(on_sandbox: Sandbox) -> None:
    from lambda_magic import invoke

    response = invoke("chatty", {"job": "big", "padding": 10_000})
    assert "working on big" not in response.log  # pushed out of the 4 KB tail
    lines = response.logs()
    assert "working on big" in lines.text and "x" * 10_000 in lines.text
    assert _messages(lines)[0] == f"START RequestId: {response.request_id} Version: $LATEST"


def test_event_response_logs_waits_for_the_report(on_sandbox: Sandbox) -> None:
    from lambda_magic import invoke

    # The function's first invocation: its log group does not exist until it has logged.
    response = invoke("fresh", {"job": "later"}, invocation_type="Event")
    lines = response.logs(wait=20)
    assert lines.note is None and "working on later" in lines.text


def test_a_cold_starts_output_is_inside_its_invocation(on_sandbox: Sandbox, tmp_path: Path) -> None:
    from lambda_magic import invoke

    (tmp_path / "chatty.py").write_text(textwrap.dedent(HANDLERS))
    for round_ in range(3):  # redefined each time: every call starts a new worker
        on_sandbox.add_function("cold", code=tmp_path, handler="chatty.handler")
        response = invoke("cold", {"job": f"cold-{round_}"})
        lines = response.log.splitlines()
        assert lines[0].startswith("START RequestId:"), response.log
        assert lines[1] == f"working on cold-{round_}"


def test_filter_and_since(shell: Any, on_sandbox: Sandbox) -> None:
    shell.run_cell_magic("lambda_invoke", "chatty --quiet", '{"job": "needle-42"}')
    lines = shell.run_line_magic("lambda_logs", 'chatty --since 5m --filter "working needle-42"')
    assert _messages(lines) == ["working on needle-42"]
    assert "1 line" in repr(lines._repr_html_())


def test_bad_input_is_one_line_and_nothing_is_read(shell: Any, on_sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="--since 'soon': give a duration such as 30s, 10m"):
        shell.run_line_magic("lambda_logs", "chatty --since soon")
    with pytest.raises(UsageError, match="log group /aws/lambda/nobody does not exist"):
        shell.run_line_magic("lambda_logs", "nobody")


def test_unknown_request_id_says_so(shell: Any, on_sandbox: Sandbox) -> None:
    lines = shell.run_line_magic("lambda_logs", "chatty --request-id 00000000-0000-0000-0000-000000000000")
    assert len(lines) == 0 and "no START line" in lines.note


def test_follow_prints_each_new_line_once(on_sandbox: Sandbox) -> None:
    from lambda_magic import invoke

    seen: list[str] = []
    polls: list[int] = []

    def between_polls(seconds: float) -> None:
        polls.append(1)
        invoke("chatty", {"job": f"poll-{len(polls)}"})

    invoke("chatty", {"job": "poll-0"})
    follow_logs(
        "chatty",
        resolve_settings(),
        lambda line: seen.append(line.message),
        filter_pattern="working",
        since=60,
        poll=0,
        sleep=between_polls,
        stop=lambda: len(polls) >= 3,
    )
    jobs = [m.split()[-1] for m in seen if m.startswith("working on poll-")]
    assert jobs == ["poll-0", "poll-1", "poll-2"], seen


def test_follow_stops_at_ctrl_c_and_keeps_what_it_printed(
    shell: Any, on_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambda_magic._logs_magics import LogsMagics

    shell.run_cell_magic("lambda_invoke", "chatty --quiet", '{"job": "before-follow"}')
    magics = shell.magics_manager.registry["LogsMagics"]
    polls: list[float] = []

    def ctrl_c_on_the_second_wait(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            raise KeyboardInterrupt

    magics.poll_sleep = ctrl_c_on_the_second_wait
    try:
        line = 'chatty --follow --filter "working before-follow" -o followed'
        assert shell.run_line_magic("lambda_logs", line) is None
    finally:
        magics.poll_sleep = LogsMagics.poll_sleep
    printed = capsys.readouterr().out
    assert printed.count("working on before-follow") == 1  # printed once over two polls
    assert printed.rstrip().endswith("stopped following the logs of chatty")
    assert [line.message.strip() for line in shell.user_ns["followed"]] == ["working on before-follow"]


def test_boto3_logs_client_reads_the_sandbox(on_sandbox: Sandbox) -> None:
    from lambda_magic import invoke

    response = invoke("chatty", {"job": "boto3"})
    logs = boto3.client("logs", endpoint_url=on_sandbox.endpoint_url, region_name=on_sandbox.region)
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert "/aws/lambda/chatty" in [g["logGroupName"] for g in groups]
    events = logs.filter_log_events(logGroupName="/aws/lambda/chatty", filterPattern=f'"{response.request_id}"')[
        "events"
    ]
    assert [e["message"].split()[0] for e in events] == ["START", "[INFO]", "END", "REPORT"]


@pytest.fixture
def moto_logs(aws_env: None) -> Iterator[Any]:
    """moto's Logs with two invocations of ``echo`` in one stream, as Lambda writes them."""
    from moto import mock_aws

    with mock_aws():
        logs = boto3.client("logs")
        logs.create_log_group(logGroupName="/aws/lambda/echo")
        logs.create_log_stream(logGroupName="/aws/lambda/echo", logStreamName="2026/12/02/[$LATEST]abc")
        now = int(time.time() * 1000)
        lines = []
        for rid in ("rid-one", "rid-two"):
            lines += [
                f"START RequestId: {rid} Version: $LATEST",
                f"printed by {rid}",
                f"END RequestId: {rid}",
                f"REPORT RequestId: {rid}\tDuration: 1.00 ms",
            ]
        logs.put_log_events(
            logGroupName="/aws/lambda/echo",
            logStreamName="2026/12/02/[$LATEST]abc",
            logEvents=[{"timestamp": now - 8 + i, "message": m} for i, m in enumerate(lines)],
        )
        yield logs


def test_moto_logs_by_request_id(shell: Any, moto_logs: Any) -> None:
    lines = shell.run_line_magic("lambda_logs", "echo --request-id rid-two")
    assert _messages(lines) == [
        "START RequestId: rid-two Version: $LATEST",
        "printed by rid-two",
        "END RequestId: rid-two",
        "REPORT RequestId: rid-two\tDuration: 1.00 ms",
    ]
    everything = shell.run_line_magic("lambda_logs", "echo --since 1h")
    assert len(everything) == 8


def test_access_denied_names_the_permission(aws_env: None) -> None:
    from botocore.stub import Stubber

    client = boto3.client("logs", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("filter_log_events", "AccessDeniedException", "not authorized", http_status_code=400)
        with pytest.raises(AccessDeniedError, match="the credentials need logs:FilterLogEvents"):
            read_logs("fn", resolve_settings(), client=client, group="/aws/lambda/fn")


@pytest.mark.parametrize(
    ("text", "seconds"), [("30", 30), ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1.5h", 5400)]
)
def test_parse_since(text: str, seconds: float) -> None:
    assert parse_since(text) == seconds
