"""Response streaming through a real IPython shell and the API: live chunks, the joined
payload, InvokeComplete's error and log, and the never-twice rules for broken streams."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import UsageError

from lambda_magic import history, invoke, session_settings
from lambda_magic._exceptions import InterruptedInvocationError, InvocationUnknownError, ParameterError
from lambda_magic._logs import follow_logs
from lambda_magic._settings import resolve_settings
from lambda_magic.sandbox import Sandbox
from lambda_magic.sandbox._event_stream import invoke_complete, payload_chunk
from lambda_magic.testing import FakeLambda, Reply

HANDLERS = """
    import time

    def ticker(event, context):
        for n in range(event.get("ticks", 3)):
            yield f"tick {n} at {time.time():.6f}\\n"
            time.sleep(event.get("pause", 0.4))

    def report(event, context):
        return {"status": "green", "event": event}

    def breaks(event, context):
        yield "partial "
        raise ValueError("broke after one chunk")
"""


@pytest.fixture(scope="module")
def stream_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("stream-code")
    (code / "streams.py").write_text(textwrap.dedent(HANDLERS))
    with Sandbox(demo=False) as sandbox:
        for name in ("ticker", "report", "breaks"):
            sandbox.add_function(name, code=code, handler=f"streams.{name}", timeout=30)
        yield sandbox


@pytest.fixture
def on_sandbox(stream_sandbox: Sandbox, aws_env: None) -> Sandbox:
    session_settings().update(endpoint_url=stream_sandbox.endpoint_url, region=stream_sandbox.region)
    return stream_sandbox


class RecordingPublisher(DisplayPublisher):
    """A notebook front end: records each display and update with the time it arrived."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.seen: list[tuple[float, str, bool]] = []

    def publish(
        self,
        data: dict[str, Any],
        metadata: Any = None,
        source: Any = None,
        *,
        transient: Any = None,
        update: bool = False,
        **kw: Any,
    ) -> None:
        self.seen.append((time.time(), data.get("text/plain", ""), update))


@pytest.fixture
def notebook(shell: Any) -> Iterator[RecordingPublisher]:
    publisher = RecordingPublisher(shell=shell)
    terminal, shell.display_pub = shell.display_pub, publisher
    yield publisher
    shell.display_pub = terminal


def _produced_at(text: str, n: int) -> float:
    """The handler's own timestamp of tick ``n`` in the streamed text."""
    line = next(line for line in text.splitlines() if line.startswith(f"tick {n} "))
    return float(line.rsplit(" ", 1)[1])


def test_notebook_shows_each_chunk_before_the_function_ends(
    shell: Any, on_sandbox: Sandbox, notebook: RecordingPublisher
) -> None:
    shell.run_cell_magic("lambda_invoke", "ticker --stream -o r", '{"ticks": 3, "pause": 0.4}')
    response = shell.user_ns["r"]
    assert len(response.chunks) == 3
    live = [(at, text) for at, text, _ in notebook.seen if text.startswith("tick")]
    # The first display holds tick 0 alone; each later update appends the next tick.
    assert [text.count("\n") for _, text in live] == [1, 2, 3]
    assert [update for _, text, update in notebook.seen] == [False, True, True, True]
    final = live[-1][1]
    for n in range(2):  # tick n was on screen before the handler produced tick n + 1
        assert live[n][0] < _produced_at(final, n + 1)
    assert notebook.seen[-1][1] == f"streamed 3 chunks ({len(response.raw_payload):,} bytes)"
    assert response.payload == final  # text: decoded as text
    assert "3 chunks streamed" in response._repr_html_()
    assert history[-1].request.stream and history[-1].response is response


