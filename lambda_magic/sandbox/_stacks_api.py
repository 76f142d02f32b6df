"""The sandbox's CloudFormation: each loaded template is a stack, answered in the query protocol.

Two read operations, enough for ``sam remote invoke --stack-name`` style lookups and for
lambda_magic's ``STACK/LogicalId``: ``ListStacks`` and ``DescribeStackResource`` (plus
``DescribeStackResources``). botocore's query protocol posts a form body (``Action=...``) to
``/`` and parses an XML answer; errors are ``<ErrorResponse>`` with the code CloudFormation
uses (``ValidationError`` for an unknown stack or logical id).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from lambda_magic.sandbox._registry import ACCOUNT_ID, REGION

__all__ = ["Stack", "StackSet", "handle_stacks_request"]

_NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
_FUNCTION_TYPE = "AWS::Lambda::Function"


@dataclass
class Stack:
    """A template loaded into the sandbox: its logical ids and the functions they became."""

    name: str
    functions: dict[str, str]  # logical id -> function name
    description: str = ""
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    stack_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def arn(self) -> str:
        """The stack id, in CloudFormation's ARN form."""
        return f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.name}/{self.stack_id}"


class StackSet:
    """The sandbox's stacks by name; a template loaded again under a name replaces it."""

    def __init__(self) -> None:
        self._stacks: dict[str, Stack] = {}
        self._lock = threading.Lock()

    def add(self, stack: Stack) -> None:
        """Record ``stack`` (replacing one of the same name)."""
        with self._lock:
            self._stacks[stack.name] = stack

    def get(self, name: str) -> Stack | None:
        """The stack called ``name`` (or with that stack id ARN), if any."""
        with self._lock:
            stacks = list(self._stacks.values())
        return next((s for s in stacks if name in (s.name, s.arn)), None)

    def all(self) -> list[Stack]:
        """Every stack, in the order they were loaded."""
        with self._lock:
            return list(self._stacks.values())


class StackApiError(Exception):
    """An error answer of the emulated CloudFormation API."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def handle_stacks_request(stacks: StackSet, body: bytes, request_id: str) -> tuple[int, bytes]:
    """Answer one query-protocol request: the HTTP status and the XML body."""
    form = dict(parse_qsl(body.decode("utf-8", "replace")))
    action = form.get("Action", "")
    handler = _ACTIONS.get(action)
    try:
        if handler is None:
            raise StackApiError(
                "InvalidAction",
                f"The sandbox does not implement {action or 'this action'}: "
                "it serves ListStacks, DescribeStackResource(s).",
            )
        result = handler(stacks, form)
    except StackApiError as err:
        return err.status, _error_xml(err, request_id)
    return 200, _result_xml(action, result, request_id)


def _stack(stacks: StackSet, form: dict[str, str]) -> Stack:
    name = form.get("StackName", "")
    stack = stacks.get(name)
    if stack is None:
        raise StackApiError("ValidationError", f"Stack with id {name} does not exist")
    return stack


def _describe_stack_resource(stacks: StackSet, form: dict[str, str]) -> str:
    stack = _stack(stacks, form)
    logical_id = form.get("LogicalResourceId", "")
    if logical_id not in stack.functions:
        raise StackApiError("ValidationError", f"Resource {logical_id} does not exist for stack {stack.name}")
    return f"<StackResourceDetail>{_resource_xml(stack, logical_id)}</StackResourceDetail>"


def _describe_stack_resources(stacks: StackSet, form: dict[str, str]) -> str:
    stack = _stack(stacks, form)
    members = "".join(f"<member>{_resource_xml(stack, logical_id)}</member>" for logical_id in stack.functions)
    return f"<StackResources>{members}</StackResources>"


def _list_stacks(stacks: StackSet, form: dict[str, str]) -> str:
    members = "".join(
        f"<member><StackId>{escape(s.arn)}</StackId><StackName>{escape(s.name)}</StackName>"
        f"<TemplateDescription>{escape(s.description)}</TemplateDescription>"
        f"<CreationTime>{_iso(s.created)}</CreationTime>"
        "<StackStatus>CREATE_COMPLETE</StackStatus></member>"
        for s in stacks.all()
    )
    return f"<StackSummaries>{members}</StackSummaries>"


_ACTIONS: dict[str, Any] = {
    "DescribeStackResource": _describe_stack_resource,
    "DescribeStackResources": _describe_stack_resources,
    "ListStacks": _list_stacks,
}


def _resource_xml(stack: Stack, logical_id: str) -> str:
    return (
        f"<StackName>{escape(stack.name)}</StackName><StackId>{escape(stack.arn)}</StackId>"
        f"<LogicalResourceId>{escape(logical_id)}</LogicalResourceId>"
        f"<PhysicalResourceId>{escape(stack.functions[logical_id])}</PhysicalResourceId>"
        f"<ResourceType>{_FUNCTION_TYPE}</ResourceType>"
        f"<LastUpdatedTimestamp>{_iso(stack.created)}</LastUpdatedTimestamp>"
        f"<Timestamp>{_iso(stack.created)}</Timestamp>"
        "<ResourceStatus>CREATE_COMPLETE</ResourceStatus>"
    )


def _result_xml(action: str, result: str, request_id: str) -> bytes:
    return (
        f'<{action}Response xmlns="{_NAMESPACE}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()


def _error_xml(err: StackApiError, request_id: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{_NAMESPACE}"><Error><Type>Sender</Type>'
        f"<Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
