"""The lean Invoke transport against botocore: the same bytes on the wire, the same
signature, the same answers and the same exceptions, for every option and error shape."""

from __future__ import annotations

import datetime
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import lambda_magic
from lambda_magic._client import client_for, invoker_for
from lambda_magic._settings import resolve_settings
from lambda_magic._transport import LeanTransport, Signer
from lambda_magic.testing import FakeLambda, Reply

#: A fixed instant: both signers sign at it.
FROZEN = datetime.datetime(2026, 12, 2, 13, 37, 42)
SIX_MB = 6 * 1024 * 1024
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"

#: (id, client.invoke keyword arguments), in the order the engine passes them.
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("minimal", {"FunctionName": "fn"}),
    (
        "engine-default",
        {"FunctionName": "fn", "InvocationType": "RequestResponse", "LogType": "Tail", "Payload": b'{"id": 1}'},
    ),
    (
        "qualifier",
        {
            "FunctionName": "fn",
            "InvocationType": "RequestResponse",
            "LogType": "None",
            "Payload": b"{}",
            "Qualifier": "prod",
        },
    ),
    ("latest-qualifier", {"FunctionName": "fn", "Qualifier": "$LATEST"}),
    ("event", {"FunctionName": "fn", "InvocationType": "Event", "LogType": "None", "Payload": b'"x"'}),
    ("dry-run", {"FunctionName": "fn", "InvocationType": "DryRun", "LogType": "None"}),
    (
        "client-context",
        {
            "FunctionName": "fn",
            "InvocationType": "RequestResponse",
            "LogType": "Tail",
            "ClientContext": "eyJjdXN0b20iOnsiayI6MX19",
        },
    ),
    ("tenant", {"FunctionName": "fn", "InvocationType": "RequestResponse", "TenantId": "acme corp:1/a=b+c@d"}),
    ("durable", {"FunctionName": "fn", "InvocationType": "Event", "DurableExecutionName": "run-1_a"}),
    (
        "everything",
        {
            "FunctionName": ARN + ":prod",
            "InvocationType": "RequestResponse",
            "LogType": "Tail",
            "Payload": b'{"a": [1, 2]}',
            "ClientContext": "e30=",
            "TenantId": "t  1",
            "DurableExecutionName": "d-1",
        },
    ),
    ("empty-payload", {"FunctionName": "fn", "Payload": b""}),
    ("binary-payload", {"FunctionName": "fn", "Payload": bytes(range(256)) * 4}),
    ("six-mb-payload", {"FunctionName": "fn", "Payload": b"7" * SIX_MB}),
    ("arn", {"FunctionName": ARN}),
    ("partial-arn", {"FunctionName": "123456789012:function:fn", "Qualifier": "7"}),
    ("dotted-name", {"FunctionName": "my.fn_v2-b"}),
    ("unicode-name", {"FunctionName": "fonction-été-日本"}),
    ("unicode-arn", {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:ƒ:prod"}),
    ("unicode-qualifier", {"FunctionName": "fn", "Qualifier": "é"}),
]


class Recorder:
    """A loopback HTTP/1.1 endpoint that keeps each raw request and answers 200 ``{}``."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[tuple[bytes, bytes]] = []
        self.received = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = int(dict(_header(line) for line in head.split(b"\r\n")[1:]).get(b"content-length", 0))
                while len(data) < length:
                    data += conn.recv(1 << 20)
                body, data = data[:length], data[length:]
                with self.received:
                    self.requests.append((head, body))
                    self.received.notify_all()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Amzn-RequestId: rid\r\n\r\n{}")

    def close(self) -> None:
        self.sock.close()


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> float:
    """botocore's clock (``botocore.auth.get_current_datetime``) stopped at ``FROZEN``."""
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN)
    return FROZEN.replace(tzinfo=datetime.timezone.utc).timestamp()


