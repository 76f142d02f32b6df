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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

__all__ = ["RetryPolicy", "invoke", "map_error", "map_service_error"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry calls that Lambda did not accept."""

    retries: int = 6
    max_wait: float = 60.0
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


@dataclass(frozen=True)
class CallContext:
    """What error messages need to say where the call went."""

    region: str | None = None
    read_timeout: float | None = None


def invoke(
    client: Any,
    request: InvokeRequest,
    *,
    policy: RetryPolicy | None = None,
    context: CallContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
    cancel: threading.Event | None = None,
) -> LambdaResponse:
    """Send ``request`` with ``client``; retry only what Lambda did not accept.

    ``cancel``, when given, stops the call as Ctrl-C does once it is set (for callers off
    the main thread, where no ``KeyboardInterrupt`` arrives: the form in a kernel subshell).
    """
    policy = policy or RetryPolicy()
    context = context or CallContext()
    params = request.to_api_params()
    started = time.perf_counter()
    waited = 0.0
    for attempt in range(policy.retries + 1):
        try:
            answer = _send(client, params, request, context, cancel)
        except (ThrottledError, EndpointUnreachableError) as error:
            delay = policy.delay(error, attempt, waited)
            if delay is None:
                raise _exhausted(error, attempt) from error
            _wait(sleep, delay, request, cancel)
            waited += delay
            continue
        return _response(answer, request, time.perf_counter() - started, context)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _send(client: Any, params: dict[str, Any], request: InvokeRequest, context: CallContext,
          cancel: threading.Event | None = None) -> dict[str, Any]:
    """One attempt; the body is read here so a broken stream counts as this attempt's."""
    try:
        if cancel is not None:
            return _cancellable(lambda: _attempt(client, params), cancel)
        return _attempt(client, params)
    except KeyboardInterrupt:
        raise InterruptedInvocationError(
            f"interrupted while invoking {_target(request)}: the invocation may still be "
            "running in Lambda; it was not re-sent",
            function=request.function_name, region=context.region,
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


def _wait(sleep: Callable[[float], None], delay: float, request: InvokeRequest,
          cancel: threading.Event | None = None) -> None:
    try:
        if cancel is None:
            sleep(delay)
        elif cancel.wait(delay):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise InvokeError(
            f"interrupted while waiting to retry a call to {_target(request)} that Lambda had "
            "not accepted; nothing is running for it",
            function=request.function_name,
        ) from None


def _exhausted(error: InvokeError, attempt: int) -> InvokeError:
    if attempt == 0:
        return error
    tries = f"{attempt + 1} attempts"
    if isinstance(error, ThrottledError):
        return ThrottledError(
            f"{error} (gave up after {tries}): lower the concurrency or raise the function's "
            "concurrency limit",
            retry_after=error.retry_after, function=error.function, region=error.region,
            code=error.code, request_id=error.request_id,
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
    )


def _target(request: InvokeRequest) -> str:
    name = request.function_name
    return f"{name}:{request.qualifier}" if request.qualifier else name


# --- botocore exceptions to lambda_magic's: the one mapping -----------------------------

_CREDENTIAL_CODES = {
    "ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException",
    "InvalidSignatureException", "InvalidClientTokenId", "SignatureDoesNotMatch",
}
_INVALID_CODES = {
    "InvalidRequestContentException", "InvalidParameterValueException",
    "UnsupportedMediaTypeException", "InvalidRuntimeException", "InvalidZipFileException",
}
_TOO_LARGE_CODES = {"RequestTooLargeException", "SerializedRequestEntityTooLargeException"}


def map_error(exc: BaseException, *, request: InvokeRequest, context: CallContext | None = None) -> LambdaMagicError:
    """Translate a botocore/boto3 exception into the matching ``LambdaMagicError``."""
    from botocore import exceptions as bx

    context = context or CallContext()
    if isinstance(exc, bx.ClientError):
        return _client_error(exc, request, context)
    if isinstance(exc, bx.HTTPClientError) and _before_sending(exc):
        return SettingsError(
            f"the request to {_target(request)} could not be sent ({_cause(exc)}): check "
            "endpoint_url (nothing was sent)"
        )
    for kinds, handler in _botocore_handlers(bx):
        if isinstance(exc, kinds):
            return handler(exc, request, context)
    return InvokeError(
        f"invoking {_target(request)} failed: {type(exc).__name__}: {exc}",
        function=request.function_name, region=context.region,
    )


def _botocore_handlers(bx: Any) -> list[tuple[Any, Callable[..., LambdaMagicError]]]:
    # Order matters: ConnectTimeoutError is also an EndpointConnectionError.
    return [
        ((bx.ConnectTimeoutError, bx.EndpointConnectionError), _unreachable),
        (bx.ReadTimeoutError, _read_timeout),
        ((bx.ConnectionClosedError, bx.ResponseStreamingError, bx.IncompleteReadError,
          bx.HTTPClientError), _no_answer),
        ((bx.NoCredentialsError, bx.PartialCredentialsError), _no_credentials),
        ((bx.TokenRetrievalError, bx.SSOError, bx.CredentialRetrievalError), _expired_sso),
        (bx.NoRegionError, lambda *_: SettingsError(
            "no AWS region: pass --region, run %lambda_config region=us-east-1, or set "
            "AWS_DEFAULT_REGION")),
        (bx.ParamValidationError, lambda exc, *_: ParameterError(" ".join(str(exc).split()))),
    ]


def _before_sending(exc: BaseException) -> bool:
    """Whether the failure came before any byte of the request left the machine.

    botocore wraps urllib3's error (``exc.kwargs["error"]``); the ones below are raised while
    a URL is parsed or a connection is set up, before the request is written. Any other
    failure (a reset, a broken pipe, an incomplete read) may come after the request went out.
    """
    import http.client

    from urllib3 import exceptions as ux

    early = (ux.LocationValueError, ux.NewConnectionError, http.client.InvalidURL)
    cause: BaseException | None = getattr(exc, "kwargs", {}).get("error", exc.__cause__)
    while cause is not None:
        if isinstance(cause, early):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _cause(exc: BaseException) -> str:
    error = getattr(exc, "kwargs", {}).get("error", exc)
    return " ".join(f"{type(error).__name__}: {error}".split())[:200]


def _unreachable(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    url = getattr(exc, "kwargs", {}).get("endpoint_url", "the Lambda endpoint")
    return EndpointUnreachableError(
        f"cannot connect to {url}: check endpoint_url and the network (nothing was sent)",
        function=request.function_name, region=context.region,
    )


def _read_timeout(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    limit = f" of {context.read_timeout:g} s" if context.read_timeout else ""
    return InvocationUnknownError(
        f"no answer from {_target(request)} within the read timeout{limit}: the function may "
        "still be running and was not re-sent; raise read_timeout above the function's timeout",
        function=request.function_name, region=context.region,
    )


def _no_answer(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    return InvocationUnknownError(
        f"the connection broke while invoking {_target(request)} ({type(exc).__name__}): the "
        "function may have run; it was not re-sent, check its logs before invoking again",
        function=request.function_name, region=context.region,
    )


def _no_credentials(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    return SettingsError(
        "no AWS credentials: set access_key and secret_key_path (%lambda_config), choose a "
        "--profile, or configure the AWS CLI (aws configure)"
    )


def _expired_sso(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    return CredentialsError(
        f"the AWS login has expired or could not be refreshed ({type(exc).__name__}): run "
        "`aws sso login` (with --profile) and try again",
        function=request.function_name, region=context.region,
    )


def _client_error(exc: Any, request: InvokeRequest, context: CallContext) -> LambdaMagicError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = " ".join(str(error.get("Message") or code).split())
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    kw = {"function": request.function_name, "region": context.region, "code": code,
          "request_id": meta.get("RequestId")}
    target, region = _target(request), context.region or "its region"
    if code == "ResourceNotFoundException":
        what = "function or its version/alias" if request.qualifier else "function"
        return FunctionNotFoundError(
            f"{what} {target} not found in {region} ({message}): check the name"
            f"{' and qualifier' if request.qualifier else ''} and the region", **kw)
    if code in {"AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"}:
        return AccessDeniedError(
            f"access denied invoking {target} in {region}: the credentials need "
            f"lambda:InvokeFunction on this function ({message})", **kw)
    if code == "TooManyRequestsException":
        reason = exc.response.get("Reason") or error.get("Reason")
        return ThrottledError(
            f"{target} is throttled{f' ({reason})' if reason else ''}: {message}",
            retry_after=_retry_after(exc.response), **kw)
    if code in _CREDENTIAL_CODES:
        return CredentialsError(
            f"AWS refused the credentials ({code}): refresh them (aws sso login, new keys) "
            "and try again", **kw)
    if code in _TOO_LARGE_CODES:
        return RequestTooLargeError(
            f"Lambda refused the request to {target} as too large ({message}): send a "
            "smaller payload", **kw)
    if code in _INVALID_CODES:
        return InvalidRequestError(f"Lambda refused the request to {target}: {code}: {message}", **kw)
    if status >= 500:
        return InvocationUnknownError(
            f"Lambda answered {status} {code} for {target}: the function may have run; it was "
            "not re-sent, check its logs before invoking again", **kw)
    return InvokeError(f"invoking {target} failed: {code}: {message}", **kw)


_DENIED_CODES = {"AccessDeniedException", "AccessDenied", "KMSAccessDeniedException"}


def map_service_error(
    exc: BaseException, *, action: str, permission: str, function: str, region: str | None = None,
) -> LambdaMagicError:
    """Map an error of a read-only helper call (CloudWatch Logs, CloudFormation) to ours.

    ``action`` says what was being done ("reading the logs of fn"), ``permission`` is the
    IAM action it needs, named when access is denied.
    """
    from botocore import exceptions as bx

    kw: dict[str, Any] = {"function": function, "region": region}
    if not isinstance(exc, bx.ClientError):
        if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.NoRegionError,
                            bx.TokenRetrievalError, bx.SSOError, bx.ConnectTimeoutError,
                            bx.EndpointConnectionError)):
            return map_error(exc, request=InvokeRequest(function), context=CallContext(region))
        return InvokeError(f"{action} failed: {type(exc).__name__}: {exc}", **kw)
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = " ".join(str(error.get("Message") or code).split())
    kw.update(code=code, request_id=exc.response.get("ResponseMetadata", {}).get("RequestId"))
    if code in _DENIED_CODES:
        return AccessDeniedError(f"access denied {action}: the credentials need {permission} "
                                 f"({message})", **kw)
    if code in _CREDENTIAL_CODES:
        return CredentialsError(f"AWS refused the credentials ({code}) {action}: refresh them "
                                "(aws sso login, new keys) and try again", **kw)
    return InvokeError(f"{action} failed: {code}: {message}", **kw)


def _retry_after(response: dict[str, Any]) -> float | None:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = headers.get("retry-after") or response.get("retryAfterSeconds")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
