"""InvokeWithResponseStream on the sandbox, read by boto3's own event-stream parser."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from sandbox_fixtures import lambda_client, running_sandbox, write_module

from lambda_magic.sandbox import Sandbox
from lambda_magic.sandbox._event_stream import encode_message, invoke_complete, payload_chunk

pytestmark = pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="awslambdaric is Linux-only")

HANDLERS = """
    import pathlib, time

    def gated(event, context):
        yield "first\\n"
        deadline = time.time() + 20
        while not pathlib.Path(event["release"]).exists():
            if time.time() > deadline:
                yield "not released\\n"
                return
            time.sleep(0.01)
        yield b"second\\n"
        yield {"third": 3}

    def plain(event, context):
        print("plain ran")
        return {"echo": event}

    def breaks(event, context):
        yield "partial"
        raise ValueError("broke after one chunk")

    def empty(event, context):
        return iter(())
"""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("streaming")
    write_module(code, "streams", HANDLERS)
    with running_sandbox(demo=False) as sb:
        for name in ("gated", "plain", "breaks", "empty"):
            sb.add_function(name, code=code, handler=f"streams.{name}", timeout=30)
        yield sb


def _decode(data: bytes) -> list[Any]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_encoder_is_read_by_botocores_parser() -> None:
    chunk, done = _decode(payload_chunk(b"\x00bytes\xff") + invoke_complete(error_code="Unhandled", log_result="bG9n"))
    assert chunk.headers == {
        ":event-type": "PayloadChunk",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    assert chunk.payload == b"\x00bytes\xff"
    assert done.headers[":event-type"] == "InvokeComplete"
    assert json.loads(done.payload) == {"ErrorCode": "Unhandled", "LogResult": "bG9n"}


def test_encoder_checksums_cover_the_message() -> None:
    message = bytearray(encode_message({"é": "ü"}, b"payload"))
    assert struct.unpack(">I", message[:4])[0] == len(message)
    assert _decode(bytes(message))[0].headers == {"é": "ü"}
    message[-6] ^= 0xFF  # one payload byte changed: the message CRC no longer matches
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(message))


def _events(response: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for event in response["EventStream"]:
        ((kind, body),) = event.items()
        yield kind, body


def test_generator_chunks_arrive_while_the_handler_still_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    release = tmp_path / "release"
    client = lambda_client(sandbox)
    response = client.invoke_with_response_stream(
        FunctionName="gated", Payload=json.dumps({"release": str(release)}).encode(), LogType="Tail"
    )
    assert (response["StatusCode"], response["ExecutedVersion"]) == (200, "$LATEST")
    events = _events(response)
    assert next(events) == ("PayloadChunk", {"Payload": b"first\n"})
    release.touch()  # the handler waits for this: the first chunk came before it could end
    rest = list(events)
    assert rest[:2] == [("PayloadChunk", {"Payload": b"second\n"}), ("PayloadChunk", {"Payload": b'{"third": 3}'})]
    kind, complete = rest[2]
    assert kind == "InvokeComplete" and "ErrorCode" not in complete
    log = base64.b64decode(complete["LogResult"]).decode()
    assert f"END RequestId: {response['ResponseMetadata']['RequestId']}" in log


def test_a_reader_that_goes_away_leaves_the_function_running(sandbox: Sandbox, tmp_path: Path) -> None:
    release = tmp_path / "release"
    client = lambda_client(sandbox)
    response = client.invoke_with_response_stream(
        FunctionName="gated", Payload=json.dumps({"release": str(release)}).encode()
    )
    request_id = response["ResponseMetadata"]["RequestId"]
    assert next(_events(response)) == ("PayloadChunk", {"Payload": b"first\n"})
    response["EventStream"].close()  # the reader is gone (Ctrl-C)
    release.touch()
    logs = sandbox_logs(sandbox)
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline and not any(m.startswith("REPORT") for m in messages):
        time.sleep(0.05)
        answer = logs.filter_log_events(logGroupName="/aws/lambda/gated", filterPattern=f'"{request_id}"')
        messages = [e["message"] for e in answer["events"]]
    assert [m.split()[0] for m in messages] == ["START", "END", "REPORT"]
    assert client.invoke(FunctionName="plain")["StatusCode"] == 200  # the sandbox serves on


def test_a_plain_handler_answers_one_chunk(sandbox: Sandbox) -> None:
    response = lambda_client(sandbox).invoke_with_response_stream(FunctionName="plain", Payload=b'{"a": 1}')
    events = list(_events(response))
    assert events[0] == ("PayloadChunk", {"Payload": b'{"echo": {"a": 1}}'})
    assert events[1] == ("InvokeComplete", {})  # no LogType=Tail, no log
    assert len(events) == 2


def test_an_error_after_chunks_ends_with_the_error(sandbox: Sandbox) -> None:
    response = lambda_client(sandbox).invoke_with_response_stream(FunctionName="breaks")
    events = list(_events(response))
    assert events[0] == ("PayloadChunk", {"Payload": b"partial"})
    kind, complete = events[1]
    assert kind == "InvokeComplete" and complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert (details["errorType"], details["errorMessage"]) == ("ValueError", "broke after one chunk")
    assert all("bootstrap.py" not in line for line in details["stackTrace"])
    assert any("in breaks" in line for line in details["stackTrace"])


def test_buffered_invoke_joins_a_generators_items(sandbox: Sandbox, tmp_path: Path) -> None:
    release = tmp_path / "release"
    release.touch()
    answer = lambda_client(sandbox).invoke(FunctionName="gated", Payload=json.dumps({"release": str(release)}).encode())
    assert answer["Payload"].read() == b'first\nsecond\n{"third": 3}'
    assert lambda_client(sandbox).invoke(FunctionName="empty")["Payload"].read() == b""


def test_streaming_refuses_event_and_unknown_functions(sandbox: Sandbox) -> None:
    client = lambda_client(sandbox)
    with pytest.raises(client.exceptions.InvalidParameterValueException, match="RequestResponse, DryRun"):
        client.invoke_with_response_stream(FunctionName="plain", InvocationType="Event")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke_with_response_stream(FunctionName="nope")
    dry = client.invoke_with_response_stream(FunctionName="plain", InvocationType="DryRun")
    assert dry["StatusCode"] == 204 and list(dry["EventStream"]) == []


def test_streamed_invocations_are_in_the_logs(sandbox: Sandbox) -> None:
    client = lambda_client(sandbox)
    request_id = client.invoke_with_response_stream(FunctionName="plain")["ResponseMetadata"]["RequestId"]
    logs = sandbox_logs(sandbox)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        events = logs.filter_log_events(logGroupName="/aws/lambda/plain", filterPattern=f'"{request_id}"')
        if any(e["message"].startswith("REPORT") for e in events["events"]):
            break
        time.sleep(0.05)
    assert [e["message"].split()[0] for e in events["events"]] == ["START", "END", "REPORT"]


def sandbox_logs(sandbox: Sandbox) -> Any:
    import boto3

    return boto3.client(
        "logs",
        endpoint_url=sandbox.endpoint_url,
        region_name=sandbox.region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