def test_terminal_prints_chunks_as_they_arrive(
    shell: Any, on_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert type(shell.display_pub) is DisplayPublisher  # the terminal's publisher
    response = shell.run_cell_magic("lambda_invoke", "ticker --stream", '{"ticks": 2, "pause": 0}')
    printed = capsys.readouterr().out
    assert printed.startswith("tick 0 at ") and "tick 1 at " in printed
    assert printed.endswith(f"--- streamed 2 chunks ({len(response.raw_payload):,} bytes) ---\n")


def test_json_is_decoded_at_the_end_with_the_log_tail(
    shell: Any, on_sandbox: Sandbox, notebook: RecordingPublisher
) -> None:
    response = shell.run_cell_magic("lambda_invoke", "report --stream", '{"id": 7}')
    assert response.payload == {"status": "green", "event": {"id": 7}}
    assert response.chunks == (json.dumps(response.payload).encode(),)
    assert response.ok and response.executed_version == "$LATEST"
    assert response.report is not None and f"START RequestId: {response.request_id}" in response.log


def test_error_after_chunks_is_invoke_completes(shell: Any, on_sandbox: Sandbox, notebook: RecordingPublisher) -> None:
    shell.run_cell_magic("lambda_invoke", "breaks --stream -o r", "{}")
    response = shell.user_ns["r"]
    assert response.function_error == "Unhandled"
    assert (response.error.type, response.error.message) == ("ValueError", "broke after one chunk")
    assert response.payload == "partial " and response.chunks == (b"partial ",)
    with pytest.raises(UsageError, match=r"breaks failed \(Unhandled\): ValueError: broke after one chunk"):
        shell.run_cell_magic("lambda_invoke", "breaks --stream --raise", "{}")


def test_api_streams_to_on_chunk(on_sandbox: Sandbox) -> None:
    seen: list[bytes] = []
    response = invoke("ticker", {"ticks": 2, "pause": 0}, stream=True, on_chunk=seen.append)
    assert tuple(seen) == response.chunks and len(seen) == 2
    assert response.payload.startswith("tick 0 at ")


def test_stream_refuses_event_and_each_before_sending(shell: Any, on_sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match="InvokeWithResponseStream has no Event type"):
        shell.run_cell_magic("lambda_invoke", "report --stream -t Event", "{}")
    with pytest.raises(UsageError, match=r"--stream .* leave it out with --each"):
        shell.run_cell_magic("lambda_invoke", "report --stream --each", "[1]")
    with pytest.raises(ParameterError, match="cannot start a durable execution"):
        invoke("report", stream=True, durable_execution_name="d1")
    assert len(history) == 0


@pytest.fixture
def fake_stream(fake: FakeLambda) -> FakeLambda:
    return fake


def test_a_stream_that_breaks_is_may_have_run_and_not_resent(fake_stream: FakeLambda) -> None:
    fake_stream.script("fn", Reply(body=payload_chunk(b"half")))  # no InvokeComplete
    with pytest.raises(InvocationUnknownError, match=r"stream of fn broke after 1 chunk .*may have run") as caught:
        invoke("fn", {"id": 1}, stream=True)
    assert caught.value.request_id and caught.value.request_id in str(caught.value)
    broken = bytearray(payload_chunk(b"x") + invoke_complete())
    broken[-5] ^= 0xFF  # InvokeComplete fails its checksum
    fake_stream.script("fn", Reply(body=bytes(broken)))
    with pytest.raises(InvocationUnknownError, match="not re-sent"):
        invoke("fn", {"id": 2}, stream=True)
    assert fake_stream.per_id == {1: 1, 2: 1}
    assert isinstance(history[-1].error, InvocationUnknownError)


def test_throttled_before_the_answer_is_retried(fake_stream: FakeLambda) -> None:
    fake_stream.script(
        "fn", Reply.throttle(retry_after=0.01), Reply(body=payload_chunk(b'{"ok": true}') + invoke_complete())
    )
    response = invoke("fn", {"id": 3}, stream=True)
    assert response.payload == {"ok": True}
    assert fake_stream.per_id[3] == 2
    assert fake_stream.calls[-1].headers.get("x-amz-invocation-type") == "RequestResponse"


def test_ctrl_c_stops_reading_and_says_the_function_may_still_run(on_sandbox: Sandbox) -> None:
    def interrupt(chunk: bytes) -> None:
        raise KeyboardInterrupt

    with pytest.raises(
        InterruptedInvocationError,
        match=r"stopped reading .* after 1 chunk: the function "
        "may still be running",
    ) as caught:
        invoke("ticker", {"ticks": 3, "pause": 0.2}, stream=True, on_chunk=interrupt)
    rid = caught.value.request_id
    assert rid and f"%lambda_logs ticker --request-id {rid}" in str(caught.value)
    # It did run on: its log ends with its REPORT line, all three ticks written.
    deadline = time.monotonic() + 20
    lines: list[str] = []
    follow_logs(
        "ticker",
        resolve_settings(),
        lambda line: lines.append(line.message),
        request_id=rid,
        poll=0.1,
        stop=lambda: time.monotonic() > deadline,
    )
    assert lines[-1].startswith(f"REPORT RequestId: {rid}")
    assert len(history) == 1 and isinstance(history[-1].error, InterruptedInvocationError)
