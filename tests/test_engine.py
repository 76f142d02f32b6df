"""The engine against a loopback Lambda: never twice, retries only what was not accepted,
and every AWS error mapped to its own exception. Every test runs on both Invoke transports
(the lean one and botocore's client): the same errors, the same guarantees."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import pytest

import lambda_magic
from lambda_magic import (
    AccessDeniedError,
    CredentialsError,
    EndpointUnreachableError,
    FunctionNotFoundError,
    InterruptedInvocationError,
    InvalidRequestError,
    InvocationUnknownError,
    InvokeError,
    RequestTooLargeError,
    ThrottledError,
    make_request,
    session_settings,
)
from lambda_magic._engine import RetryPolicy, invoke
from lambda_magic.testing import FakeLambda, Reply

#: Runs a test on each Invoke transport.
both_transports = pytest.mark.usefixtures("transport")


def settle(fake: FakeLambda, function: str, seconds: float = 0.5) -> int:
    """Give any late duplicate time to arrive, then count what the server received."""
    time.sleep(seconds)
    return fake.per_function[function]


@both_transports
def test_slow_function_beyond_the_read_timeout_is_invoked_exactly_once(fake: FakeLambda) -> None:
    fake.script("slow", Reply.ok({"late": True}, delay=1.5))
    with pytest.raises(InvocationUnknownError) as info:
        lambda_magic.invoke("slow", {"id": 1}, read_timeout=0.3)
    message = str(info.value)
    assert "may still be running and was not re-sent" in message
    assert "read timeout of 0.3 s" in message
    assert settle(fake, "slow", 1.5) == 1


def test_botocore_default_would_have_sent_it_three_times(fake: FakeLambda) -> None:
    """The contrast that motivates the rule: botocore's own retries re-send a slow call
    (3 attempts in standard mode, 5 in legacy mode, botocore 1.43's default)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ReadTimeoutError

    fake.on("slow", lambda call: Reply.ok(None, delay=0.6))
    client = boto3.client("lambda", endpoint_url=fake.url, config=Config(read_timeout=0.2))
    with pytest.raises(ReadTimeoutError):
        client.invoke(FunctionName="slow")
    assert settle(fake, "slow", 0.8) in (3, 5)


@both_transports
def test_throttled_calls_are_retried_and_then_succeed(fake: FakeLambda) -> None:
    fake.script("busy", Reply.throttle(0.01), Reply.throttle(0.01), Reply.ok({"done": True}))
    response = lambda_magic.invoke("busy", {"id": 7})
    assert response.ok and response.payload == {"done": True}
    assert fake.per_function["busy"] == 3


@both_transports
def test_throttling_gives_up_after_the_configured_retries(fake: FakeLambda) -> None:
    session_settings().update(throttle_retries=2)
    fake.on("busy", lambda call: Reply.throttle(0.01))
    with pytest.raises(ThrottledError, match="gave up after 3 attempts") as info:
        lambda_magic.invoke("busy")
    assert info.value.retry_after == pytest.approx(0.01)
    assert "ConcurrentInvocationLimitExceeded" in str(info.value)
    assert fake.per_function["busy"] == 3


def test_retry_after_is_honoured_and_the_wait_is_bounded() -> None:
    error = ThrottledError("t", retry_after=2.0)
    policy = RetryPolicy(retries=5, max_wait=3.0)
    assert policy.delay(error, 0, waited=0.0) == 2.0
    assert policy.delay(error, 1, waited=2.0) is None  # 2 + 2 > 3 s budget
    assert policy.delay(InvocationUnknownError("x"), 0, waited=0.0) is None
    assert policy.delay(error, 5, waited=0.0) is None


@both_transports
def test_server_errors_are_not_resent(fake: FakeLambda) -> None:
    fake.script("flaky", Reply.error(500, "ServiceException", "internal"))
    with pytest.raises(InvocationUnknownError, match=r"answered 500 ServiceException .* not re-sent"):
        lambda_magic.invoke("flaky")
    assert settle(fake, "flaky", 0.2) == 1


@both_transports
def test_connection_dropped_after_sending_is_not_resent(fake: FakeLambda) -> None:
    fake.script("drop", Reply(drop=True))
    with pytest.raises(InvocationUnknownError, match=r"connection broke .* not re-sent"):
        lambda_magic.invoke("drop", {"id": 3})
    assert settle(fake, "drop", 0.2) == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@both_transports
def test_unreachable_endpoint_is_retried_then_reported(aws_env: None) -> None:
    session_settings().update(throttle_retries=2, throttle_max_wait=1.0)
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(EndpointUnreachableError, match=f"cannot connect to {url}.*nothing was sent"):
        lambda_magic.invoke("fn", endpoint_url=url)


@both_transports
def test_connection_refused_then_up_succeeds(aws_env: None) -> None:
    """Before-send failures are safe to retry: the call reaches the server once it is up."""
    port = closed_port()
    servers: list[FakeLambda] = []
    retried: list[tuple[type, float]] = []

    def start_then_retry(error: Exception, delay: float) -> bool:
        retried.append((type(error), delay))
        if not servers:
            servers.append(FakeLambda(port=port).start())
        return True

    from lambda_magic._client import invoker_for
    from lambda_magic._settings import resolve_settings

    client = invoker_for(resolve_settings(endpoint_url=f"http://127.0.0.1:{port}"))
    try:
        response = invoke(client, make_request("fn", b'{"id": 9}'), retry=start_then_retry)
    finally:
        for server in servers:
            server.stop()
    fake = servers[0]
    assert response.payload == {"id": 9}
    assert fake.per_id[9] == 1 and len(retried) == 1
    assert retried[0][0] is EndpointUnreachableError  # the hook is told which error it retries
    assert retried[0][1] >= 0


def test_a_retry_hook_that_stops_ends_the_call_saying_nothing_runs(aws_env: None) -> None:
    """A hook returning False stops retrying: one attempt, one line, nothing running."""
    calls: list[float] = []

    def stop(error: Exception, delay: float) -> bool:
        calls.append(delay)
        return False

    from lambda_magic._client import client_for
    from lambda_magic._settings import resolve_settings

    client = client_for(resolve_settings(endpoint_url=f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(InvokeError, match="nothing is running for it"):
        invoke(client, make_request("fn", b"{}"), retry=stop)
    assert len(calls) == 1


@both_transports
def test_ctrl_c_during_a_call_says_it_may_still_run(fake: FakeLambda) -> None:
    def received_then_interrupt(call: object) -> Reply:
        # The request has arrived, so the main thread is waiting for the answer.
        threading.Timer(0.05, _interrupt_main).start()
        return Reply.ok(None, delay=2.0)

    fake.on("slow", received_then_interrupt)
    with pytest.raises(InterruptedInvocationError, match="may still be running in Lambda; it was not re-sent"):
        lambda_magic.invoke("slow")
    assert fake.per_function["slow"] == 1


def _interrupt_main() -> None:
    import _thread

    _thread.interrupt_main()


@both_transports
@pytest.mark.parametrize(
    ("reply", "kind", "message"),
    [
        (
            Reply.error(404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:1:function:fn"),
            FunctionNotFoundError,
            "function fn not found in us-east-1",
        ),
        (
            Reply.error(403, "AccessDeniedException", "User is not authorized"),
            AccessDeniedError,
            "need lambda:InvokeFunction",
        ),
        (
            Reply.error(403, "ExpiredTokenException", "The security token included in the request is expired"),
            CredentialsError,
            "refresh them",
        ),
        (Reply.error(403, "UnrecognizedClientException", "invalid token"), CredentialsError, "refused the credentials"),
        (
            Reply.error(413, "RequestTooLargeException", "Request must be smaller than 6291456 bytes"),
            RequestTooLargeError,
            "too large",
        ),
        (
            Reply.error(400, "InvalidRequestContentException", "Could not parse request body"),
            InvalidRequestError,
            "InvalidRequestContentException",
        ),
        (Reply.error(400, "InvalidParameterValueException", "bad"), InvalidRequestError, "InvalidParameterValue"),
        (Reply.error(409, "ResourceConflictException", "being updated"), InvokeError, "ResourceConflictException"),
        (Reply.error(400, "RecursiveInvocationException", "loop"), InvokeError, "RecursiveInvocationException"),
        (Reply.error(502, "EC2UnexpectedException", "eni"), InvocationUnknownError, "may have run"),
    ],
)
def test_each_aws_error_maps_to_its_exception(fake: FakeLambda, reply: Reply, kind: type, message: str) -> None:
    fake.script("fn", reply)
    with pytest.raises(kind) as info:
        lambda_magic.invoke("fn")
    assert type(info.value) is kind
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.code and info.value.function == "fn"


@both_transports
def test_not_found_with_a_qualifier_says_version_or_alias(fake: FakeLambda) -> None:
    fake.script("fn", Reply.error(404, "ResourceNotFoundException", "Function not found"))
    with pytest.raises(FunctionNotFoundError, match="function or its version/alias fn:nope not found in us-east-1"):
        lambda_magic.invoke("fn", qualifier="nope")


@both_transports
def test_function_error_comes_back_as_a_response(fake: FakeLambda) -> None:
    fake.on("fn", lambda call: Reply.function_error("bad input"))
    response = lambda_magic.invoke("fn")
    assert response.function_error == "Unhandled" and response.error is not None
    with pytest.raises(lambda_magic.FunctionError):
        lambda_magic.invoke("fn", raise_on_error=True)


@both_transports
def test_request_headers_reach_the_server(fake: FakeLambda) -> None:
    lambda_magic.invoke(
        "fn", {"a": 1}, qualifier="prod", client_context={"custom": {"k": 1}}, tenant_id="acme", invocation_type="event"
    )
    call = fake.calls[-1]
    assert call.qualifier == "prod"
    assert call.headers["x-amz-invocation-type"] == "Event"
    assert call.headers["x-amz-log-type"] == "None"
    assert call.headers["x-amz-tenant-id"] == "acme"
    assert "x-amz-client-context" in call.headers
    assert call.payload == {"a": 1}


@both_transports
def test_one_client_is_reused(fake: FakeLambda) -> None:
    from lambda_magic import _client

    for _ in range(3):
        lambda_magic.invoke("fn")
    assert len(_client._clients) == 1


def map_with(exc: BaseException) -> Any:
    from lambda_magic._engine import map_error

    return map_error(exc, request=make_request("fn"))


def test_botocore_local_errors_map() -> None:
    from botocore import exceptions as bx

    from lambda_magic import ParameterError, SettingsError

    assert isinstance(map_with(bx.NoCredentialsError()), SettingsError)
    assert isinstance(map_with(bx.NoRegionError()), SettingsError)
    assert isinstance(map_with(bx.TokenRetrievalError(provider="sso", error_msg="expired")), CredentialsError)
    assert isinstance(map_with(bx.ParamValidationError(report="bad")), ParameterError)
    assert isinstance(map_with(bx.ConnectTimeoutError(endpoint_url="http://x")), EndpointUnreachableError)
    assert isinstance(map_with(RuntimeError("odd")), InvokeError)


def test_botocore_errors_are_worded_in_one_place() -> None:
    """The client, discovery and stacks map through ``map_error``: no second copy of its words."""
    from pathlib import Path

    package = Path(lambda_magic.__file__).parent
    sources = {path: path.read_text() for path in package.rglob("*.py")}
    for phrase in ("no AWS region", "is not in ~/.aws/config", "is not usable: "):
        holders = [path.name for path, text in sources.items() if phrase in text]
        assert holders == ["_engine.py"], (phrase, holders)
    importers = sorted(
        path.name
        for path, text in sources.items()
        if "from botocore.exceptions import" in text
        and "except" in text
        and "map_error" not in text
        and path.name != "_engine.py"
    )
    assert importers == [], importers


def test_map_error_needs_the_request_or_the_operation() -> None:
    from lambda_magic._engine import map_error

    with pytest.raises(TypeError, match="request or the operation"):
        map_error(RuntimeError("x"))


# --- "nothing was sent" or "may have run": decided by whether bytes left the machine -------


class Listener:
    """A loopback socket that accepts connections and counts the bytes that arrive."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.received = 0
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:  # read what the request wrote, then drop the connection unanswered
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    self.received += len(conn.recv(65536))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def raw_client(url: str, **config: Any) -> Any:
    """A client built outside lambda_magic's settings, whose checks would refuse these values."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


@pytest.mark.parametrize(
    ("scheme", "config"),
    [
        ("http", {"connect_timeout": float("inf")}),
        ("http", {"connect_timeout": float("nan")}),
        ("ftp", {}),
    ],
)
def test_a_request_that_never_left_says_nothing_was_sent(scheme: str, config: dict[str, Any]) -> None:
    from lambda_magic import SettingsError
    from lambda_magic._invoke import execute
    from lambda_magic._settings import Settings

    listener = Listener()
    try:
        client = raw_client(f"{scheme}://127.0.0.1:{listener.port}", **config)
        with pytest.raises(SettingsError, match=r"could not be sent .*\(nothing was sent\)$") as caught:
            execute(make_request("fn", b"{}"), Settings(region="us-east-1"), client=client)
    finally:
        listener.close()
    assert "may have run" not in str(caught.value)
    assert listener.connections == 0 and listener.received == 0


def test_a_request_that_left_and_got_no_answer_says_it_may_have_run() -> None:
    from lambda_magic._invoke import execute
    from lambda_magic._settings import Settings

    listener = Listener()
    try:
        client = raw_client(f"http://127.0.0.1:{listener.port}")
        with pytest.raises(InvocationUnknownError, match="may have run") as caught:
            execute(make_request("fn", b"{}"), Settings(region="us-east-1"), client=client)
    finally:
        listener.close()
    assert "nothing was sent" not in str(caught.value)
    assert listener.connections == 1 and listener.received > 0


# --- cancel: a caller off the main thread (the form in a JupyterLab subshell) -------------------


def test_cancel_stops_a_call_like_ctrl_c_and_it_is_not_resent(fake: FakeLambda) -> None:
    from lambda_magic._client import client_for
    from lambda_magic._settings import resolve_settings

    cancel = threading.Event()

    def received_then_cancel(call: object) -> Reply:
        threading.Timer(0.05, cancel.set).start()
        return Reply.ok({"late": True}, delay=2.0)

    fake.on("slow", received_then_cancel)
    client = client_for(resolve_settings(endpoint_url=fake.url, region="us-east-1"))
    with pytest.raises(InterruptedInvocationError, match="may still be running in Lambda; it was not re-sent"):
        invoke(client, make_request("slow", b"{}"), cancel=cancel)
    assert settle(fake, "slow", 0.3) == 1


def test_cancel_during_a_retry_wait_says_nothing_runs(fake: FakeLambda) -> None:
    from lambda_magic._client import client_for
    from lambda_magic._settings import resolve_settings

    cancel = threading.Event()

    def throttled_then_cancel(call: object) -> Reply:
        threading.Timer(0.05, cancel.set).start()
        return Reply.throttle(retry_after=5)

    fake.on("busy", throttled_then_cancel)
    client = client_for(resolve_settings(endpoint_url=fake.url, region="us-east-1"))
    with pytest.raises(InvokeError, match=r"while waiting to retry .* nothing is running for it"):
        invoke(client, make_request("busy", b"{}"), cancel=cancel, policy=RetryPolicy(max_wait=30))
    assert fake.per_function["busy"] == 1


def test_an_uncancelled_call_answers_through_the_helper_thread(fake: FakeLambda) -> None:
    from lambda_magic._client import client_for
    from lambda_magic._settings import resolve_settings

    fake.script("fn", Reply.ok({"ok": 1}, delay=0.1))
    client = client_for(resolve_settings(endpoint_url=fake.url, region="us-east-1"))
    assert invoke(client, make_request("fn", b"{}"), cancel=threading.Event()).payload == {"ok": 1}
