"""Fan-out: ``invoke_many`` and ``%%lambda_invoke --each`` against the loopback FakeLambda."""

from __future__ import annotations

import io
import re
import sys
import threading
import time
import tracemalloc
from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.lib.pretty import pretty

import lambda_magic
from lambda_magic import (
    EndpointUnreachableError,
    FailedInvocation,
    InvocationUnknownError,
    LambdaResponse,
    LambdaResponses,
    PayloadError,
    history,
    invoke_many,
    resolve_settings,
)
from lambda_magic._fanout import cell_events, fan_out, index_ranges
from lambda_magic._fanout_results import percentiles
from lambda_magic._limiter import AdaptiveLimiter
from lambda_magic.testing import Call, FakeLambda, Reply


def _ids(n: int) -> list[dict[str, int]]:
    return [{"id": i} for i in range(n)]


# --- invoke_many -------------------------------------------------------------------------


def test_results_in_input_order_one_per_event(fake: FakeLambda) -> None:
    fake.on("fn", lambda call: Reply.ok(call.payload, delay=0.002 * (call.payload["id"] % 5)))
    results = invoke_many("fn", _ids(60), concurrency=8, progress=False)
    assert isinstance(results, LambdaResponses)
    assert results.payloads == _ids(60)
    assert results.ok and results.complete and results.note is None
    assert all(isinstance(entry, LambdaResponse) for entry in results)
    assert set(fake.per_id.values()) == {1}
    assert len(history) == 60
    assert {entry.origin for entry in history} == {"api"}


def test_generator_is_read_lazily(fake: FakeLambda) -> None:
    concurrency, behind = 2, []

    def events() -> Any:
        for i in range(30):
            behind.append(i - len(fake.calls))
            yield {"id": i}

    results = invoke_many("fn", events(), concurrency=concurrency, progress=False)
    assert results.payloads == _ids(30)
    # Read ahead at most: the queue, the workers' hands, and the event being read.
    assert max(behind) <= 2 * concurrency + 1


def test_failed_calls_stay_in_the_results(fake: FakeLambda) -> None:
    def reply(call: Call) -> Reply:
        if call.payload["id"] == 3:
            return Reply.error(500, "ServiceException", "boom")
        if call.payload["id"] == 5:
            return Reply.function_error("bad <input>")
        return Reply.ok(call.payload)

    fake.on("fn", reply)
    results = invoke_many("fn", _ids(8), concurrency=4, progress=False)
    failed = results[3]
    assert isinstance(failed, FailedInvocation)
    assert not failed.ok and failed.state == "failed" and failed.payload is None
    assert isinstance(failed.error, InvocationUnknownError)
    assert failed.request is not None and failed.request.payload == b'{"id": 3}'
    assert failed.to_dict()["error_type"] == "InvocationUnknownError"
    assert (failed.log, failed.report, failed.target) == (None, None, "fn")
    with pytest.raises(InvocationUnknownError):
        failed.raise_for_error()
    assert results[5].function_error == "Unhandled"
    assert sorted(results.errors) == [3, 5]
    assert not results.ok
    summary = results.summary()
    assert (summary["ok"], summary["function_errors"], summary["failed"]) == (6, 1, 1)
    assert fake.per_id[3] == 1  # a 5xx may have run: never re-sent


def test_unencodable_event_is_an_entry_and_nothing_is_sent(fake: FakeLambda) -> None:
    results = invoke_many("fn", [{"id": 0}, {"id": {1, 2}}, {"id": 2}], progress=False)
    assert isinstance(results[1], FailedInvocation)
    assert isinstance(results[1].error, PayloadError) and results[1].request is None
    assert results.payloads == [{"id": 0}, None, {"id": 2}]
    assert len(fake.calls) == 2


def test_common_fields_are_checked_before_anything_is_sent(fake: FakeLambda) -> None:
    with pytest.raises(lambda_magic.ParameterError, match="malformed function name"):
        invoke_many("bad name!", _ids(3), progress=False)
    with pytest.raises(lambda_magic.ParameterError, match="concurrency must be at least 1"):
        invoke_many("fn", _ids(3), concurrency=0, progress=False)
    with pytest.raises(
        lambda_magic.ParameterError, match=r"^events must be a list or other iterable .* not a dict: pass a list"
    ):
        invoke_many("fn", {"id": 1}, progress=False)
    pandas = pytest.importorskip("pandas")
    with pytest.raises(lambda_magic.ParameterError, match=r"df.to_dict\('records'\) for one event per row"):
        invoke_many("fn", pandas.DataFrame({"id": [1, 2]}), progress=False)
    assert fake.calls == []


