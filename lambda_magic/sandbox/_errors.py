"""The errors of the sandbox.

Two kinds, kept apart because they travel differently::

    SandboxError            (in lambda_magic._exceptions, with every error of the package)
                            the sandbox cannot do what its owner asked (start, add a function,
                            load a template); raised in the owner's process, one line

    ApiError                an error answer of the emulated Lambda API; never escapes the
                            HTTP server, which turns it into the JSON body, status and
                            ``x-amzn-ErrorType`` header botocore parses into its modeled
                            exceptions (``client.exceptions.ResourceNotFoundException``...)
"""

from __future__ import annotations

from typing import Any

from lambda_magic._exceptions import SandboxError

__all__ = ["ApiError", "SandboxError"]


# The Lambda API spells the message key per error shape; botocore reads either, but the
# modeled exception's attributes follow the shape, so keep the spelling of the model.
_CAPITAL_MESSAGE = frozenset({"ResourceNotFoundException", "ServiceException"})


class ApiError(Exception):
    """An error answer of the emulated Lambda API.

    ``code`` is the modeled exception name, ``status`` the HTTP status; ``fields`` are extra
    members of the error shape (``Reason``) and ``headers`` extra response headers
    (``Retry-After``).
    """

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Lambda sends for this error."""
        key = "Message" if self.code in _CAPITAL_MESSAGE else "message"
        return {"Type": "User", key: self.message, **self.fields}


def not_found(message: str) -> ApiError:
    """ResourceNotFoundException (404): unknown function, version or alias."""
    return ApiError("ResourceNotFoundException", 404, message)


def invalid_parameter(message: str) -> ApiError:
    """InvalidParameterValueException (400)."""
    return ApiError("InvalidParameterValueException", 400, message)