def _both(
    url: str, clock: float, monkeypatch: pytest.MonkeyPatch, token: str | None = "session-token"
) -> tuple[Any, LeanTransport]:
    """botocore's client and the lean transport, for the same identity, region and endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG")
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    settings = resolve_settings(endpoint_url=url, region="us-east-1")
    botocore_client = client_for(settings)
    lean = invoker_for(settings)
    assert isinstance(lean, LeanTransport)
    lean.signer.clock = lambda: clock
    return botocore_client, lean


def _comparable(head: bytes) -> tuple[list[bytes], bytes, set[bytes]]:
    """The head's lines less what botocore itself varies: the random ``amz-sdk-invocation-id``
    (a UUID4 in both) and the ``m/`` feature ids of the User-Agent (ordered by string
    hashing; the credential source's id only on a session's first client): returned apart."""
    import re

    lines = head.split(b"\r\n")
    ids = [line for line in lines if line.startswith(b"amz-sdk-invocation-id: ")]
    assert len(ids) == 1 and len(ids[0].split(b": ")[1]) == 36
    features = re.search(rb" m/([A-Za-z0-9,+-]+) ", head)
    assert features is not None
    lines = [line.replace(features.group(0), b" m/* ") for line in lines if line not in ids]
    return lines, ids[0], set(features.group(1).split(b","))


@pytest.mark.parametrize(("params"), [params for _, params in REQUESTS], ids=[name for name, _ in REQUESTS])
@pytest.mark.parametrize("token", ["session-token", None], ids=["token", "no-token"])
def test_the_lean_request_is_byte_for_byte_botocores(
    recorder: Recorder,
    frozen: float,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, Any],
    token: str | None,
) -> None:
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    botocore_client, lean = _both(recorder.url, frozen, monkeypatch, token)
    botocore_client.invoke(**params)["Payload"].read()
    lean.invoke(**params)["Payload"].read()
    (boto_head, boto_body), (lean_head, lean_body) = recorder.requests
    boto_lines, boto_id, boto_features = _comparable(boto_head)
    lean_lines, lean_id, lean_features = _comparable(lean_head)
    assert lean_lines == boto_lines  # method, path, query, every header, their order; Authorization too
    assert lean_body == boto_body
    assert boto_id != lean_id and lean_features <= boto_features
    assert any(
        line.startswith(b"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/lambda/")
        for line in lean_lines
    )


@pytest.mark.parametrize(("params"), [params for _, params in REQUESTS], ids=[name for name, _ in REQUESTS])
def test_the_signature_equals_botocores_sigv4auth(
    recorder: Recorder, frozen: float, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lean Authorization, recomputed by ``botocore.auth.SigV4Auth`` from the request alone."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    _, lean = _both(recorder.url, frozen, monkeypatch)
    prepared = lean.prepare(dict(params))
    headers = dict(prepared.headers)
    # What botocore's serialiser hands its signer: the parameters' headers and the User-Agent
    # (the signer adds date and token; http.client and the retry handler add the rest later).
    given = {
        k: v
        for k, v in headers.items()
        if k == "User-Agent" or (k.startswith("X-Amz-") and k not in ("X-Amz-Date", "X-Amz-Security-Token"))
    }
    request = AWSRequest("POST", recorder.url + prepared.target, data=prepared.body, headers=given)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "session-token")
    SigV4Auth(credentials, "lambda", "us-east-1").add_auth(request)
    assert headers["Authorization"] == request.headers["Authorization"]
    assert headers["X-Amz-Date"] == request.headers["X-Amz-Date"] == "20261202T133742Z"


def test_the_signing_key_is_derived_once_per_day_and_secret() -> None:
    now = [FROZEN.replace(tzinfo=datetime.timezone.utc).timestamp()]
    signer = Signer(region="us-east-1", service="lambda", clock=lambda: now[0])
    sign = lambda secret: signer.authorization(  # noqa: E731
        access_key="AK", secret_key=secret, amz_date=signer.timestamp(), canonical="c", signed="host"
    )
    first = sign("s1")
    key = signer._key
    assert sign("s1") == first and signer._key is key  # cached
    assert sign("s2") != first and signer._key is not key  # a rotated secret: a new key
    now[0] += 86400
    assert signer.timestamp().startswith("20261203") and sign("s2") != first


def test_refreshable_credentials_stay_refreshable(recorder: Recorder, aws_env: None) -> None:
    """Frozen per call: credentials that expire between two calls sign the second with new keys."""
    from botocore.credentials import RefreshableCredentials

    start = datetime.datetime.now(datetime.timezone.utc)
    now = [start]
    issued = iter(["KEY1", "KEY2"])

    def refresh() -> dict[str, str]:
        return {
            "access_key": next(issued),
            "secret_key": "s",
            "token": "t",
            "expiry_time": (now[0] + datetime.timedelta(hours=1)).isoformat(),
        }

    first = refresh()
    credentials = RefreshableCredentials(
        first["access_key"],
        "s",
        "t",
        start + datetime.timedelta(hours=1),
        refresh,
        "custom-process",
        time_fetcher=lambda: now[0],
    )
    lean = invoker_for(resolve_settings(endpoint_url=recorder.url))
    lean._credentials = lambda: credentials
    lean.invoke(FunctionName="fn")
    now[0] = start + datetime.timedelta(hours=2)  # expired: botocore refreshes on the next freeze
    lean.invoke(FunctionName="fn")
    keys = [head.split(b"Credential=")[1].split(b"/")[0] for head, _ in recorder.requests]
    assert keys == [b"KEY1", b"KEY2"]


# --- answers: the same dict, the same exception -----------------------------------------

ANSWERS = [
    Reply.ok({"a": 1}),
    Reply.ok({"a": 1}, log="START\nEND\n", version="7"),
    Reply.function_error("boom", kind="Handled"),
    Reply(202, b"", {}),
    Reply(204, b"", {"X-Amz-Durable-Execution-Arn": "arn:aws:lambda:us-east-1:1:durable:x"}),
    Reply(200, bytes(range(256)), {"X-Amzn-RequestId": "abc", "X-Amz-Executed-Version": "$LATEST"}),
]


def _compare(fake: FakeLambda, call: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``call`` on botocore's client, then on the lean transport, for the same settings."""
    from dataclasses import replace

    settings = resolve_settings()
    boto = call(invoker_for(replace(settings, transport="botocore")))
    return boto, call(invoker_for(replace(settings, transport="lean")))