def test_failing_events_iterable_keeps_what_was_sent(fake: FakeLambda) -> None:
    def events() -> Any:
        yield {"id": 0}
        yield {"id": 1}
        raise ValueError("source went away")

    results = invoke_many("fn", events(), progress=False)
    assert results.payloads == _ids(2)
    assert not results.complete and not results.ok
    assert "stopped reading the events at #2 (ValueError: source went away)" in (results.note or "")


def test_event_invocations_and_client_context(fake: FakeLambda) -> None:
    results = invoke_many("fn", _ids(3), invocation_type="event", client_context={"custom": {"k": "v"}}, progress=False)
    assert [entry.status_code for entry in results] == [202, 202, 202]
    assert all(call.headers.get("x-amz-client-context") for call in fake.calls)


def test_progress_bar_in_terminals(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    invoke_many("fn", _ids(5), progress=True)
    assert "5/5" in capsys.readouterr().err
    invoke_many("fn", _ids(5), progress=False)
    assert capsys.readouterr().err == ""


def test_the_terminal_bar_does_not_depend_on_what_imported_tqdm_first(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """tqdm.auto picks its bar once, at import, from whether ipykernel was imported (by any
    test, or any library); the fan-out decides per call, from the shell it runs in."""
    import ipykernel.zmqshell  # noqa: F401 - what tqdm.auto looks for

    for name in [name for name in sys.modules if name.startswith("tqdm.auto")]:
        monkeypatch.delitem(sys.modules, name)
    import tqdm.auto
    import tqdm.notebook

    assert issubclass(tqdm.auto.tqdm, tqdm.notebook.tqdm)  # it was fooled...
    invoke_many("fn", _ids(5), progress=True)
    assert "5/5" in capsys.readouterr().err  # ...the fan-out was not


# --- throttling --------------------------------------------------------------------------


def _limited(limit: int, delay: float) -> tuple[Any, dict[str, Any]]:
    """A handler that throttles past ``limit`` concurrent calls, like reserved concurrency."""
    state: dict[str, Any] = {"active": 0, "peak": 0, "throttles": 0, "accepted": {}}
    lock = threading.Lock()

    def handler(call: Call) -> Reply:
        with lock:
            if state["active"] >= limit:
                state["throttles"] += 1
                return Reply.throttle(retry_after=0.01)
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            ident = call.payload["id"]
            state["accepted"][ident] = state["accepted"].get(ident, 0) + 1
        time.sleep(delay)
        with lock:
            state["active"] -= 1
        return Reply.ok(call.payload)

    return handler, state


def test_throttling_backs_off_and_loses_nothing(fake: FakeLambda) -> None:
    handler, state = _limited(limit=3, delay=0.01)
    fake.on("fn", handler)
    results = invoke_many("fn", _ids(80), concurrency=12, progress=False)
    assert results.ok, results.errors
    assert results.payloads == _ids(80)
    assert state["throttles"] > 0
    assert results.outcome.lowest_concurrency < 12
    assert set(state["accepted"].values()) == {1} and len(state["accepted"]) == 80
    assert "throttled: concurrency was lowered" in pretty(results)


def test_limiter_halves_once_per_window_and_grows_back() -> None:
    limiter = AdaptiveLimiter(8)
    slots = [limiter.acquire() for _ in range(8)]
    assert limiter.acquire(timeout=0) is None
    for slot in slots[:4]:  # a burst of throttles from calls sent together: one cut
        assert slot is not None
        limiter.release(slot, throttled=True)
    assert (limiter.permitted, limiter.cuts) == (4, 1)
    again = limiter.acquire(timeout=0)  # 4 still in flight: no room under the cut
    assert again is None
    for slot in slots[4:]:
        assert slot is not None
        limiter.release(slot)
    assert limiter.permitted == 5  # one more per window of `permitted` successes
    for _ in range(5 + 6 + 7 + 3):
        slot = limiter.acquire(timeout=0)
        assert slot is not None
        limiter.release(slot)
    assert limiter.permitted == 8 and limiter.lowest == 4


def test_limiter_gives_retries_priority_and_wakes_on_close() -> None:
    limiter = AdaptiveLimiter(1)
    first = limiter.acquire()
    assert first is not None
    limiter.release(first, throttled=True)
    holder = limiter.acquire()
    assert holder is not None
    resumed: list[bool] = []
    retry = threading.Thread(target=lambda: resumed.append(limiter.reacquire(first)))
    retry.start()
    while limiter._retrying == 0:
        time.sleep(0.001)
    limiter.release(holder)
    retry.join(5)
    assert resumed == [True]
    assert limiter.acquire(timeout=0) is None  # the retry holds the only slot
    limiter.close()
    assert limiter.acquire(timeout=1) is None
    assert limiter.reacquire(first) is False


# --- results -----------------------------------------------------------------------------


def _mixed(fake: FakeLambda) -> LambdaResponses:
    def reply(call: Call) -> Reply:
        ident = call.payload["id"]
        if ident % 3 == 1:
            return Reply.function_error(f"<b>bad</b> {ident}")
        if ident % 3 == 2:
            return Reply.error(503, "ServiceException", "unavailable")
        return Reply.ok(call.payload)

    fake.on("fn", reply)
    return invoke_many("fn", _ids(30), progress=False)


def test_display_is_terse_escaped_and_bounded(fake: FakeLambda) -> None:
    results = _mixed(fake)
    assert repr(results) == "<LambdaResponses fn 30 calls: 10 ok, 10 function errors, 10 failed>"
    html = results._repr_html_()
    assert "<b>bad</b>" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html
    assert html.count("<li>") == 5
    text = pretty(results)
    assert text.splitlines()[0].startswith("fn: 30 calls: 10 ok, 10 function errors, 10 failed (")
    assert "round trip ms: p50" in text and "errors (first 5 of 20; all in .errors):" in text
    assert "#1 Unhandled function error: ValueError: <b>bad</b> 1" in text
    assert "#2 failed: InvocationUnknownError: Lambda answered 503" in text
    assert repr(results[2]) == "<FailedInvocation #2 fn failed InvocationUnknownError>"


def test_to_dataframe(fake: FakeLambda) -> None:
    frame = _mixed(fake).to_dataframe()
    assert len(frame) == 30 and frame.index.name == "input"
    assert list(frame["ok"][:3]) == [True, False, False]
    assert frame["payload"][0] == {"id": 0}
    assert frame["state"][2] == "failed" and frame["error"][2].startswith("InvocationUnknownError")


def test_to_dataframe_without_pandas(fake: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    results = invoke_many("fn", _ids(2), progress=False)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"^LambdaResponses.to_dataframe\(\) needs pandas: pip install pandas$"):
        results.to_dataframe()


def test_percentiles_and_index_ranges() -> None:
    assert percentiles([]) == {}
    values = [float(v) for v in range(1, 101)]
    assert percentiles(values) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert index_ranges([1, 2, 3, 5, 7, 8]) == "#1-#3, #5, #7-#8"
    assert index_ranges(list(range(0, 40, 2)), limit=2) == "#0, #2, ..."


class _StubClient:
    """The transport seam: answers at once with the payload, no HTTP."""

    meta = SimpleNamespace(region_name="us-east-1")

    def invoke(self, **params: Any) -> dict[str, Any]:
        return {
            "StatusCode": 200,
            "Payload": io.BytesIO(params["Payload"]),
            "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200},
        }


def test_memory_of_a_large_fan_out_stays_near_its_results(aws_env: None) -> None:
    settings = resolve_settings(max_concurrency=16)
    events = ({"id": i, "pad": "x" * 20} for i in range(10_000))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        results = fan_out("fn", events, settings, client=_StubClient(), progress=False, log=False)
        retained, peak = (value - base for value in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert len(results) == 10_000 and results.ok
    assert "payload" not in vars(results[0])  # decoded only when asked for
    assert results[9_999].payload == {"id": 9_999, "pad": "x" * 20}
    assert retained < 10_000 * 4_096  # results plus the history entries, a few KB per call
    assert peak < 3 * retained


def test_memory_through_botocore_stays_near_the_results(fake: FakeLambda) -> None:
    invoke_many("fn", _ids(1), concurrency=8, progress=False)  # client and connections exist
    history.clear()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        results = invoke_many("fn", ({"id": i} for i in range(400)), concurrency=8, progress=False)
        retained, peak = (value - base for value in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert results.ok and len(results) == 400
    # Retained: results, history, and the fake's own record of each call; botocore's
    # per-call objects are transient and bounded by the concurrency.
    assert peak < 2 * retained


# --- the magic ---------------------------------------------------------------------------


def test_each_magic_stores_and_displays(shell: Any, fake: FakeLambda) -> None:
    result = shell.run_cell('%%lambda_invoke fn --each --concurrency 3 -o res\n[{"id": 0}, {"id": 1}, "two"]')
    assert result.error_in_exec is None
    res = shell.user_ns["res"]
    assert isinstance(res, LambdaResponses) and result.result is res
    assert res.payloads == [{"id": 0}, {"id": 1}, "two"]
    assert {entry.origin for entry in history} == {"magic"}
    assert history[0].cell.strip() == '[{"id": 0}, {"id": 1}, "two"]'


def test_each_expands_expressions_once_before_splitting(shell: Any, fake: FakeLambda) -> None:
    shell.user_ns["calls"] = []
    shell.run_cell("def make():\n    calls.append(1)\n    return [{'id': i} for i in range(4)]")
    shell.run_cell_magic("lambda_invoke", "fn --each -o res --quiet", "${make()}")
    assert shell.user_ns["calls"] == [1]
    assert shell.user_ns["res"].payloads == _ids(4)
    assert history[0].request.substitutions[0][0] == "make()"


def test_each_with_a_list_variable_or_generator(shell: Any, fake: FakeLambda) -> None:
    shell.user_ns["events"] = _ids(3)
    shell.run_cell_magic("lambda_invoke", "fn --each -o res --quiet", "$events")
    assert shell.user_ns["res"].payloads == _ids(3)
    subs = sorted(entry.request.substitutions[0][0] for entry in history)
    assert subs == ["events[0]", "events[1]", "events[2]"]
    shell.run_cell("gen = ({'id': i} for i in range(5))")
    shell.run_cell_magic("lambda_invoke", "fn --each -o res --quiet", "$gen")
    assert shell.user_ns["res"].payloads == _ids(5)


def test_each_raise_fails_the_cell_after_storing(shell: Any, fake: FakeLambda) -> None:
    fake.script("fn", Reply.function_error("nope"))
    with pytest.raises(UsageError, match=r"^1 of 2 calls did not succeed \(results stored in res\): see .errors$"):
        shell.run_cell_magic("lambda_invoke", "fn --each --raise -o res --concurrency 1", '[{"id": 0}, {"id": 1}]')
    assert len(shell.user_ns["res"]) == 2


@pytest.mark.parametrize(
    ("line", "body", "message"),
    [
        ("fn --each", '{"id": 1}', "--each needs a JSON array of events, not a JSON object: wrap the events in [ ]"),
        ("fn --each", "  ", "--each needs events: a JSON array in the cell, or $name of a list"),
        ("fn --each", "$nothing", "$nothing: name 'nothing' is not defined in the notebook; define it first"),
        (
            "fn --each",
            "$text",
            "--each: $text is a str, not a list of events: give a list (or other iterable) of events",
        ),
        (
            "fn --concurrency 4",
            "[]",
            "--concurrency needs --each (one invocation per element of a JSON array): "
            "add --each, or leave out --concurrency",
        ),
        (
            "fn --each --concurrency 0",
            "[]",
            "max_concurrency must be at least 1, not 0 (option): give e.g. --concurrency 16 or max_concurrency=16",
        ),
        (
            "fn --each --durable-execution-name x",
            "[]",
            "--durable-execution-name names one execution: leave it out with --each",
        ),
    ],
)
def test_each_usage_errors(shell: Any, fake: FakeLambda, line: str, body: str, message: str) -> None:
    shell.user_ns["text"] = "abc"
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("lambda_invoke", line, body)
    assert str(info.value) == message
    assert fake.calls == []


def test_cell_events_reads_a_json_array() -> None:
    events, origin = cell_events('[1, "a", {"b": ${x}}]', {"x": 2})
    assert events == [1, "a", {"b": 2}]
    assert origin == {"substitutions": (("x", 2),)}
    with pytest.raises(PayloadError, match="not a JSON string"):
        cell_events('"a"', {})


def test_each_with_the_line_magic(shell: Any, fake: FakeLambda) -> None:
    shell.run_line_magic("lambda_invoke", "fn --each --quiet -o res --payload '[{\"id\": 7}]'")
    assert shell.user_ns["res"].payloads == [{"id": 7}]
    assert history[0].cell == "%%lambda_invoke fn --each"


def test_public_names_are_lazy() -> None:
    assert "invoke_many" in lambda_magic.__all__ and "LambdaResponses" in lambda_magic.__all__
    assert lambda_magic.__all__ == sorted(lambda_magic.__all__)
    assert lambda_magic.invoke_many is invoke_many


def test_refused_connections_keep_every_slot(aws_env: None) -> None:
    """A refused connection reached no Lambda: the fan-out keeps all its calls in flight.

    The engine tells its retry hook which error it retries; a throttle lowers the calls in
    flight, a refused connection must not (it once dropped from 8 to 1 when the error was
    read from ``sys.exc_info()`` and the wait moved out of the ``except`` block).
    """
    import socket

    from lambda_magic._settings import session_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session_settings().update(throttle_retries=3, throttle_max_wait=1)
    results = lambda_magic.invoke_many(
        "fn", [{"id": i} for i in range(24)], concurrency=8, endpoint_url=f"http://127.0.0.1:{port}", progress=False
    )
    failed = list(results.errors.values())
    assert len(failed) == 24
    assert all(
        isinstance(entry, FailedInvocation) and isinstance(entry.error, EndpointUnreachableError) for entry in failed
    )
    assert results.outcome.lowest_concurrency == 8


# --- the progress bar, the interrupted summary, the sandbox's cap (issue 13) -------------


class _RecordingBar:
    """The progress seam: records when it was shown and every update, with its time."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.totals: list[int] = []
        self.times: list[float] = []
        self.closed = False

    def update(self, n: int) -> None:
        self.totals.append((self.totals[-1] if self.totals else 0) + n)
        self.times.append(time.monotonic())

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.log.append(f"postfix {text}")

    def refresh(self) -> None:
        self.log.append("shown")

    def close(self) -> None:
        self.closed = True


class _GatedClient:
    """The transport seam: each call waits for the test to let it answer."""

    meta = SimpleNamespace(region_name="us-east-1", endpoint_url=None)

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.gate = threading.Semaphore(0)

    def invoke(self, **params: Any) -> dict[str, Any]:
        self.log.append("invoke")
        assert self.gate.acquire(timeout=10), "the test never let this call answer"
        return {
            "StatusCode": 200,
            "Payload": io.BytesIO(params["Payload"]),
            "ResponseMetadata": {"RequestId": "r", "HTTPStatusCode": 200},
        }


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_progress_bar_is_shown_first_and_follows_every_completion(aws_env: None) -> None:
    log: list[str] = []
    bar, client = _RecordingBar(log), _GatedClient(log)
    settings = resolve_settings(max_concurrency=30)
    outcome: list[LambdaResponses] = []
    runner = threading.Thread(
        target=lambda: outcome.append(fan_out("fn", _ids(30), settings, client=client, bar=bar, log=False))
    )
    runner.start()
    _wait_for(lambda: log.count("invoke") == 30)
    assert log[0] == "shown"  # before the first call was sent
    for done in range(1, 31):  # one call answers at a time: the bar shows each one
        client.gate.release()
        _wait_for(lambda done=done: bool(bar.totals) and bar.totals[-1] == done)
    runner.join(10)
    assert bar.totals == list(range(1, 31)) and bar.closed and outcome[0].ok


def test_progress_updates_at_least_ten_times_a_second_while_calls_complete(aws_env: None) -> None:
    class Steady:
        meta = SimpleNamespace(region_name="us-east-1", endpoint_url=None)

        def invoke(self, **params: Any) -> dict[str, Any]:
            time.sleep(0.02)
            return {"StatusCode": 200, "Payload": io.BytesIO(b"{}"), "ResponseMetadata": {"HTTPStatusCode": 200}}

    bar = _RecordingBar([])
    results = fan_out("fn", _ids(200), resolve_settings(max_concurrency=4), client=Steady(), bar=bar, log=False)
    assert results.ok and bar.totals[-1] == 200
    span = bar.times[-1] - bar.times[0]  # while calls completed (~1 s at 4 x 50 calls/s)
    assert len(bar.totals) >= 10 * span, (len(bar.totals), span)
    assert len(bar.totals) < 200  # paced, not one redraw per call


def test_tqdm_draws_every_update_the_fan_out_makes(capsys: pytest.CaptureFixture[str]) -> None:
    from lambda_magic._fanout import progress_bar

    bar = progress_bar("fn", 5, enabled=True)
    for _ in range(5):  # tqdm's default mininterval would skip the updates in between
        bar.update(1)
    bar.close()
    err = capsys.readouterr().err
    assert all(f"{n}/5" in err for n in range(1, 6)), err


def _interrupt_after(finished: int, release: threading.Event) -> Any:
    """Answer the first ``finished`` calls (#3 fails), Ctrl-C on the next, hold the rest."""
    import _thread

    seen: list[int] = []
    lock = threading.Lock()

    def handler(call: Call) -> Reply:
        ident = call.payload["id"]
        if ident < finished:
            return Reply.error(503, "ServiceException", "down") if ident == 3 else Reply.ok(call.payload)
        with lock:
            seen.append(ident)
            if len(seen) == 2:
                _thread.interrupt_main()
        release.wait(10)
        return Reply.ok(call.payload)

    return handler


def test_interrupted_summary_says_each_fact_once(fake: FakeLambda) -> None:
    release = threading.Event()
    fake.on("fn", _interrupt_after(10, release))
    try:
        results = invoke_many("fn", _ids(60), concurrency=4, progress=False)
    finally:
        release.set()
    in_flight, not_started = results.indices("in flight"), results.indices("not started")
    finished = 60 - len(in_flight) - len(not_started)
    failed = [] if 3 in in_flight else [3]  # #3 fails when it answers (it nearly always has)
    assert in_flight and not_started and finished >= 6
    assert list(results.errors) == failed  # never-started and in-flight calls are not errors
    text = pretty(results)
    head = f"fn: {finished} of 60 calls finished: {finished - len(failed)} ok{', 1 failed' if failed else ''} ("
    assert text.splitlines()[0].startswith(head)
    assert results.note is not None and results.note.startswith(f"interrupted: {len(in_flight)} were in flight")
    for shown in (text, results._repr_html_()):
        assert shown.count("in flight") == 1 and shown.count("never started") == 1
        assert shown.count("not started") == 0 and len(re.findall(rf"#{in_flight[-1]}(?!\d)", shown)) == 1
        assert shown.count("InterruptedInvocationError") == 0
    if failed:
        assert "errors (first 1 of 1; all in .errors):" in text and "#3 failed: InvocationUnknownError" in text


def test_summary_says_when_the_sandbox_capped_concurrency(demo_sandbox: Any, aws_env: None) -> None:
    events = [{"seconds": 0.3}] * 16
    capped = invoke_many("sleep", events, concurrency=16, progress=False, endpoint_url=demo_sandbox.endpoint_url)
    assert capped.ok and capped.outcome.sandbox_workers == demo_sandbox.max_workers == 8
    line = (
        "the sandbox runs at most 8 calls of a function at once: of the 16 asked for, the others waited "
        "for a worker (Sandbox(max_workers=N) raises the cap)"
    )
    assert line in pretty(capped) and line in capped._repr_html_()
    within = invoke_many(
        "sleep", [{"seconds": 0.01}] * 8, concurrency=4, progress=False, endpoint_url=demo_sandbox.endpoint_url
    )
    assert within.outcome.sandbox_workers == 8 and "at most 8 calls" not in pretty(within)


def test_no_sandbox_cap_is_claimed_elsewhere(fake: FakeLambda) -> None:
    results = invoke_many("fn", _ids(40), concurrency=16, progress=False)
    assert results.outcome.sandbox_workers is None and "sandbox" not in pretty(results)
