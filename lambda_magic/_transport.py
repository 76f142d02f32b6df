"""The lean Invoke transport: the same HTTP request botocore sends, at a fraction of its CPU.

botocore spends ~2 ms of CPU per Invoke (serialising, its event system, parsing) under one
GIL, which caps a fan-out at a few hundred calls a second whatever the concurrency. This
module sends Invoke, and only Invoke, itself:

- the request is built as botocore builds it (path quoted by ``botocore.utils.percent_encode``,
  ``?Qualifier=``, the ``X-Amz-*`` headers in the caller's order, the User-Agent botocore
  computes for this client, captured once from a request it prepares but never sends);
- it is signed with SigV4 by hand (``_sign``): ~8 us a call against ~26 us for awscrt and
  ~80-190 us for ``botocore.auth.SigV4Auth`` (``bench/bench_signing.py``), tested equal to
  ``SigV4Auth`` byte for byte. Credentials come from botocore's chain and are frozen per call
  (``get_frozen_credentials()``), so refreshable ones stay refreshable; the signing key is
  derived once per date, region and secret;
- it goes over a keep-alive pool of plain sockets (``_pool``) holding as many idle
  connections as the fan-out has workers, and is answered in the dict ``client.invoke``
  returns (same fields, a ``Payload`` with ``read()``);
- a failure is raised as the botocore exception botocore would raise (error answers parsed
  by botocore's own parser into the client's modeled exception class), so
  ``_engine.map_error`` stays the one mapping. Nothing is ever re-sent here.

Everything else (discovery, the control plane, credentials, streaming) stays with botocore.
"""

from __future__ import annotations

import functools
import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any
from urllib.parse import quote, urlsplit

from lambda_magic._pool import ConnectionPool

__all__ = ["Body", "LeanTransport", "PreparedInvoke", "Signer"]

_OPERATION = "Invoke"
#: Parameter name -> request header, as the botocore model serialises them.
_HEADERS = {
    "InvocationType": "X-Amz-Invocation-Type",
    "LogType": "X-Amz-Log-Type",
    "ClientContext": "X-Amz-Client-Context",
    "TenantId": "X-Amz-Tenant-Id",
    "DurableExecutionName": "X-Amz-Durable-Execution-Name",
}
#: Response header -> answer field (the model's output members located in headers).
_ANSWER_HEADERS = (
    ("x-amz-function-error", "FunctionError"),
    ("x-amz-log-result", "LogResult"),
    ("x-amz-executed-version", "ExecutedVersion"),
    ("x-amz-durable-execution-arn", "DurableExecutionArn"),
)
#: botocore's SIGNED_HEADERS_BLACKLIST members that this request can carry.
_UNSIGNED = frozenset({"user-agent", "accept-encoding", "amz-sdk-invocation-id", "amz-sdk-request", "content-length"})
_EMPTY_SHA256 = sha256(b"").hexdigest()


