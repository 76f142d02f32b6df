"""The invocation request: one object that the magic, the form and the API all build.

``make_request`` validates every field against the Lambda Invoke API's own rules (the
patterns and limits of the botocore model) so that a malformed request is refused locally,
with one line saying what to fix, before anything is sent.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import ParameterError, PayloadError

if TYPE_CHECKING:
    from lambda_magic._payload import PayloadTemplate

__all__ = ["INVOCATION_TYPES", "InvokeRequest", "check_function_name", "make_request", "normalize_invocation_type"]

#: The API's invocation types, keyed by every spelling we accept (lower-cased).
INVOCATION_TYPES = {
    "requestresponse": "RequestResponse",
    "request": "RequestResponse",
    "sync": "RequestResponse",
    "event": "Event",
    "async": "Event",
    "dryrun": "DryRun",
}

#: Payload limits in bytes (Lambda quotas: 6 MB synchronous, 1 MB asynchronous).
PAYLOAD_LIMITS = {"RequestResponse": 6 * 1024 * 1024, "DryRun": 6 * 1024 * 1024, "Event": 1024 * 1024}
CLIENT_CONTEXT_LIMIT = 3583

# The botocore model's FunctionName pattern, with the region part widened to every
# partition's regionRegex in botocore/data/partitions.json (the model's leaves out
# aws-eusc's eusc-de-east-1), and named groups for the checks the pattern cannot make.
_FUNCTION_RE = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-[a-z]{2}|[a-z]{2}((-gov)|(-iso([a-z]?)))?)-[a-z]+-\d{1,2}:)?"
    r"(\d{12}:)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)(:(?P<qualifier>\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
#: Lambda's limit on a function's own name (the ARN around it may be longer, up to 256).
NAME_LIMIT = 64
_QUALIFIER_RE = re.compile(r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")
_TENANT_RE = re.compile(r"[a-zA-Z0-9._:/=+\-@ ]+")
_DURABLE_RE = re.compile(r"[a-zA-Z0-9-_]+")


@dataclass(frozen=True)
class InvokeRequest:
    """A validated Invoke request.

    ``payload`` is the exact bytes sent (None sends no payload); ``client_context`` is the
    decoded JSON object, encoded to base64 only when the request is sent.
    """

    function_name: str
    payload: bytes | None = None
    invocation_type: str = "RequestResponse"
    qualifier: str | None = None
    client_context: dict[str, Any] | None = None
    log: bool = True
    tenant_id: str | None = None
    durable_execution_name: str | None = None
    #: ``${expr}`` texts and the values they had, kept for history and runbook export.
    substitutions: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    #: The payload as written (literal text and ``${expr}`` slots); None for a payload
    #: given as a value (the API) or when there is none.
    template: PayloadTemplate | None = field(default=None, compare=False)
    #: ``STACK/LogicalId`` when the function was named by its stack (``_stacks``).
    logical_id: str | None = field(default=None, compare=False)
    #: Call InvokeWithResponseStream instead of Invoke (``_streaming``).
    stream: bool = False

    @property
    def wants_log(self) -> bool:
        """Whether the log tail is asked for (only synchronous calls return one)."""
        return self.log and self.invocation_type == "RequestResponse"

    def to_api_params(self) -> dict[str, Any]:
        """The keyword arguments for botocore's ``client.invoke``."""
        params: dict[str, Any] = {
            "FunctionName": self.function_name,
            "InvocationType": self.invocation_type,
            "LogType": "Tail" if self.wants_log else "None",
        }
        if self.payload is not None:
            params["Payload"] = self.payload
        optional = {
            "Qualifier": self.qualifier,
            "ClientContext": encode_client_context(self.client_context),
            "TenantId": self.tenant_id,
            # InvokeWithResponseStream has no durable executions (make_request refuses both).
            "DurableExecutionName": None if self.stream else self.durable_execution_name,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        return params


def make_request(
    function_name: str,
    payload: bytes | None = None,
    *,
    invocation_type: str = "RequestResponse",
    qualifier: str | None = None,
    client_context: Any = None,
    log: bool = True,
    tenant_id: str | None = None,
    durable_execution_name: str | None = None,
    substitutions: tuple[tuple[str, Any], ...] = (),
    template: PayloadTemplate | None = None,
    logical_id: str | None = None,
    stream: bool = False,
) -> InvokeRequest:
    """Validate every field and build an ``InvokeRequest``; raise one-line errors."""
    kind = normalize_invocation_type(invocation_type)
    if stream:
        _check_streamable(kind, durable_execution_name)
    check_function_name(function_name, qualifier)
    _check_pattern("qualifier", qualifier, _QUALIFIER_RE, 128, "a version number, an alias or $LATEST")
    _check_pattern("tenant id", tenant_id, _TENANT_RE, 256, "letters, digits, spaces and ._:/=+-@")
    _check_pattern("durable execution name", durable_execution_name, _DURABLE_RE, 64, "letters, digits, - and _")
    _check_payload_size(payload, kind)
    context = parse_client_context(client_context)
    return InvokeRequest(
        function_name=function_name,
        payload=payload,
        invocation_type=kind,
        qualifier=qualifier or None,
        client_context=context,
        log=log,
        tenant_id=tenant_id,
        durable_execution_name=durable_execution_name,
        substitutions=substitutions,
        template=template,
        logical_id=logical_id,
        stream=stream,
    )


def _check_streamable(kind: str, durable_execution_name: str | None) -> None:
    if kind == "Event":
        raise ParameterError(
            "--stream reads a synchronous answer: InvokeWithResponseStream has no Event type; drop --stream or -t Event"
        )
    if durable_execution_name:
        raise ParameterError("--stream cannot start a durable execution: drop --stream or --durable-execution-name")


def normalize_invocation_type(value: str) -> str:
    """Map ``request``/``event``/``dryrun`` (any case) and the API names to the API names."""
    kind = INVOCATION_TYPES.get(str(value).strip().lower())
    if kind is None:
        raise ParameterError(f"unknown invocation type {value!r}: use RequestResponse (request), Event or DryRun")
    return kind


def check_function_name(name: str, qualifier: str | None = None) -> None:
    """A function name, name:alias or ARN as Lambda's Invoke accepts it, or a ParameterError."""
    if not isinstance(name, str) or not name.strip():
        raise ParameterError("no function given: name the function, e.g. %%lambda_invoke my-function")
    match = _FUNCTION_RE.fullmatch(name) if len(name) <= 256 else None
    if match is None:
        raise ParameterError(f"malformed function name {name[:80]!r}: use a name, name:alias, or a function ARN")
    if len(match["name"]) > NAME_LIMIT:
        raise ParameterError(
            f"function name {match['name'][:20]}... has {len(match['name'])} characters: Lambda "
            f"allows {NAME_LIMIT} at most; check the name"
        )
    named = match["qualifier"]
    if named and qualifier and named != qualifier:
        raise ParameterError(f"{name} already names qualifier {named}, and -q says {qualifier}: give one of them")


def _check_pattern(what: str, value: str | None, pattern: re.Pattern[str], limit: int, hint: str) -> None:
    if value is None:
        return
    if not value or len(value) > limit or not pattern.fullmatch(value):
        raise ParameterError(f"malformed {what} {value!r}: use {hint} (at most {limit} characters)")


def _check_payload_size(payload: bytes | None, kind: str) -> None:
    limit = PAYLOAD_LIMITS[kind]
    if payload is not None and len(payload) > limit:
        raise PayloadError(
            f"payload is {len(payload):,} bytes, over Lambda's {limit:,}-byte limit for {kind} "
            "calls: pass a reference (an S3 key, an id) instead of the data"
        )


def parse_client_context(value: Any) -> dict[str, Any] | None:
    """Accept a dict or JSON text for the client context and check Lambda's size limit."""
    if value is None or value == "":
        return None
    if isinstance(value, (str, bytes)):
        from lambda_magic._payload import strict_loads

        try:
            value = strict_loads(value)
        except json.JSONDecodeError as exc:
            raise ParameterError(
                f"client context is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f'{exc.msg}): give a JSON object such as \'{{"custom": {{"k": "v"}}}}\''
            ) from None
        except ValueError as exc:
            raise ParameterError(f"client context is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ParameterError(
            f"client context must be a JSON object, not {type(value).__name__}: give one, "
            'e.g. {"custom": {...}, "env": {...}}'
        )
    size = len(encode_client_context(value) or "")
    if size > CLIENT_CONTEXT_LIMIT:
        raise ParameterError(
            f"client context is {size:,} bytes after base64, over Lambda's "
            f"{CLIENT_CONTEXT_LIMIT:,}-byte limit: send the bulk in the payload instead"
        )
    return value


def encode_client_context(context: dict[str, Any] | None) -> str | None:
    """Base64 of the compact JSON, as the X-Amz-Client-Context header carries it."""
    if context is None:
        return None
    try:
        text = json.dumps(context, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"client context cannot be encoded as JSON ({exc}): convert its values to dict, list, str or finite numbers"
        ) from None
    return base64.b64encode(text.encode()).decode()
