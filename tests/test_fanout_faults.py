"""Fan-out under load and faults: throttles, 5xx, read timeouts, dropped and refused
connections, Ctrl-C, and the connection pool. Loopback only, bounded in count and time."""

from __future__ import annotations

import _thread
import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from lambda_magic import (
    EndpointUnreachableError,
    FailedInvocation,
    InterruptedInvocationError,
    InvocationUnknownError,
    LambdaResponse,
    ThrottledError,
    history,
    invoke_many,
    resolve_settings,
    session_settings,
)
from lambda_magic._client import invoker_for
from lambda_magic.testing import Call, FakeLambda, Reply

#: Fault kinds, their share of the inputs, and what each input must end as.
PLAN = [
    ("ok", 0.70, "ok"),
    ("throttle-then-ok", 0.02, "ok"),
    ("always-throttle", 0.005, ThrottledError),
    ("error-500", 0.05, InvocationUnknownError),
    ("slow", 0.005, InvocationUnknownError),
    ("drop", 0.04, InvocationUnknownError),
    ("function-error", 0.05, "function error"),
    ("refused-then-ok", 0.12, "ok"),
    ("refused-throttled-ok", 0.01, "ok"),
]
#: Short enough to keep the test quick, long enough that a busy machine does not time out
#: answers that are not meant to (the fake shares this process's GIL with 16 senders; 1 s
#: timed out an ordinary answer through botocore at a load average of 20 on 2 cores).
READ_TIMEOUT = 2.0


def _kind(ident: int) -> str:
    """The fault planned for input ``ident``: deterministic, whatever the thread timing."""
    draw = random.Random(ident).random()
    for kind, share, _ in PLAN:
        if draw < share:
            return kind
        draw -= share
    return "ok"