def _steady(meta: dict[str, Any]) -> None:
    """Response metadata less what differs between any two answers: date, server, request id."""
    headers = meta["HTTPHeaders"]
    for volatile in ("date", "server"):
        headers.pop(volatile, None)
    if "RequestId" in meta:
        assert meta["RequestId"] == headers["x-amzn-requestid"]
        meta["RequestId"] = "rid"
    if "x-amzn-requestid" in headers:
        headers["x-amzn-requestid"] = "rid"


@pytest.mark.parametrize("reply", ANSWERS, ids=["ok", "log-version", "function-error", "event", "dry-run", "binary"])
def test_answers_are_the_dict_botocore_returns(fake: FakeLambda, reply: Reply) -> None:
    fake.on("fn", lambda call: reply)

    def call(invoker: Any) -> dict[str, Any]:
        answer = invoker.invoke(FunctionName="fn", LogType="Tail")
        answer["Payload"] = answer["Payload"].read()
        _steady(answer["ResponseMetadata"])
        return answer  # type: ignore[no-any-return]

    boto, lean = _compare(fake, call)
    assert lean == boto


#: Every modeled Invoke error, with the status the model gives it.
def _modeled_errors() -> list[tuple[str, int]]:
    import botocore.session

    operation = botocore.session.get_session().get_service_model("lambda").operation_model("Invoke")
    return [
        (shape.name, int(shape.metadata.get("error", {}).get("httpStatusCode", 400)))
        for shape in operation.error_shapes
    ]


ERRORS = [Reply.error(status, code, f"about {code}", Reason="R") for code, status in _modeled_errors()] + [
    Reply.throttle(retry_after=2.5),
    Reply.error(500, "ServiceException", "internal"),
    Reply(503, b"<html>busy</html>", {}),
    Reply(413, b'{"message": "Request must be smaller than 6291456 bytes"}', {}),
    Reply(502, b"", {"x-amzn-ErrorType": "EC2UnexpectedException:http://internal/"}),
    Reply(403, b'{"__type": "com.amazon#ExpiredTokenException", "message": "expired"}', {}),
]


@pytest.mark.parametrize("reply", ERRORS, ids=lambda reply: f"{reply.status}-{reply.headers.get('x-amzn-ErrorType')}")
def test_error_answers_raise_what_botocore_raises(fake: FakeLambda, reply: Reply) -> None:
    from botocore.exceptions import ClientError

    from lambda_magic._engine import map_error
    from lambda_magic._request import make_request

    fake.on("fn", lambda call: reply)

    def call(invoker: Any) -> Any:
        with pytest.raises(ClientError) as info:
            invoker.invoke(FunctionName="fn")
        _steady(info.value.response["ResponseMetadata"])
        return info.value

    boto, lean = _compare(fake, call)
    assert type(lean) is type(boto) and str(lean) == str(boto)
    assert lean.response == boto.response
    request = make_request("fn")
    mapped_boto, mapped_lean = map_error(boto, request=request), map_error(lean, request=request)
    assert type(mapped_lean) is type(mapped_boto) and str(mapped_lean) == str(mapped_boto)
    assert getattr(mapped_lean, "retry_after", None) == getattr(mapped_boto, "retry_after", None)


# --- the wire: answers in every framing, kept and stale connections ---------------------


