"""The sandbox's CloudWatch Logs: every invocation's log, served as ``FilterLogEvents``.

Lambda writes each function's log to the group ``/aws/lambda/NAME``, one stream per
execution environment, one event per line (the runtime joins a traceback's lines with ``\\r``
so it stays one event). ``LogStore`` keeps the sandbox's invocations the same way, and
``handle_logs_request`` answers the JSON protocol botocore speaks
(``X-Amz-Target: Logs_20140328.FilterLogEvents``) for ``FilterLogEvents`` and
``DescribeLogGroups``. Filter patterns support CloudWatch's term syntax: words and
``"quoted phrases"`` that must all appear, ``?term`` alternatives and ``-term`` exclusions.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from lambda_magic.sandbox._registry import ACCOUNT_ID, REGION

__all__ = ["LogEvent", "LogStore", "handle_logs_request", "matches_pattern"]

TARGET_PREFIX = "Logs_20140328."
# Events kept per log group; the oldest go first, as retention would drop them.
_KEEP_EVENTS = 50_000
_PAGE = 10_000


@dataclass(frozen=True)
class LogEvent:
    """One log line of one stream, as CloudWatch Logs stores it."""

    group: str
    stream: str
    timestamp: int  # ms since the epoch
    ingestion_time: int
    message: str
    event_id: str

    def to_api(self) -> dict[str, Any]:
        """The event as ``FilterLogEvents`` returns it."""
        return {
            "logStreamName": self.stream,
            "timestamp": self.timestamp,
            "message": self.message,
            "ingestionTime": self.ingestion_time,
            "eventId": self.event_id,
        }


class LogStore:
    """Every log event the sandbox's functions wrote, by log group."""

    def __init__(self) -> None:
        self._groups: dict[str, deque[LogEvent]] = {}
        self._created: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sequence = 0

    def record(self, function_name: str, stream: str, log: bytes) -> None:
        """Store one invocation's log as events of ``/aws/lambda/NAME``, stream ``stream``."""
        group = f"/aws/lambda/{function_name}"
        now = int(time.time() * 1000)
        lines = log.decode("utf-8", "replace").split("\n")
        with self._lock:
            events = self._groups.setdefault(group, deque(maxlen=_KEEP_EVENTS))
            self._created.setdefault(group, now)
            for line in lines:
                if line:
                    self._sequence += 1
                    events.append(LogEvent(group, stream, now, now, line + "\n", f"{now:013d}{self._sequence:012d}"))

    def events(self, group: str) -> list[LogEvent] | None:
        """The group's events, oldest first; None if the group does not exist."""
        with self._lock:
            events = self._groups.get(group)
            return None if events is None else list(events)

    def groups(self) -> list[tuple[str, int, int]]:
        """(name, creation time, stored bytes) of every group."""
        with self._lock:
            return [
                (name, self._created[name], sum(len(e.message) for e in events))
                for name, events in sorted(self._groups.items())
            ]


class LogsApiError(Exception):
    """An error answer of the emulated Logs API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def handle_logs_request(store: LogStore, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Answer one JSON-protocol request: the HTTP status and the JSON body."""
    operation = target.removeprefix(TARGET_PREFIX)
    try:
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise LogsApiError(
                "UnknownOperationException",
                f"The sandbox does not implement {operation}: it serves FilterLogEvents and DescribeLogGroups.",
            )
        params = json.loads(body or b"{}")
        return 200, handler(store, params)
    except LogsApiError as err:
        return 400, {"__type": err.code, "message": err.message}
    except ValueError as err:
        return 400, {"__type": "SerializationException", "message": str(err)}


def _filter_log_events(store: LogStore, params: dict[str, Any]) -> dict[str, Any]:
    group = _group_name(params)
    events = store.events(group)
    if events is None:
        raise LogsApiError("ResourceNotFoundException", "The specified log group does not exist.")
    selected = [e for e in events if _selected(e, params)]
    start = int(params.get("nextToken") or 0)
    limit = int(params.get("limit") or _PAGE)
    page = selected[start : start + limit]
    answer: dict[str, Any] = {"events": [e.to_api() for e in page], "searchedLogStreams": []}
    if start + limit < len(selected):
        answer["nextToken"] = str(start + limit)
    return answer


def _group_name(params: dict[str, Any]) -> str:
    name = params.get("logGroupName") or params.get("logGroupIdentifier") or ""
    if ":log-group:" in name:  # an ARN identifies the group too
        name = name.split(":log-group:", 1)[1].removesuffix(":*")
    if not name:
        raise LogsApiError("InvalidParameterException", "logGroupName is required")
    return str(name)


def _selected(event: LogEvent, params: dict[str, Any]) -> bool:
    streams = params.get("logStreamNames")
    prefix = params.get("logStreamNamePrefix")
    start, end = params.get("startTime"), params.get("endTime")
    return (
        (not streams or event.stream in streams)
        and (not prefix or event.stream.startswith(prefix))
        and (start is None or event.timestamp >= int(start))
        and (end is None or event.timestamp <= int(end))
        and matches_pattern(event.message, params.get("filterPattern") or "")
    )


def matches_pattern(message: str, pattern: str) -> bool:
    """CloudWatch's term filter: all plain terms, any ``?term``, no ``-term``."""
    if pattern.strip().startswith(("{", "[")):
        raise LogsApiError(
            "InvalidParameterException",
            "The sandbox supports term filter patterns only, not JSON or space-delimited ones",
        )
    try:
        terms = shlex.split(pattern)
    except ValueError as err:
        raise LogsApiError("InvalidParameterException", f"Invalid filter pattern: {err}") from None
    required = [t for t in terms if not t.startswith(("?", "-"))]
    optional = [t[1:] for t in terms if t.startswith("?")]
    excluded = [t[1:] for t in terms if t.startswith("-")]
    return (
        all(t in message for t in required)
        and (not optional or any(t in message for t in optional))
        and not any(t in message for t in excluded)
    )


def _describe_log_groups(store: LogStore, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("logGroupNamePrefix") or ""
    return {
        "logGroups": [
            {
                "logGroupName": name,
                "creationTime": created,
                "storedBytes": size,
                "arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*",
            }
            for name, created, size in store.groups()
            if name.startswith(prefix)
        ]
    }


_OPERATIONS: dict[str, Any] = {
    "DescribeLogGroups": _describe_log_groups,
    "FilterLogEvents": _filter_log_events,
}
