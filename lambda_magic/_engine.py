"""The invocation engine: one request, one injected client, one ``LambdaResponse``.

The rule that matters: a call that Lambda may have accepted is never sent again. botocore's
retries are off (``_client``); this module retries, with exponential backoff, full jitter and
``Retry-After``, bounded in count and in time, only where Lambda certainly did not run the
function: a 429 TooManyRequestsException, or no connection at all. A read timeout, a dropped
connection or a 5xx answer is reported as ``InvocationUnknownError`` and not re-sent.

``map_error`` is the one place where botocore's exceptions become lambda_magic's.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lambda_magic._exceptions import (
    AccessDeniedError,
    CredentialsError,
    EndpointUnreachableError,
    FunctionNotFoundError,
    InterruptedInvocationError,
    InvalidRequestError,
    InvocationUnknownError,
    InvokeError,
    LambdaMagicError,
    ParameterError,
    RequestTooLargeError,
    SettingsError,
    ThrottledError,
)
from lambda_magic._request import InvokeRequest
from lambda_magic._response import LambdaResponse
from lambda_magic._settings import DEFAULTS

__all__ = ["CLIENT_SETUP", "Operation", "RetryHook", "RetryPolicy", "invoke", "map_error", "wait_then_retry"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry calls that Lambda did not accept."""

    retries: int = DEFAULTS["throttle_retries"]
    max_wait: float = DEFAULTS["throttle_max_wait"]
    base: float = 0.1
    cap: float = 20.0

    def delay(self, error: LambdaMagicError, attempt: int, waited: float) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if not isinstance(error, (ThrottledError, EndpointUnreachableError)):
            return None
        if attempt >= self.retries:
            return None
        backoff = random.uniform(0, min(self.cap, self.base * 2**attempt))
        retry_after = getattr(error, "retry_after", None) or 0.0
        delay = max(backoff, retry_after)
        return delay if waited + delay <= self.max_wait else None


class RetryHook(Protocol):
    """Called before a call Lambda did not accept is sent again.

    It gets the error that is being retried and the delay the policy proposes, waits as
    long as it sees fit, and returns True to send again or False to stop: the engine then
    reports that nothing runs for this call. The fan-out gives back its slot while waiting.
    """

    def __call__(self, error: InvokeError, delay: float) -> bool: ...


def wait_then_retry(error: InvokeError, delay: float) -> bool:
    """The default ``RetryHook``: sleep for the proposed delay, then retry."""
    time.sleep(delay)
    return True


@dataclass(frozen=True)
class CallContext:
    """Where the call went: for error messages, and kept in the response."""

    region: str | None = None
    read_timeout: float | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Operation:
    """A call other than Invoke, as ``map_error`` words its failures.

    ``action`` says what was being done ("listing the functions"), ``permission`` the IAM
    action it needs (named when access is denied), ``subject`` the function or stack it was
    about, ``if_denied`` what to tell the user besides the missing permission.
    """

    action: str
    permission: str = ""
    subject: str | None = None
    if_denied: str = ""


#: Building a session or client: a bad profile, no region, a malformed endpoint URL.
CLIENT_SETUP = Operation("setting up the AWS client")


