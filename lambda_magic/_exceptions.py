"""The exceptions lambda_magic raises.

Every failure is one ``LambdaMagicError`` whose ``str()`` is a single line saying what went
wrong and what to do. The magics turn them into IPython's ``UsageError`` at their boundary;
the Python API raises them as they are::

    LambdaMagicError
    ├── RequestError                 the request was refused before anything was sent
    │   ├── PayloadError             invalid JSON, unknown $name, unencodable value, too large
    │   └── ParameterError           function name, qualifier, type, client context, tenant id
    ├── SettingsError                no region, no credentials, unknown profile, bad secret path
    ├── InvokeError                  AWS (or the network) answered with a failure
    │   ├── FunctionNotFoundError    ResourceNotFoundException: function or qualifier
    │   ├── AccessDeniedError        the caller lacks lambda:InvokeFunction
    │   ├── ThrottledError           TooManyRequestsException, after the retries
    │   ├── RequestTooLargeError     RequestTooLargeException (413)
    │   ├── InvalidRequestError      InvalidRequestContent / InvalidParameterValue / ...
    │   ├── CredentialsError         expired or invalid token, bad signature
    │   ├── EndpointUnreachableError connection refused or connect timeout, after the retries
    │   └── InvocationUnknownError   sent, but no answer: read timeout, dropped connection, 5xx
    │       └── InterruptedInvocationError  Ctrl-C while the call was in flight
    ├── FunctionError                the function ran and failed (raise_for_error / --raise)
    ├── HistoryError                 a history selection is malformed or names missing entries
    ├── ExportError                  the export cannot be made (format, selection, secret, file)
    └── SandboxError                 the local sandbox refused what its owner asked

Every class of the tree is defined here (a test compares this drawing with the code).
botocore's exceptions are mapped to this tree in exactly one place: ``_engine.map_error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_magic._response import LambdaResponse

__all__ = [
    "AccessDeniedError",
    "CredentialsError",
    "EndpointUnreachableError",
    "ExportError",
    "FunctionError",
    "FunctionNotFoundError",
    "HistoryError",
    "InterruptedInvocationError",
    "InvalidRequestError",
    "InvocationUnknownError",
    "InvokeError",
    "LambdaMagicError",
    "ParameterError",
    "PayloadError",
    "RequestError",
    "RequestTooLargeError",
    "SandboxError",
    "SettingsError",
    "ThrottledError",
]


class LambdaMagicError(Exception):
    """Base of every lambda_magic error; ``str(err)`` is one line for the user."""


class RequestError(LambdaMagicError):
    """The request was refused locally; nothing was sent."""


class PayloadError(RequestError):
    """The event payload is not valid JSON, names an unknown variable, or is too large."""


class ParameterError(RequestError):
    """A request field (function name, qualifier, type, client context...) is malformed."""


class SettingsError(LambdaMagicError):
    """The settings do not give a usable region, credentials or profile."""


class InvokeError(LambdaMagicError):
    """AWS or the network answered the invocation with a failure.

    Carries the ``function`` name, the ``region``, the AWS error ``code`` and the
    ``request_id`` where known.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        region: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.function = function
        self.region = region
        self.code = code
        self.request_id = request_id


class FunctionNotFoundError(InvokeError):
    """The function, or its version or alias, does not exist in that region."""


class AccessDeniedError(InvokeError):
    """The credentials may not call ``lambda:InvokeFunction`` on the function."""


class ThrottledError(InvokeError):
    """Lambda kept answering 429 TooManyRequestsException until the retries ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RequestTooLargeError(InvokeError):
    """Lambda refused the payload as too large (413)."""


class InvalidRequestError(InvokeError):
    """Lambda refused the request's content or one of its parameters."""


class CredentialsError(InvokeError):
    """The credentials were refused: expired token, unknown key or bad signature."""


class EndpointUnreachableError(InvokeError):
    """No connection could be made to the endpoint; the invocation was never sent."""


class InvocationUnknownError(InvokeError):
    """The request was sent but no answer came back; the function may still be running.

    lambda_magic never re-sends such a call, so a function runs at most once per call.
    """


class InterruptedInvocationError(InvocationUnknownError):
    """The call was interrupted (Ctrl-C) after it was sent; the function may still run."""


class FunctionError(LambdaMagicError):
    """The function ran and failed; ``response`` holds its error payload and log."""

    def __init__(self, message: str, *, response: LambdaResponse) -> None:
        super().__init__(message)
        self.response = response


class HistoryError(LambdaMagicError):
    """A selection of history entries is malformed or names entries that are not there."""


class ExportError(LambdaMagicError):
    """The export cannot be made: unknown format, nothing to export, a failed entry
    selected, a value that cannot be a parameter, a secret in the output, an unwritable file."""


class SandboxError(LambdaMagicError):
    """The sandbox refused an operation of its owner; ``str()`` says what to do."""