class Scripted:
    """A loopback server answering each request on a connection with the next raw answer of
    ``answers`` (bytes; ``None`` closes the connection without answering). ``close_after``
    closes every connection after that many answers, without saying so."""

    def __init__(self, answers: list[bytes | None], close_after: int | None = None) -> None:
        self.answers = list(answers)
        self.close_after = close_after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.requests = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            reader = conn.makefile("rb")
            for _ in range(self.close_after or 1000):
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = int(dict(_header(h) for h in head.split(b"\r\n")[1:] if h).get(b"content-length", 0))
                reader.read(length)
                with self.lock:
                    self.requests += 1
                    answer = self.answers.pop(0) if self.answers else None
                if answer is None:
                    return
                conn.sendall(answer)
                if b"Connection: close" in answer or answer.startswith(b"HTTP/1.0"):
                    return  # as the answer said

    def close(self) -> None:
        self.sock.close()


def _lean_at(url: str) -> LeanTransport:
    lean = invoker_for(resolve_settings(endpoint_url=url, read_timeout=2.0))
    assert isinstance(lean, LeanTransport)
    return lean


OK = b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX-Amzn-RequestId: r\r\n\r\n{"a":1}'


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (OK, b'{"a":1}'),
        (
            b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4;ext=1\r\n":1}\r\n0\r\nX-T: 1\r\n\r\n',
            b'{"a":1}',
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b'{"a":1}'),
        (b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"to": "the close"}', b'{"to": "the close"}'),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", b"{}"),
    ],
    ids=["content-length", "chunked", "continue", "to-the-close", "http-1.0"],
)
def test_answers_in_every_framing_are_read_whole(aws_env: None, answer: bytes, body: bytes) -> None:
    server = Scripted([answer, answer])
    try:
        lean = _lean_at(server.url)
        lean._user_agent = "ua"  # the answers are scripted: no request through botocore
        assert lean.invoke(FunctionName="fn")["Payload"].read() == body
        assert lean.invoke(FunctionName="fn")["Payload"].read() == body
    finally:
        server.close()
    keeps_alive = b"close" not in answer and not answer.startswith(b"HTTP/1.0")
    assert (server.requests, server.connections) == (2, 1 if keeps_alive else 2)


def test_a_connection_the_server_closed_while_idle_is_not_used(aws_env: None) -> None:
    """A stale keep-alive connection is noticed before sending: no call fails, none arrives twice."""
    server = Scripted([OK] * 3, close_after=1)
    try:
        lean = _lean_at(server.url)
        lean._user_agent = "ua"
        for _ in range(3):
            assert lean.invoke(FunctionName="fn")["Payload"].read() == b'{"a":1}'
            deadline = time.monotonic() + 5  # the server's close has arrived
            while not lean.pool._idle or not lean.pool._closed_by_peer(lean.pool._idle[-1][0]):
                assert time.monotonic() < deadline
                time.sleep(0.01)
    finally:
        server.close()
    assert (server.requests, server.connections) == (3, 3)


@pytest.mark.parametrize(
    ("answer", "botocore_error", "ours"),
    [
        (None, "ConnectionClosedError", "InvocationUnknownError"),
        (b"garbage\r\n\r\n", "ConnectionClosedError", "InvocationUnknownError"),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"a"', "ResponseStreamingError", "InvocationUnknownError"),
    ],
    ids=["dropped", "garbled", "cut-short"],
)
def test_broken_answers_raise_botocores_exceptions(
    aws_env: None, answer: bytes | None, botocore_error: str, ours: str
) -> None:
    from botocore import exceptions as bx

    from lambda_magic._engine import map_error
    from lambda_magic._request import make_request

    server = Scripted([answer, None] if answer else [None], close_after=1)
    try:
        lean = _lean_at(server.url)
        lean._user_agent = "ua"
        with pytest.raises(getattr(bx, botocore_error)) as info:
            lean.invoke(FunctionName="fn")
    finally:
        server.close()
    assert type(map_error(info.value, request=make_request("fn"))) is getattr(lambda_magic, ours)
    assert server.requests == 1