@dataclass(frozen=True)
class PreparedInvoke:
    """One signed Invoke request, as it goes on the wire."""

    method: str
    target: str  # path and query, as on the request line
    headers: list[tuple[str, str]] = field(repr=False)  # the session token and signature stay out of reprs
    body: bytes = field(repr=False)

    def head(self) -> bytes:
        """The request line and headers, ready to send."""
        lines = [f"{self.method} {self.target} HTTP/1.1", *(f"{name}: {value}" for name, value in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Body:
    """An answer's payload, read already; ``read()`` as botocore's ``StreamingBody`` offers it."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, amt: int | None = None) -> bytes:
        """The payload (all of what is left, or ``amt`` bytes of it)."""
        data, self._data = (self._data, b"") if amt is None else (self._data[:amt], self._data[amt:])
        return data

    def __repr__(self) -> str:
        return f"<Body {len(self._data)} bytes>"


class Signer:
    """SigV4 for one region and service; the signing key is derived once per date and secret."""

    def __init__(self, *, region: str, service: str, clock: Callable[[], float] = time.time) -> None:
        self.region, self.service, self.clock = region, service, clock
        self._key: tuple[str, str, bytes] | None = None  # (date, secret, key): one identity at a time
        self._stamp: tuple[int, str] = (-1, "")

    def timestamp(self) -> str:
        """``X-Amz-Date`` for now, formatted once per second."""
        second = int(self.clock())
        if self._stamp[0] != second:
            self._stamp = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
        return self._stamp[1]

    def authorization(self, *, access_key: str, secret_key: str, amz_date: str, canonical: str, signed: str) -> str:
        """The ``Authorization`` header for a canonical request."""
        day = amz_date[:8]
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(day, secret_key), to_sign.encode(), sha256).hexdigest()
        return f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"

    def _signing_key(self, day: str, secret_key: str) -> bytes:
        cached = self._key
        if cached is not None and cached[0] == day and cached[1] == secret_key:
            return cached[2]
        key = f"AWS4{secret_key}".encode()
        for part in (day, self.region, self.service, "aws4_request"):
            key = hmac.new(key, part.encode(), sha256).digest()
        self._key = (day, secret_key, key)
        return key


class LeanTransport:
    """``invoke(**params)`` like a botocore Lambda client's, for the engine's client seam.

    ``client`` is a private botocore client of the same session and configuration: its
    ``meta`` (region, endpoint, service model) and exception classes are used, and it
    prepares one request (never sent) to learn the User-Agent botocore would send.
    ``credentials`` returns botocore's credentials object (None when there is none).
    ``on_send`` is called with each prepared request just before it is sent (a seam for
    observing or failing requests in tests, like botocore's ``before-send`` event).
    """

    def __init__(
        self,
        client: Any,
        *,
        credentials: Callable[[], Any],
        pool_size: int,
        connect_timeout: float,
        read_timeout: float,
        ssl_context: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.meta = client.meta
        self._credentials = credentials
        url = urlsplit(client.meta.endpoint_url)
        self._base_path = url.path
        self.endpoint_url = client.meta.endpoint_url
        self.signer = Signer(
            region=client.meta.region_name, service=client.meta.service_model.signing_name, clock=clock
        )
        self.pool = ConnectionPool(
            self.endpoint_url,
            size=pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            ssl_context=ssl_context,
        )
        self.on_send: Callable[[PreparedInvoke], None] | None = None
        self._user_agent: str | None = None
        self._sdk_request = "attempt=1"  # botocore's retry mode may say more: learned with the User-Agent
        self._paths: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def invoke(self, **params: Any) -> dict[str, Any]:
        """Send one Invoke; the answer as ``client.invoke`` returns it, or botocore's exception."""
        request = self.prepare(params)
        if self.on_send is not None:
            self.on_send(request)
        status, headers, body = self.pool.exchange(request.head(), request.body)
        if status >= 300:
            raise self._client_error(status, headers, body)
        return _answer(status, headers, body)

    def prepare(self, params: dict[str, Any]) -> PreparedInvoke:
        """The signed request for ``client.invoke``'s keyword arguments."""
        frozen = self._frozen_credentials()
        user_agent = self._user_agent or self._learn_user_agent(params)
        target, canonical_target = self._target(params["FunctionName"], params.get("Qualifier"))
        body = params.get("Payload") or b""
        if isinstance(body, str):
            body = body.encode()
        # In botocore's order: http.client's two, the serialiser's in the caller's order, the signer's.
        headers = [("Host", self.pool.host_header), ("Accept-Encoding", "identity")]
        headers += [(_HEADERS[name], value) for name, value in params.items() if name in _HEADERS]
        amz_date = self.signer.timestamp()
        headers += [("User-Agent", user_agent), ("X-Amz-Date", amz_date)]
        if frozen.token:
            headers.append(("X-Amz-Security-Token", frozen.token))
        canonical, signed = _canonical(canonical_target, headers, body)
        headers.append(
            (
                "Authorization",
                self.signer.authorization(
                    access_key=frozen.access_key,
                    secret_key=frozen.secret_key,
                    amz_date=amz_date,
                    canonical=canonical,
                    signed=signed,
                ),
            )
        )
        headers += [
            ("amz-sdk-invocation-id", str(uuid.uuid4())),
            ("amz-sdk-request", self._sdk_request),
            ("Content-Length", str(len(body))),
        ]
        return PreparedInvoke("POST", target, headers, body)

    def close(self) -> None:
        """Close the idle connections."""
        self.pool.close()

    def _frozen_credentials(self) -> Any:
        credentials = self._credentials()
        if credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        return credentials.get_frozen_credentials()

    def _target(self, function: str, qualifier: str | None) -> tuple[str, str]:
        """The request line's path and query, and the canonical path and query, cached."""
        key = (function, qualifier)
        cached = self._paths.get(key)
        if cached is None:
            if len(self._paths) >= 1024:  # a long session's many targets: start again
                self._paths.clear()
            cached = self._paths[key] = _targets(self._base_path, function, qualifier)
        return cached

    def _learn_user_agent(self, params: dict[str, Any]) -> str:
        with self._lock:
            if self._user_agent is None:
                user_agent, self._sdk_request = botocore_headers(self.client, params)
                self._user_agent = user_agent
            return self._user_agent

    def _client_error(self, status: int, headers: Any, body: bytes) -> Exception:
        """The exception botocore raises for this error answer: its parser, its classes."""
        from botocore.awsrequest import HeadersDict
        from botocore.parsers import create_parser

        operation = self.meta.service_model.operation_model(_OPERATION)
        response = {
            "headers": HeadersDict(headers),
            "status_code": status,
            "body": body,
            "context": {"operation_name": _OPERATION},
        }
        parser = create_parser(self.meta.service_model.resolved_protocol)
        parsed = parser.parse(response, operation.output_shape)
        code = parsed.get("Error", {}).get("Code")
        shape = self.meta.service_model.shape_for_error_code(code) if code else None
        if shape is not None:
            parsed.update(parser.parse(response, shape))
        meta = parsed.setdefault("ResponseMetadata", {})  # the parser set status, headers, request id
        meta["RetryAttempts"] = 0
        if (status, code) in _retryable() or (status, None) in _retryable():
            meta["MaxAttemptsReached"] = True  # botocore's retry handler says it gave up (at once)
        return self.client.exceptions.from_code(code)(parsed, _OPERATION)  # type: ignore[no-any-return]


@functools.cache
def _retryable() -> frozenset[tuple[int, str | None]]:
    """(status, error code or None for any) that botocore's legacy retry rules would retry.

    Read from botocore's own ``_retry.json`` (its default policies), as its retry handler
    reads them: with retries off it marks such an error ``MaxAttemptsReached``.
    """
    from botocore.loaders import create_loader

    rules = create_loader().load_data("_retry")
    found = set()
    for name in rules["retry"]["__default__"]["policies"]:
        response = rules["definitions"][name]["applies_when"].get("response")
        if response and "http_status_code" in response:
            found.add((response["http_status_code"], response.get("service_error_code")))
    return frozenset(found)


def _targets(base_path: str, function: str, qualifier: str | None) -> tuple[str, str]:
    """The wire path and query (botocore's serializer), and the canonical ones (its signer)."""
    from botocore.utils import normalize_url_path, percent_encode, percent_encode_sequence

    uri = f"/2015-03-31/functions/{percent_encode(function)}/invocations"
    path = base_path[:-1] + uri if base_path.endswith("/") else base_path + uri
    query = percent_encode_sequence({"Qualifier": qualifier}) if qualifier is not None else ""
    target = f"{path}?{query}" if query else path
    return target, f"{quote(normalize_url_path(path), safe='/~')}\n{query}"


def _canonical(canonical_target: str, headers: list[tuple[str, str]], body: bytes) -> tuple[str, str]:
    """SigV4's canonical request and signed-header list, as ``SigV4Auth`` makes them."""
    signed = sorted((name.lower(), " ".join(value.split())) for name, value in headers if name.lower() not in _UNSIGNED)
    names = ";".join(name for name, _ in signed)
    lines = "".join(f"{name}:{value}\n" for name, value in signed)
    digest = sha256(body).hexdigest() if body else _EMPTY_SHA256
    return f"POST\n{canonical_target}\n{lines}\n{names}\n{digest}", names


def _metadata(status: int, headers: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if "x-amzn-requestid" in headers:
        meta["RequestId"] = headers["x-amzn-requestid"]
    elif "x-amz-request-id" in headers:
        meta["RequestId"] = headers["x-amz-request-id"]
        meta["HostId"] = headers.get("x-amz-id-2", "")
    meta.update(HTTPStatusCode=status, HTTPHeaders=dict(headers), RetryAttempts=0)
    return meta


def _answer(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """A success as botocore's parser returns it for Invoke."""
    answer: dict[str, Any] = {"ResponseMetadata": _metadata(status, headers), "StatusCode": status}
    for header, field_name in _ANSWER_HEADERS:
        value = headers.get(header)
        if value is not None:
            answer[field_name] = value
    answer["Payload"] = Body(body)
    return answer


class _HeadersLearned(Exception):
    """Carries headers out of botocore's ``before-send`` event: nothing is sent."""

    def __init__(self, headers: tuple[str, str]) -> None:
        super().__init__("headers learned")
        self.headers = headers


def botocore_headers(client: Any, params: dict[str, Any]) -> tuple[str, str]:
    """The ``User-Agent`` and ``amz-sdk-request`` headers ``client`` sends with an Invoke of
    ``params`` (prepared, signed, not sent).

    botocore assembles it per request (its feature ids); doing it once through botocore
    itself keeps the lean request equal to botocore's, up to what botocore varies itself:
    the order of the ``m/`` feature ids follows string hashing, and the credential source's
    id is only on the first client of a session. The client must be private to the caller:
    a handler is registered on it for the duration.
    """

    def capture(request: Any, **_: Any) -> None:
        raise _HeadersLearned((_text(request.headers["User-Agent"]), _text(request.headers["amz-sdk-request"])))

    event = "before-send.lambda.Invoke"
    client.meta.events.register_first(event, capture, unique_id="lambda_magic.user_agent")
    try:
        client.invoke(**params)
    except _HeadersLearned as learned:
        return learned.headers
    finally:
        client.meta.events.unregister(event, unique_id="lambda_magic.user_agent")
    raise AssertionError("botocore sent the request without its before-send event")  # pragma: no cover


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
