"""Who may call the sandbox's Lambda API: the local caller, never a web page.

A browser lets any page send a "simple" cross-origin request (``fetch(url, {mode:
"no-cors"})``, a form post) to 127.0.0.1: it cannot read the answer, but the function runs.
Such a request always carries an ``Origin`` header, never a SigV4 ``Authorization`` header,
and, through DNS rebinding, may carry a foreign ``Host``. AWS SDKs and the AWS CLI always
sign, never send ``Origin``, and name the endpoint they were given. So the gate asks for all
three, as AWS itself asks for a signature: the key is not checked (any dummy key will do).
"""

from __future__ import annotations

import re
from typing import Protocol

from lambda_magic.sandbox._errors import ApiError

__all__ = ["Headers", "refusal"]


class Headers(Protocol):
    """What the gate reads of a request's headers (``email.message.Message`` or a dict)."""

    def get(self, name: str, default: None = None) -> str | None:
        """The header's value, or None."""


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
# The shape of a SigV4 Authorization header as botocore and awscrt write it.
_SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^,\s]+,\s*SignedHeaders=[^,\s]+,"
    r"\s*Signature=[0-9a-f]{64}"
)


def refusal(headers: Headers) -> ApiError | None:
    """The 403 answer for a request the gate refuses, or None to let it through."""
    if headers.get("Origin") is not None:
        return _denied("requests from web pages (with an Origin header) are refused")
    host = (headers.get("Host") or "").strip().lower()
    if _host_name(host) not in _LOOPBACK_HOSTS:
        return _denied(f"Host {host[:80]!r} is not a loopback address")
    if not _SIGV4.fullmatch((headers.get("Authorization") or "").strip()):
        return ApiError(
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token: sign requests with SigV4 (any key "
            "works against the sandbox), as AWS SDKs and the AWS CLI do",
        )
    return None


def _host_name(host: str) -> str:
    """``Host`` without its port (``[::1]:9001`` -> ``[::1]``)."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _denied(why: str) -> ApiError:
    return ApiError("AccessDeniedException", 403, f"The sandbox refused the request: {why}")