class Faults:
    """The server side: answers by plan, counting what Lambda would have accepted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: Counter[int] = Counter()
        self.throttled: Counter[int] = Counter()
        self.refused: Counter[int] = Counter()

    def reply(self, call: Call) -> Reply:
        ident = call.payload["id"]
        kind = _kind(ident)
        with self.lock:
            throttle = kind == "always-throttle" or (
                kind in ("throttle-then-ok", "refused-throttled-ok") and self.throttled[ident] < 2
            )
            (self.throttled if throttle else self.accepted)[ident] += 1
        if throttle:
            return Reply.throttle(retry_after=0.01)
        return {
            "error-500": lambda: Reply.error(500, "ServiceException", "internal"),
            "slow": lambda: Reply.ok(call.payload, delay=2 * READ_TIMEOUT),
            "drop": lambda: Reply(drop=True),
            "function-error": lambda: Reply.function_error(f"failed {ident}"),
        }.get(kind, lambda: Reply.ok(call.payload))()

    def before_send(self, request: Any, **_: Any) -> None:
        """The last hook before the socket (botocore's before-send event, the lean transport's
        on_send): refuse the first attempt, as a dead port does."""
        from botocore.exceptions import EndpointConnectionError

        ident = int(request.body.split(b":")[1].strip(b" }"))
        if _kind(ident).startswith("refused"):
            with self.lock:
                self.refused[ident] += 1
                first = self.refused[ident] == 1
            if first:
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def _check_entry(index: int, entry: Any) -> None:
    expected = dict((kind, outcome) for kind, _, outcome in PLAN)[_kind(index)]
    if expected == "ok":
        why = (index, str(getattr(entry, "error", "")))
        assert isinstance(entry, LambdaResponse) and entry.ok and entry.payload == {"id": index}, why
    elif expected == "function error":
        assert isinstance(entry, LambdaResponse) and entry.function_error == "Unhandled"
        assert entry.error is not None and entry.error.message == f"failed {index}"
    else:
        assert isinstance(entry, FailedInvocation) and isinstance(entry.error, expected), (index, entry)
        assert entry.request is not None and entry.request.payload == b'{"id": %d}' % index


def test_two_thousand_calls_through_faults_lose_nothing_and_repeat_nothing(fake: FakeLambda, transport: str) -> None:
    faults = Faults()
    fake.on("fn", faults.reply)
    session_settings().update(read_timeout=READ_TIMEOUT, throttle_retries=3, throttle_max_wait=5)
    invoker = invoker_for(resolve_settings(), pool_size=16)  # the cached one invoke_many will use
    if transport == "lean":
        invoker.on_send = faults.before_send
    else:
        invoker.meta.events.register("before-send.lambda.Invoke", faults.before_send)
    results = invoke_many("fn", ({"id": i} for i in range(2000)), concurrency=16, progress=False)
    assert len(results) == 2000
    for index, entry in enumerate(results):
        _check_entry(index, entry)
    # Lambda never received an invocation it may have accepted twice; throttles were re-sent.
    assert set(faults.accepted.values()) == {1}
    assert sum(1 for i in range(2000) if _kind(i) != "always-throttle") == len(faults.accepted)
    assert all(fake.per_id[i] == faults.accepted[i] + faults.throttled[i] for i in range(2000))
    assert sum(faults.refused.values()) > 100
    assert len(history) == 2000
    counts = results.summary()
    assert counts["ok"] + counts["function_errors"] + counts["failed"] == 2000


@pytest.mark.usefixtures("transport")
def test_refused_connections_end_as_unreachable_in_order(aws_env: None) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session_settings().update(throttle_retries=1, throttle_max_wait=2)
    results = invoke_many(
        "fn", [{"id": i} for i in range(20)], concurrency=4, progress=False, endpoint_url=f"http://127.0.0.1:{port}"
    )
    assert len(results) == 20
    for index, entry in enumerate(results):
        assert isinstance(entry, FailedInvocation) and isinstance(entry.error, EndpointUnreachableError)
        assert entry.request is not None and entry.request.payload == b'{"id": %d}' % index
    assert "(gave up after 2 attempts)" in str(results[0].error)


def _interrupt_on(count: int, delay: float) -> Callable[[Call], Reply]:
    """A handler that answers after ``delay`` and sends Ctrl-C to the main thread on call ``count``."""
    seen = Counter[str]()
    lock = threading.Lock()

    def handler(call: Call) -> Reply:
        with lock:
            seen["calls"] += 1
            if seen["calls"] == count:
                _thread.interrupt_main()
        return Reply.ok(call.payload, delay=delay)

    return handler


def _settle(expected: int) -> None:
    """Wait (bounded) until every fan-out worker has exited, so every call that will ever
    be made has been, and has reached the history (at least ``expected`` entries)."""
    deadline = time.monotonic() + 10
    while any(thread.name.startswith("lambda_magic-") for thread in threading.enumerate()):
        assert time.monotonic() < deadline, "fan-out workers still running 10 s after the interrupt"
        time.sleep(0.01)
    assert len(history) >= expected


@pytest.mark.usefixtures("transport")
def test_interrupt_keeps_completed_results_and_says_what_was_in_flight(shell: Any, fake: FakeLambda) -> None:
    fake.on("fn", _interrupt_on(20, delay=0.05))
    cell = "[" + ", ".join(f'{{"id": {i}}}' for i in range(200)) + "]"
    with capture_output() as shown:
        result = shell.run_cell(f"%%lambda_invoke fn --each --concurrency 4 -o res\n{cell}")
    # The cell fails (so "Run all" stops there) after storing and showing what completed.
    assert type(result.error_in_exec) is UsageError
    assert str(result.error_in_exec).endswith("(results stored in res)")
    res = shell.user_ns["res"]
    assert len(res) == 200 and not res.complete and not res.ok
    in_flight, not_started = res.indices("in flight"), res.indices("not started")
    answered = [i for i, entry in enumerate(res) if isinstance(entry, LambdaResponse)]
    assert answered and in_flight and len(not_started) > 150
    assert len(in_flight) <= 4 and sorted(answered + in_flight + not_started) == list(range(200))
    assert all(res[i].payload == {"id": i} for i in answered)
    assert isinstance(res[in_flight[0]].error, InterruptedInvocationError)
    assert res[not_started[0]].request.payload == b'{"id": %d}' % not_started[0]
    assert str(res[not_started[-1]].error) == "not started: the fan-out was interrupted before it was sent"
    assert res.note.startswith(f"interrupted: {len(in_flight)} were in flight and may still run in Lambda")
    assert "never started" in res.note and str(result.error_in_exec).startswith(res.note)
    assert "calls finished" in shown.stdout + "".join(str(output.data) for output in shown.outputs)
    _settle(len(answered) + len(in_flight))
    assert len(fake.calls) == len(answered) + len(in_flight)  # nothing started after Ctrl-C


def test_interrupt_stops_reading_a_generator(fake: FakeLambda) -> None:
    fake.on("fn", _interrupt_on(10, delay=0.02))
    read: list[int] = []

    def events() -> Any:
        for i in range(10_000):
            read.append(i)
            yield {"id": i}

    results = invoke_many("fn", events(), concurrency=2, progress=False)
    assert len(results) == len(read) < 100
    assert results.note is not None and results.note.endswith("the rest of the events was not read")
    _settle(len(results) - len(results.indices("not started")))
    assert len(fake.calls) == len(results) - len(results.indices("not started"))


def test_interrupt_while_waiting_to_retry_a_throttle(fake: FakeLambda) -> None:
    def handler(call: Call) -> Reply:
        threading.Timer(0.05, _thread.interrupt_main).start()
        return Reply.throttle(retry_after=5)

    fake.on("fn", handler)
    results = invoke_many("fn", [{"id": 0}], progress=False)
    assert results[0].state == "not started"
    assert "while waiting to retry it; Lambda had not accepted it" in str(results[0].error)
    _settle(1)
    assert "interrupted while waiting to retry" in str(history[0].error)
    assert len(fake.calls) == 1


def test_connection_pool_is_not_overrun(fake: FakeLambda, caplog: pytest.LogCaptureFixture, transport: str) -> None:
    fake.on("fn", lambda call: Reply.ok(call.payload, delay=0.02))
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    for _ in range(2):  # the second fan-out reuses the first one's connections
        results = invoke_many("fn", [{"id": i} for i in range(256)], concurrency=32, progress=False)
        assert results.ok
    assert not [r for r in caplog.records if "Connection pool is full" in r.getMessage()]
    if transport == "lean":  # each worker's connection opened once, kept alive, reused
        assert invoker_for(resolve_settings(), pool_size=32).pool.opened <= 32


def test_the_pool_check_detects_an_overrun(fake: FakeLambda, caplog: pytest.LogCaptureFixture) -> None:
    """The control: boto3's default pool of 10 under 32 threads does log it."""
    import boto3

    fake.on("fn", lambda call: Reply.ok(call.payload, delay=0.02))
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    client = boto3.client("lambda", endpoint_url=fake.url)
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: client.invoke(FunctionName="fn", Payload=b"{}")["Payload"].read(), range(128)))
    assert [r for r in caplog.records if "Connection pool is full" in r.getMessage()]
