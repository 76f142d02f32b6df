"""Invoke through the sandbox with unmodified boto3: results, errors, logs, versions."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import client_context, invoke_json, lambda_client, log_of, running_sandbox, write_module

from lambda_magic.sandbox import DEMO_DIR, Sandbox

pytestmark = pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="awslambdaric is Linux-only")

FUNCTIONS = {
    "counter": """
        import os
        COUNT = 0

        def handler(event, context):
            global COUNT
            COUNT += 1
            return {"count": COUNT, "pid": os.getpid()}
    """,
    "slow": """
        import time

        def handler(event, context):
            print("going to sleep")
            time.sleep(event.get("seconds", 30))
            return "woke up"
    """,
    "touch": """
        import pathlib

        def handler(event, context):
            pathlib.Path(event["path"]).write_text(event.get("text", "ran"))
            return {"wrote": event["path"]}
    """,
    "gate": """
        import pathlib, time

        def handler(event, context):
            pathlib.Path(event["started"]).write_text("in")
            while not pathlib.Path(event["release"]).exists():
                time.sleep(0.01)
            return "released"
    """,
    "crash": """
        import os

        def handler(event, context):
            print("about to exit")
            os._exit(3)
    """,
    "broken": """
        import module_that_does_not_exist

        def handler(event, context):
            return "never"
    """,
    "big": """
        def handler(event, context):
            return "x" * (7 * 1024 * 1024)
    """,
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("code")
    for module, source in FUNCTIONS.items():
        write_module(code, module, source)
    with running_sandbox() as sb:
        for module in FUNCTIONS:
            sb.add_function(module, code=code / f"{module}.py", timeout=1 if module == "slow" else 10)
        sb.add_function("gate", code=code / "gate.py", timeout=30, reserved_concurrency=1)
        sb.add_function("closed", code=code / "touch.py", reserved_concurrency=0)
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Any:
    return lambda_client(sandbox)


def test_echo_returns_event_and_context(client: Any) -> None:
    response, body = invoke_json(client, "echo", {"hello": "world"})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert body["event"] == {"hello": "world"}
    context = body["context"]
    assert context["function_name"] == "echo"
    assert context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == 128
    assert context["invoked_function_arn"] == ("arn:aws:lambda:us-east-1:123456789012:function:echo")
    assert context["log_group_name"] == "/aws/lambda/echo"
    assert 0 < context["remaining_time_in_millis"] <= 3000


def test_empty_payload_is_an_empty_object(client: Any) -> None:
    _, body = invoke_json(client, "echo")
    assert body["event"] == {}


def test_returned_error_is_not_a_function_error(client: Any) -> None:
    response, body = invoke_json(client, "fail", {"mode": "return"})
    assert "FunctionError" not in response
    assert body["ok"] is False


def test_raised_error_is_unhandled_with_the_runtime_error_body(client: Any) -> None:
    response, body = invoke_json(client, "fail", {"mode": "raise", "message": "boom"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert any("fail.py" in frame for frame in body["stackTrace"])


def test_timeout_kills_the_worker_and_reports_like_lambda(sandbox: Sandbox, client: Any) -> None:
    response, body = invoke_json(client, "slow", {"seconds": 30}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    request_id = response["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT[\d:.]+Z {request_id} Task timed out after 1\.00 seconds",
        body["errorMessage"],
    )
    log = log_of(response)
    assert "going to sleep" in log
    assert f"Task timed out after 1.00 seconds\nEND RequestId: {request_id}" in log
    assert not [w for w in sandbox.status()["workers"] if w["function"] == "slow" and w["state"] != "dead"]
    again, body = invoke_json(client, "slow", {"seconds": 0}, LogType="Tail")
    assert body == "woke up"
    assert "Init Duration" in log_of(again)  # the killed worker is gone: cold again


def test_log_tail_cold_then_warm(sandbox: Sandbox, client: Any) -> None:
    sandbox.add_function("logger_fresh", code=DEMO_DIR, handler="logger.handler")
    cold, _ = invoke_json(client, "logger_fresh", {"lines": 2}, LogType="Tail")
    warm, _ = invoke_json(client, "logger_fresh", {"lines": 2}, LogType="Tail")
    for response, is_cold in ((cold, True), (warm, False)):
        log = log_of(response)
        request_id = response["ResponseMetadata"]["RequestId"]
        assert f"START RequestId: {request_id} Version: $LATEST\n" in log
        assert f"END RequestId: {request_id}\n" in log
        report = re.search(rf"REPORT RequestId: {request_id}\t.*\n", log)
        assert report is not None
        fields = dict(part.split(": ", 1) for part in report[0].strip().split("\t")[1:])
        assert set(fields) >= {"Duration", "Billed Duration", "Memory Size", "Max Memory Used"}
        assert fields["Memory Size"] == "128 MB"
        assert re.fullmatch(r"\d+ MB", fields["Max Memory Used"])
        assert ("Init Duration" in fields) is is_cold
        assert "logger demo: writing 2 line(s)" in log
        assert re.search(rf"\[INFO\]\t\S+\t{request_id}\tline 2 of 2\n", log)


def test_log_result_is_absent_without_tail(client: Any) -> None:
    response, _ = invoke_json(client, "echo", {})
    assert "LogResult" not in response


def test_warm_worker_keeps_module_state(client: Any) -> None:
    _, first = invoke_json(client, "counter", {})
    _, second = invoke_json(client, "counter", {})
    assert second["count"] == first["count"] + 1
    assert second["pid"] == first["pid"]


def test_alias_runs_the_version_it_points_to(client: Any) -> None:
    response, body = invoke_json(client, "health_check", {"service": "web"}, Qualifier="prod")
    assert response["ExecutedVersion"] == "1"
    assert body["version"] == "1"
    assert body["release"] == "1.0.0"
    assert body["status"] == "healthy"
    assert [check["name"] for check in body["checks"]] == ["http", "database", "latency"]
    response, body = invoke_json(client, "health_check", {"service": "web"}, Qualifier="2")
    assert response["ExecutedVersion"] == "2"
    assert body["release"] == "2.0.0"
    assert "disk" in [check["name"] for check in body["checks"]]


@pytest.mark.parametrize(
    "target",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:health_check:prod",
        "123456789012:function:health_check:prod",
        "health_check:prod",
    ],
)
def test_qualified_names_and_arns(client: Any, target: str) -> None:
    response, body = invoke_json(client, target, {"service": "db"})
    assert response["ExecutedVersion"] == "1"
    assert body["service"] == "db"


def test_a_qualifier_that_contradicts_the_name_is_refused(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.invoke(FunctionName="health_check:prod", Qualifier="2", Payload=b"{}")


def test_runbook_check_restart_verify(client: Any) -> None:
    _, health = invoke_json(client, "health_check", {"service": "web", "simulate": "down"})
    assert health["status"] == "down"
    _, restart = invoke_json(client, "restart_service", {"service": "web"})
    assert restart["restarted"] is True
    assert restart["service"] == "web"
    _, verify = invoke_json(client, "health_check", {"service": "web", "simulate": "down", "restarted": "web"})
    assert verify["status"] == "healthy"


def _wait_for(path: Path, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.01)
    return False


def test_event_answers_202_and_runs_in_the_background(client: Any, tmp_path: Path) -> None:
    marker = tmp_path / "event-ran"
    response = client.invoke(
        FunctionName="touch", InvocationType="Event", Payload=json.dumps({"path": str(marker)}).encode()
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert _wait_for(marker)


def test_dry_run_answers_204_and_runs_nothing(client: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "dry-run-ran"
    response = client.invoke(
        FunctionName="touch", InvocationType="DryRun", Payload=json.dumps({"path": str(marker)}).encode()
    )
    assert response["StatusCode"] == 204
    # Had the dry run been run, it would have finished before this later call on the
    # function's only idle worker.
    invoke_json(client, "touch", {"path": str(tmp_path / "after")})
    assert not marker.exists()
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="touch", InvocationType="DryRun", Qualifier="9")


def test_unknown_function_is_resource_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.invoke(FunctionName="nope", Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "function:nope" in error["Error"]["Message"]


@pytest.mark.parametrize("qualifier, word", [("7", "version"), ("staging", "alias")])
def test_unknown_qualifier_is_resource_not_found(client: Any, qualifier: str, word: str) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.invoke(FunctionName="echo", Qualifier=qualifier, Payload=b"{}")
    message = caught.value.response["Error"]["Message"]
    assert f"function:echo:{qualifier}" in message
    assert f"no {word} '{qualifier}'" in message


def test_payload_over_6_mb_is_request_too_large(client: Any) -> None:
    payload = json.dumps({"pad": "x" * (6 * 1024 * 1024)}).encode()
    with pytest.raises(client.exceptions.RequestTooLargeException) as caught:
        client.invoke(FunctionName="echo", Payload=payload)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_event_payload_over_1_mb_is_request_too_large(client: Any) -> None:
    payload = json.dumps({"pad": "x" * (1024 * 1024)}).encode()
    with pytest.raises(client.exceptions.RequestTooLargeException):
        client.invoke(FunctionName="echo", InvocationType="Event", Payload=payload)


def test_response_over_6_mb_is_a_function_error(client: Any) -> None:
    response, body = invoke_json(client, "big", {})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"


def test_payload_that_is_not_json_is_invalid_request_content(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="echo", Payload=b"{not json")


def test_reserved_concurrency_zero_always_throttles(client: Any) -> None:
    with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
        client.invoke(FunctionName="closed", Payload=b"{}")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["ResponseMetadata"]["HTTPHeaders"]["retry-after"]


def test_reserved_concurrency_used_up_throttles(sandbox: Sandbox, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    first_client, second_client = lambda_client(sandbox), lambda_client(sandbox)
    results: list[Any] = []
    event = json.dumps({"started": str(started), "release": str(release)}).encode()
    holder = threading.Thread(
        target=lambda: results.append(first_client.invoke(FunctionName="gate", Payload=event)["Payload"].read())
    )
    holder.start()
    try:
        assert _wait_for(started)
        with pytest.raises(second_client.exceptions.TooManyRequestsException) as caught:
            second_client.invoke(FunctionName="gate", Payload=event)
        assert caught.value.response["Reason"] == ("ReservedFunctionConcurrentInvocationLimitExceeded")
    finally:
        release.write_text("go")
        holder.join(timeout=30)
    assert results == [b'"released"']


def test_client_context_reaches_the_handler(client: Any) -> None:
    context = {"custom": {"runbook": "restart"}, "env": {"locale": "en"}, "client": {"app_title": "notebook"}}
    _, body = invoke_json(client, "echo", {}, ClientContext=client_context(context))
    seen = body["context"]["client_context"]
    assert seen["custom"] == {"runbook": "restart"}
    assert seen["env"] == {"locale": "en"}
    assert seen["client"]["app_title"] == "notebook"


def test_tenant_id_reaches_the_handler(client: Any) -> None:
    _, body = invoke_json(client, "echo", {}, TenantId="acme-1")
    assert body["context"]["tenant_id"] == "acme-1"


def test_bad_client_context_is_refused(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.invoke(FunctionName="echo", Payload=b"{}", ClientContext="not base64 json!")


def test_worker_that_exits_reports_runtime_exit_error(client: Any) -> None:
    response, body = invoke_json(client, "crash", {}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    assert "about to exit" in log_of(response)


def test_import_error_is_reported_as_lambda_init_error(client: Any) -> None:
    response, body = invoke_json(client, "broken", {}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in body["errorMessage"]
    assert "Init Duration" in log_of(response)


def test_concurrent_calls_get_more_workers(sandbox: Sandbox, tmp_path: Path) -> None:
    release = tmp_path / "release"
    sandbox.add_function("hold", code=sandbox.registry.get("gate").latest.code_dir / "gate.py", timeout=30)
    results: list[Any] = []

    def call(index: int) -> None:
        event = {"started": str(tmp_path / f"started-{index}"), "release": str(release)}
        results.append(invoke_json(lambda_client(sandbox), "hold", event)[1])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        # Both handlers are running at once, so two workers exist.
        assert _wait_for(tmp_path / "started-0") and _wait_for(tmp_path / "started-1")
        holders = [w for w in sandbox.status()["workers"] if w["function"] == "hold"]
        assert len({w["pid"] for w in holders}) == 2
    finally:
        release.write_text("go")
        for thread in threads:
            thread.join(timeout=30)
    assert results == ["released", "released"]