def test_an_http_proxy_for_the_endpoint_falls_back_to_botocore(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only botocore honours HTTP(S)_PROXY: with one set for the endpoint, it sends."""
    from lambda_magic._client import clear_clients

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "")
    assert not isinstance(invoker_for(resolve_settings(endpoint_url="http://127.0.0.1:9")), LeanTransport)
    clear_clients()  # clients are built with the proxies of their time, botocore's as ours
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert isinstance(invoker_for(resolve_settings(endpoint_url="http://127.0.0.1:9")), LeanTransport)


def test_no_credentials_is_botocores_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_magic import SettingsError

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(SettingsError, match="no AWS credentials"):
        lambda_magic.invoke("fn", endpoint_url="http://127.0.0.1:9")


def _self_signed(directory: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files (cryptography comes with moto)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def https_echo(tmp_path: Any) -> Iterator[tuple[str, str]]:
    """A loopback HTTPS endpoint answering every Invoke with its payload; yields (url, CA file)."""
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert, key = _self_signed(tmp_path)

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_as_botocore_does(
    aws_env: None, https_echo: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Untrusted: botocore's SSLError, mapped alike on both transports; AWS_CA_BUNDLE trusts it."""
    from dataclasses import replace

    from lambda_magic import InvokeError, make_request
    from lambda_magic._client import clear_clients
    from lambda_magic._invoke import execute

    url, ca_file = https_echo
    settings = resolve_settings(endpoint_url=url)
    errors = []
    for transport in ("botocore", "lean"):
        with pytest.raises(InvokeError) as info:
            execute(make_request("fn", b"{}"), replace(settings, transport=transport))
        errors.append((type(info.value), str(info.value).split(":")[0]))
    assert errors[0] == errors[1] and "SSLError" in str(info.value)
    clear_clients()
    monkeypatch.setenv("AWS_CA_BUNDLE", ca_file)
    lean = invoker_for(resolve_settings(endpoint_url=url))
    assert isinstance(lean, LeanTransport)
    assert lean.invoke(FunctionName="fn", Payload=b'{"tls": 1}')["Payload"].read() == b'{"tls": 1}'
    assert lean.invoke(FunctionName="fn", Payload=b'{"tls": 2}')["Payload"].read() == b'{"tls": 2}'
    assert lean.pool.opened == 1  # kept alive over TLS


def test_the_transport_setting_selects_and_is_checked(aws_env: None, shell: Any, tmp_path: Any) -> None:
    from IPython.core.error import UsageError

    from lambda_magic import SettingsError, session_settings

    assert resolve_settings().transport == "lean"
    assert isinstance(invoker_for(resolve_settings(endpoint_url="http://127.0.0.1:9")), LeanTransport)
    shell.run_line_magic("lambda_config", "transport=botocore")
    settings = resolve_settings(endpoint_url="http://127.0.0.1:9")
    assert settings.transport == "botocore" and settings.sources["transport"] == "session"
    assert invoker_for(settings) is client_for(settings)
    with pytest.raises(UsageError, match="transport 'fast' is not one of lean, botocore"):
        shell.run_line_magic("lambda_config", "transport=fast")
    with pytest.raises(SettingsError, match="transport 'httpx' is not one of lean, botocore"):
        session_settings().update(transport="httpx")
    (tmp_path / "work" / "lambda_magic.toml").write_text('transport = "lean"\n')
    session_settings().clear("transport")
    assert resolve_settings().transport == "lean" and resolve_settings().sources["transport"].endswith(".toml")


def test_a_configured_retry_mode_shows_in_both_requests_alike(
    recorder: Recorder, frozen: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's headers that follow ~/.aws/config (retry mode) are learned, not assumed."""
    import os

    config = os.environ["AWS_CONFIG_FILE"]
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w") as file:
        file.write("[default]\nretry_mode = standard\n")
    botocore_client, lean = _both(recorder.url, frozen, monkeypatch)
    params = {"FunctionName": "fn", "InvocationType": "RequestResponse", "LogType": "Tail", "Payload": b"{}"}
    botocore_client.invoke(**params)["Payload"].read()
    lean.invoke(**params)["Payload"].read()
    (boto_head, _), (lean_head, _) = recorder.requests
    assert _comparable(lean_head)[0] == _comparable(boto_head)[0]
    assert b"cfg/retry-mode#standard" in lean_head  # the User-Agent followed the file


def test_a_prepared_request_keeps_its_secrets_out_of_its_repr(
    recorder: Recorder, frozen: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lean = _both(recorder.url, frozen, monkeypatch, token="session-token-SECRET")
    prepared = lean.prepare({"FunctionName": "fn", "Payload": b'{"card": 1}'})
    assert "SECRET" not in repr(prepared) and "Signature" not in repr(prepared) and "card" not in repr(prepared)
    assert "SECRET" not in repr(lean) and "wJalrXUtnFEMI" not in repr(lean.signer)


def test_motos_in_process_mock_gets_botocores_client(moto_lambda: Any) -> None:
    """moto's ``mock_aws`` answers only what goes through botocore: Invoke goes that way then."""

    assert not isinstance(invoker_for(resolve_settings()), LeanTransport)
    assert lambda_magic.invoke("echo", {"a": 1}).payload == {"a": 1}