def invoke(
    client: Any,
    request: InvokeRequest,
    *,
    policy: RetryPolicy | None = None,
    context: CallContext | None = None,
    retry: RetryHook | None = None,
    on_chunk: Callable[[bytes], None] | None = None,
    cancel: threading.Event | None = None,
) -> LambdaResponse:
    """Send ``request`` with ``client``; retry only what Lambda did not accept.

    A request with ``stream`` goes through ``_streaming``: each chunk is handed to
    ``on_chunk`` as it arrives. Before each retry, ``retry(error, delay)`` decides whether to
    go on (see ``RetryHook``; by default it sleeps). ``cancel``, when given, stops the call as
    Ctrl-C does once it is set (for callers off the main thread, where no
    ``KeyboardInterrupt`` arrives: the form in a kernel subshell), waits before retries included.
    """
    policy = policy or RetryPolicy()
    context = context or CallContext()
    params = request.to_api_params()
    started = time.perf_counter()
    waited = 0.0
    for attempt in range(policy.retries + 1):
        try:
            answer = _send(client, params, request, context, on_chunk, cancel)
        except (ThrottledError, EndpointUnreachableError) as error:
            failure, delay = error, policy.delay(error, attempt, waited)
            if delay is None:
                raise _exhausted(error, attempt) from error
        else:
            return _response(answer, request, time.perf_counter() - started, context)
        _wait(retry or _waiter(cancel), failure, delay, request)
        waited += delay
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _send(
    client: Any,
    params: dict[str, Any],
    request: InvokeRequest,
    context: CallContext,
    on_chunk: Callable[[bytes], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """One attempt; the body is read here so a broken stream counts as this attempt's."""
    try:
        if request.stream:
            from lambda_magic._streaming import send

            return send(client, params, request, context, on_chunk)
        if cancel is not None:
            return _cancellable(lambda: _attempt(client, params), cancel)
        return _attempt(client, params)
    except LambdaMagicError:
        raise  # already ours (a broken or interrupted stream)
    except KeyboardInterrupt:
        raise InterruptedInvocationError(
            f"interrupted while invoking {_target(request)}: the invocation may still be "
            "running in Lambda; it was not re-sent",
            function=request.function_name,
            region=context.region,
        ) from None
    except Exception as exc:
        raise map_error(exc, request=request, context=context) from exc


def _attempt(client: Any, params: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = client.invoke(**params)
    answer["Payload"] = answer["Payload"].read() if "Payload" in answer else b""
    return answer


def _cancellable(call: Callable[[], dict[str, Any]], cancel: threading.Event) -> dict[str, Any]:
    """``call()`` on a helper thread, given up (``KeyboardInterrupt``) once ``cancel`` is set.

    The helper finishes on its own when the answer comes (or the read timeout passes); its
    outcome is dropped, so nothing is recorded or re-sent for it.
    """
    outcome: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome.append(exc)
        done.set()

    threading.Thread(target=run, name="lambda-invoke-cancellable", daemon=True).start()
    while not done.wait(_CANCEL_POLL):
        if cancel.is_set():
            raise KeyboardInterrupt
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]  # type: ignore[no-any-return]


#: How often a cancellable call looks at its Event (the Interrupt stops it within this).
_CANCEL_POLL = 0.05


def _waiter(cancel: threading.Event | None) -> RetryHook:
    """The default wait before a retry: a sleep, cut short (stopping) once ``cancel`` is set."""
    if cancel is None:
        return wait_then_retry
    return lambda error, delay: not cancel.wait(delay)


def _wait(retry: RetryHook, error: InvokeError, delay: float, request: InvokeRequest) -> None:
    try:
        go_on = retry(error, delay)
    except KeyboardInterrupt:
        go_on = False
    if not go_on:
        raise InvokeError(
            f"interrupted while waiting to retry a call to {_target(request)} that Lambda had "
            "not accepted; nothing is running for it",
            function=request.function_name,
        )


def _exhausted(error: InvokeError, attempt: int) -> InvokeError:
    if attempt == 0:
        return error
    tries = f"{attempt + 1} attempts"
    if isinstance(error, ThrottledError):
        return ThrottledError(
            f"{error} (gave up after {tries}): lower the concurrency or raise the function's concurrency limit",
            retry_after=error.retry_after,
            function=error.function,
            region=error.region,
            code=error.code,
            request_id=error.request_id,
        )
    return type(error)(f"{error} (gave up after {tries})", function=error.function, region=error.region)


def _response(answer: dict[str, Any], request: InvokeRequest, elapsed: float, context: CallContext) -> LambdaResponse:
    meta = answer.get("ResponseMetadata", {})
    return LambdaResponse(
        function_name=request.function_name,
        qualifier=request.qualifier,
        invocation_type=request.invocation_type,
        status_code=int(answer.get("StatusCode") or meta.get("HTTPStatusCode") or 0),
        raw_payload=answer.get("Payload") or b"",
        function_error=answer.get("FunctionError"),
        log_result=answer.get("LogResult"),
        executed_version=answer.get("ExecutedVersion"),
        request_id=meta.get("RequestId"),
        elapsed=elapsed,
        region=context.region,
        logical_id=request.logical_id,
        chunks=answer.get("Chunks", ()),
        error_details=answer.get("ErrorDetails"),
        endpoint_url=context.endpoint_url,
    )


def _target(request: InvokeRequest) -> str:
    name = request.function_name
    return f"{name}:{request.qualifier}" if request.qualifier else name


# --- botocore exceptions to lambda_magic's: the one mapping -----------------------------

_CREDENTIAL_CODES = {
    "ExpiredTokenException",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
}
_INVALID_CODES = {
    "InvalidRequestContentException",
    "InvalidParameterValueException",
    "UnsupportedMediaTypeException",
    "InvalidRuntimeException",
    "InvalidZipFileException",
}
_TOO_LARGE_CODES = {"RequestTooLargeException", "SerializedRequestEntityTooLargeException"}


def map_error(
    exc: BaseException,
    *,
    request: InvokeRequest | None = None,
    operation: Operation | None = None,
    context: CallContext | None = None,
) -> LambdaMagicError:
    """Translate a botocore/boto3 exception into the matching ``LambdaMagicError``.

    The one mapping: for an Invoke pass its ``request``; for any other call (listing
    functions, CloudFormation, CloudWatch Logs, building a client) pass its ``operation``.
    """
    from botocore import exceptions as bx

    context = context or CallContext()
    where = _Where.of(request, operation)
    if isinstance(exc, bx.ClientError) and operation is not None:
        return _operation_error(exc, operation, context)
    if isinstance(exc, bx.ClientError) and request is not None:
        return _client_error(exc, request, context)
    if isinstance(exc, bx.HTTPClientError) and _before_sending(exc):
        return SettingsError(
            f"the request to {where.target} could not be sent ({_cause(exc)}): check "
            "endpoint_url and connect_timeout (nothing was sent)"
        )
    if isinstance(exc, ValueError) and operation is CLIENT_SETUP:  # botocore's word for a bad URL
        return SettingsError(f"endpoint_url {context.endpoint_url!r} is not usable: {exc}")
    for kinds, handler in _botocore_handlers(bx):
        if isinstance(exc, kinds):
            return handler(exc, where, context)
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return InvokeError(
        f"{where.doing} failed ({detail}): check endpoint_url and the network",
        function=where.function,
        region=context.region,
    )


@dataclass(frozen=True)
class _Where:
    """What a failed call was about, for the messages of both kinds of call."""

    target: str  # "fn:prod", or the operation's subject
    function: str | None
    doing: str  # "invoking fn:prod", "listing the functions"
    reading: bool  # a read changes nothing: nothing "may have run"

    @classmethod
    def of(cls, request: InvokeRequest | None, operation: Operation | None) -> _Where:
        if operation is not None:
            return cls(operation.subject or operation.action, operation.subject, operation.action, True)
        if request is None:
            raise TypeError("map_error needs the request or the operation that failed")
        return cls(_target(request), request.function_name, f"invoking {_target(request)}", False)


def _botocore_handlers(bx: Any) -> list[tuple[Any, Callable[..., LambdaMagicError]]]:
    # Order matters: ConnectTimeoutError is also an EndpointConnectionError.
    return [
        ((bx.ConnectTimeoutError, bx.EndpointConnectionError), _unreachable),
        (bx.ReadTimeoutError, _read_timeout),
        ((bx.ConnectionClosedError, bx.ResponseStreamingError, bx.IncompleteReadError, bx.HTTPClientError), _no_answer),
        ((bx.NoCredentialsError, bx.PartialCredentialsError), _no_credentials),
        ((bx.TokenRetrievalError, bx.SSOError, bx.CredentialRetrievalError), _expired_sso),
        (
            bx.NoRegionError,
            lambda *_: SettingsError(
                "no AWS region: pass --region, run %lambda_config region=us-east-1, or set AWS_DEFAULT_REGION"
            ),
        ),
        (bx.ProfileNotFound, _no_profile),
        (bx.ParamValidationError, lambda exc, *_: ParameterError(" ".join(str(exc).split()))),
    ]


#: Where urllib3 and http.client set a request up: the URL parsed, the pool chosen, the
#: connection opened (TCP, TLS), the request line and headers buffered. The request is
#: written only after all of these, on an open connection.
_SETUP_FRAMES = frozenset(
    {
        "parse_url",
        "connection_from_url",
        "connection_from_host",
        "connection_from_context",
        "connection_from_pool_key",
        "_validate_conn",
        "connect",
        "_new_conn",
        "create_connection",
        "putrequest",
        "putheader",
        "_validate_host",
        "_validate_path",
    }
)


def _before_sending(exc: BaseException) -> bool:
    """Whether the failure came before any byte of the request left the machine.

    Decided by where the error was raised, not by its class: botocore wraps urllib3's error
    (``exc.kwargs["error"]``), and if that error (or one it came from) was raised inside
    urllib3's or http.client's set-up of the request (``_SETUP_FRAMES``), no byte was
    written. An error raised anywhere else (sending, reading the answer) may come after
    the request went out.
    """
    cause: BaseException | None = getattr(exc, "kwargs", {}).get("error", exc.__cause__)
    while cause is not None:
        if any(_is_setup(frame) for frame in traceback.extract_tb(cause.__traceback__)):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _is_setup(frame: traceback.FrameSummary) -> bool:
    path = frame.filename.replace("\\", "/")
    library = "/urllib3/" in path or path.endswith("/http/client.py")
    return library and frame.name in _SETUP_FRAMES


def _cause(exc: BaseException) -> str:
    error = getattr(exc, "kwargs", {}).get("error", exc)
    return " ".join(f"{type(error).__name__}: {error}".split())[:200]


def _unreachable(exc: Any, where: _Where, context: CallContext) -> LambdaMagicError:
    url = getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
    return EndpointUnreachableError(
        f"cannot connect to {url}: check endpoint_url and the network (nothing was sent)",
        function=where.function,
        region=context.region,
    )


def _read_timeout(exc: Any, where: _Where, context: CallContext) -> LambdaMagicError:
    if where.reading:
        return _read_failed(where, context, "gave no answer in time")
    limit = f" of {context.read_timeout:g} s" if context.read_timeout else ""
    return InvocationUnknownError(
        f"no answer from {where.target} within the read timeout{limit}: the function may "
        "still be running and was not re-sent; raise read_timeout above the function's timeout",
        function=where.function,
        region=context.region,
    )


def _no_answer(exc: Any, where: _Where, context: CallContext) -> LambdaMagicError:
    if where.reading:
        return _read_failed(where, context, f"broke the connection ({type(exc).__name__})")
    return InvocationUnknownError(
        f"the connection broke while {where.doing} ({type(exc).__name__}): the "
        "function may have run; it was not re-sent, check its logs before invoking again",
        function=where.function,
        region=context.region,
    )


def _read_failed(where: _Where, context: CallContext, what: str, **kw: Any) -> LambdaMagicError:
    # A read changes nothing, so unlike an Invoke there is nothing that "may have run".
    return InvokeError(
        f"{where.doing} failed: the endpoint {what}; check endpoint_url and try again",
        function=where.function,
        region=context.region,
        **kw,
    )


def _no_credentials(exc: Any, where: _Where, context: CallContext) -> LambdaMagicError:
    return SettingsError(
        "no AWS credentials: set access_key and secret_key_path (%lambda_config), choose a "
        "--profile, or configure the AWS CLI (aws configure)"
    )


def _no_profile(exc: Any, where: _Where, context: CallContext) -> LambdaMagicError:
    return SettingsError(
        f"AWS profile {exc.kwargs.get('profile')!r} is not in ~/.aws/config or "
        "~/.aws/credentials: check the name with `aws configure list-profiles`"
    )


def _expired_sso(exc: Any, where: _Where, context: CallContext) -> LambdaMagicError:
    return CredentialsError(
        f"the AWS login has expired or could not be refreshed ({type(exc).__name__}): run "
        "`aws sso login` (with --profile) and try again",
        function=where.function,
        region=context.region,
    )


def _client_error(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = " ".join(str(error.get("Message") or code).split())
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    kw = {
        "function": request.function_name,
        "region": context.region,
        "code": code,
        "request_id": meta.get("RequestId"),
    }
    target, region = _target(request), context.region or "its region"
    if code == "ResourceNotFoundException":
        what = "function or its version/alias" if request.qualifier else "function"
        return FunctionNotFoundError(
            f"{what} {target} not found in {region} ({message}): check the name"
            f"{' and qualifier' if request.qualifier else ''} and the region",
            **kw,
        )
    if code in {"AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"}:
        return AccessDeniedError(
            f"access denied invoking {target} in {region}: the credentials need "
            f"lambda:InvokeFunction on this function ({message})",
            **kw,
        )
    if code == "TooManyRequestsException":
        reason = exc.response.get("Reason") or error.get("Reason")
        return ThrottledError(
            f"{target} is throttled{f' ({reason})' if reason else ''}: {message}",
            retry_after=_retry_after(exc.response),
            **kw,
        )
    if code in _CREDENTIAL_CODES:
        return CredentialsError(
            f"AWS refused the credentials ({code}): refresh them (aws sso login, new keys) and try again", **kw
        )
    if code in _TOO_LARGE_CODES:
        return RequestTooLargeError(
            f"Lambda refused the request to {target} as too large ({message}): send a smaller payload", **kw
        )
    if code in _INVALID_CODES:
        return InvalidRequestError(f"Lambda refused the request to {target}: {code}: {message}", **kw)
    if status >= 500:
        return InvocationUnknownError(
            f"Lambda answered {status} {code} for {target}: the function may have run; it was "
            "not re-sent, check its logs before invoking again",
            **kw,
        )
    return InvokeError(f"invoking {target} failed: {code}: {message}", **kw)


_DENIED_CODES = {
    "AccessDeniedException",
    "AccessDenied",
    "KMSAccessDeniedException",
    "ForbiddenException",
    "UnauthorizedException",
}  # the last two: the schema registry


def _operation_error(exc: Any, operation: Operation, context: CallContext) -> LambdaMagicError:
    """An error answer to a call other than Invoke (a read: nothing may have run)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = " ".join(str(error.get("Message") or code).split())
    meta = exc.response.get("ResponseMetadata", {})
    kw: dict[str, Any] = {
        "function": operation.subject,
        "region": context.region,
        "code": code,
        "request_id": meta.get("RequestId"),
    }
    if code == "ResourceNotFoundException":
        return FunctionNotFoundError(
            f"{operation.subject or 'the resource'} not found in "
            f"{context.region or 'its region'} ({message}): check the name and the region",
            **kw,
        )
    if code in _DENIED_CODES:
        return AccessDeniedError(
            f"access denied {operation.action} in {context.region or 'its region'}: the credentials "
            f"need {operation.permission}{operation.if_denied} ({message})",
            **kw,
        )
    if code in _CREDENTIAL_CODES:
        return CredentialsError(
            f"AWS refused the credentials ({code}) {operation.action}: refresh them "
            "(aws sso login, new keys) and try again",
            **kw,
        )
    if int(meta.get("HTTPStatusCode") or 0) >= 500:
        where = _Where.of(None, operation)
        return _read_failed(where, context, f"answered {code}", code=code, request_id=kw["request_id"])
    return InvokeError(f"{operation.action} failed: {code}: {message}", **kw)


def _retry_after(response: dict[str, Any]) -> float | None:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = headers.get("retry-after") or response.get("retryAfterSeconds")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
