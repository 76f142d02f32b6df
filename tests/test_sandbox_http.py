"""The sandbox's HTTP framing and error bodies, as botocore and raw clients meet them."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_fixtures import invoke_json, lambda_client, raw_request, running_sandbox, signed_headers

from lambda_magic.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="awslambdaric is Linux-only")
_PATH = "/2015-03-31/functions/echo/invocations"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as sb:
        yield sb


def _head(sandbox: Sandbox, extra: dict[str, str], body: bytes = b"") -> bytes:
    headers = {**signed_headers(sandbox, "POST", _PATH, body), **extra}
    headers.setdefault("Host", sandbox.endpoint_url.removeprefix("http://"))
    lines = [f"POST {_PATH} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _split(answer: bytes) -> tuple[int, bytes, bytes]:
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, rest


def test_a_chunked_body_reaches_the_handler_and_the_connection_stays_in_step(sandbox: Sandbox) -> None:
    payload = json.dumps({"chunked": True, "text": "x" * 100}).encode()
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:40], payload[40:]))
    body += b"0\r\n\r\n"
    head = _head(sandbox, {"Transfer-Encoding": "chunked"}, payload)
    second = _head(sandbox, {"Content-Length": "2", "Connection": "close"}, b"{}")
    answer = raw_request(sandbox, head, body + second + b"{}")
    status, _, rest = _split(answer)
    assert status == 200
    first_body, _, following = rest.partition(b"HTTP/1.1 ")
    assert json.loads(first_body)["event"] == {"chunked": True, "text": "x" * 100}
    assert following.startswith(b"200 ")  # the next request on the connection was read whole


def test_a_malformed_content_length_is_400_without_a_traceback(sandbox: Sandbox) -> None:
    status, head, body = _split(raw_request(sandbox, _head(sandbox, {"Content-Length": "abc"})))
    assert status == 400
    assert b"x-amzn-ErrorType: InvalidRequestContentException" in head
    assert b"Traceback" not in body and b"Content-Length" in body


def test_an_unknown_transfer_encoding_is_411(sandbox: Sandbox) -> None:
    status, _, _ = _split(raw_request(sandbox, _head(sandbox, {"Transfer-Encoding": "gzip"})))
    assert status == 411


def test_an_idle_half_open_connection_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_magic.sandbox import _server

    assert _server._ApiHandler.timeout is not None and 0 < _server._ApiHandler.timeout <= 120
    monkeypatch.setattr(_server._ApiHandler, "timeout", 0.5)
    with running_sandbox() as sandbox:
        port = int(sandbox.endpoint_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(b"POST " + _PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            assert sock.recv(1024) == b""  # closed by the server, well before our 20 s
            assert time.monotonic() - started < 15


def test_an_arn_of_another_region_is_not_run_here(sandbox: Sandbox) -> None:
    client = lambda_client(sandbox)
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:echo"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.invoke(FunctionName=arn, Payload=b"{}")
    assert "Functions from 'eu-west-1' are not reachable in this region" in str(caught.value)


def test_an_arn_of_another_account_is_access_denied(sandbox: Sandbox) -> None:
    client = lambda_client(sandbox)
    arn = "arn:aws:lambda:us-east-1:999999999999:function:echo"
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.invoke(FunctionName=arn, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_an_arn_of_this_region_and_account_runs(sandbox: Sandbox) -> None:
    client = lambda_client(sandbox)
    response, _ = invoke_json(client, "arn:aws:lambda:us-east-1:123456789012:function:echo", {})
    assert response["StatusCode"] == 200


@pytest.mark.parametrize(
    "code",
    [
        "ResourceNotFoundException",
        "ServiceException",
        "InvalidParameterValueException",
        "TooManyRequestsException",
        "RequestTooLargeException",
        "InvalidRequestContentException",
    ],
)
def test_error_bodies_spell_message_as_the_botocore_model(code: str) -> None:
    import botocore.session

    from lambda_magic.sandbox._errors import ApiError

    shape = botocore.session.get_session().get_service_model("lambda").shape_for(code)
    body: dict[str, Any] = ApiError(code, 400, "text").body()
    key = next(member for member in shape.members if member.lower() == "message")
    assert body[key] == "text"
