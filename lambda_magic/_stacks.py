"""Functions by stack: ``STACK/LogicalId`` resolved to the physical function name.

``sam remote invoke --stack-name S LogicalId`` looks the function up in CloudFormation; so
does ``%%lambda_invoke mystack/HealthCheck`` (or ``--stack-name mystack HealthCheck``),
through ``DescribeStackResource``, once per client (identity, region, endpoint) and session.
Generated names (``mystack-HealthCheck-1A2B3C``) change with each deployment; the logical id
does not, so it is what the history and the exports keep.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import FunctionNotFoundError, ParameterError

if TYPE_CHECKING:
    from lambda_magic._settings import Settings

__all__ = ["StackTarget", "clear_stack_cache", "parse_stack_reference", "physical_name", "resolve_function"]

# CloudFormation: a stack name starts with a letter and holds letters, digits and hyphens;
# a logical id is alphanumeric.
_STACK_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_LOGICAL_RE = re.compile(r"[A-Za-z0-9]{1,255}")
PERMISSION = "cloudformation:DescribeStackResource"

_lock = threading.Lock()
_cache: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class StackTarget:
    """A function named by its stack and logical id, and the physical name it resolved to."""

    stack: str
    logical_id: str
    function_name: str

    @property
    def reference(self) -> str:
        """``STACK/LogicalId``, as written (and as an export writes it again)."""
        return f"{self.stack}/{self.logical_id}"


def parse_stack_reference(function: str, stack_name: str | None = None) -> tuple[str, str] | None:
    """(stack, logical id) if ``function`` names one, else None for a plain function name."""
    if not isinstance(function, str):
        raise ParameterError(
            f"the function must be named by text, not a {type(function).__name__}: give its name, name:alias or ARN"
        )
    if stack_name is not None:
        stack, logical_id = stack_name, function
    elif "/" in function and not function.startswith("arn:"):
        stack, _, logical_id = function.partition("/")
    else:
        return None
    if not _STACK_RE.fullmatch(stack):
        raise ParameterError(f"malformed stack name {stack!r}: letters, digits and hyphens, starting with a letter")
    if not _LOGICAL_RE.fullmatch(logical_id):
        raise ParameterError(
            f"malformed logical id {logical_id!r}: give the resource's key in the template, e.g. mystack/HealthCheck"
        )
    return stack, logical_id


def resolve_function(
    function: str, settings: Settings, *, stack_name: str | None = None, client: Any = None
) -> StackTarget | None:
    """The ``StackTarget`` for ``STACK/LogicalId`` (None for a plain function name)."""
    parsed = parse_stack_reference(function, stack_name)
    if parsed is None:
        return None
    if client is None:
        from lambda_magic._client import service_client

        client = service_client(settings, "cloudformation")
    stack, logical_id = parsed
    with _lock:
        known = _cache.get(client, {}).get(parsed)
    if known is None:
        known = _describe(client, stack, logical_id)
        with _lock:
            _cache.setdefault(client, {})[parsed] = known
    return StackTarget(stack, logical_id, known)


def clear_stack_cache() -> None:
    """Forget every resolution (a redeployed stack is looked up again)."""
    with _lock:
        _cache.clear()


def _describe(client: Any, stack: str, logical_id: str) -> str:
    from botocore.exceptions import ClientError

    try:
        answer = client.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise FunctionNotFoundError(
                f"stack {stack} has no resource {logical_id} (or the stack does not exist in "
                f"{client.meta.region_name}): check the names and the region",
                function=f"{stack}/{logical_id}",
                region=client.meta.region_name,
            ) from None
        raise _mapped(exc, stack, logical_id, client) from exc
    except Exception as exc:
        raise _mapped(exc, stack, logical_id, client) from exc
    detail = answer["StackResourceDetail"]
    if detail.get("ResourceType") != "AWS::Lambda::Function" or not detail.get("PhysicalResourceId"):
        raise ParameterError(
            f"{stack}/{logical_id} is a {detail.get('ResourceType')}, not a "
            "Lambda function: name the function's logical id"
        )
    return str(detail["PhysicalResourceId"])


def _mapped(exc: Exception, stack: str, logical_id: str, client: Any) -> Exception:
    from lambda_magic._engine import CallContext, Operation, map_error

    operation = Operation(
        f"looking up {stack}/{logical_id} in CloudFormation", permission=PERMISSION, subject=f"{stack}/{logical_id}"
    )
    return map_error(exc, operation=operation, context=CallContext(region=client.meta.region_name))


def physical_name(function: str, settings: Settings, *, stack_name: str | None = None) -> tuple[str, str | None]:
    """The name to invoke, and ``STACK/LogicalId`` when ``function`` named one."""
    target = resolve_function(function, settings, stack_name=stack_name)
    return (function, None) if target is None else (target.function_name, target.reference)
