"""A function's whole log from CloudWatch Logs, for any invocation (``Event`` ones too).

Lambda returns at most the last 4 KB of a synchronous call's log and nothing for an
``Event`` call; CloudWatch Logs has all of it. ``read_logs`` calls ``FilterLogEvents`` on
the function's log group (its ``LoggingConfig.LogGroup``, else ``/aws/lambda/NAME``).
By request id: the ``START``/``END``/``REPORT`` lines carry the id, so the first query finds
the invocation's stream and time span, the second reads that span of the stream and keeps
the lines from its ``START`` to its ``REPORT`` (``print`` output has no id of its own).
``follow_logs`` polls for new events until stopped (Ctrl-C in the magic), or, for one
request id, until its ``REPORT`` line arrives. Needs ``logs:FilterLogEvents``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import InvokeError, ParameterError

if TYPE_CHECKING:
    from lambda_magic._settings import Settings

__all__ = ["LogLine", "LogLines", "follow_logs", "invocation_logs", "log_group_of", "parse_since", "read_logs"]

PERMISSION = "logs:FilterLogEvents"
#: Events read at most by one ``read_logs`` (pages of up to 10,000 each).
MAX_EVENTS = 50_000
_SINCE_RE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d|w)?")
_NO_GROUP = "ResourceNotFoundException"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class LogLine:
    """One CloudWatch Logs event: when, which stream, and the line."""

    timestamp: int  # ms since the epoch
    stream: str
    message: str
    event_id: str = ""

    @property
    def time(self) -> datetime:
        """The event's time, UTC."""
        return datetime.fromtimestamp(self.timestamp / 1000, timezone.utc)

    def __str__(self) -> str:
        return f"{self.time:%H:%M:%S.%f}"[:-3] + " " + self.message.rstrip("\n")


class LogLines(list[LogLine]):
    """The log lines read, oldest first; ``text`` joins the messages."""

    def __init__(self, lines: list[LogLine], *, group: str, note: str | None = None) -> None:
        super().__init__(lines)
        self.group = group
        self.note = note

    @property
    def text(self) -> str:
        """The messages as one text, as the function wrote them."""
        return "".join(line.message if line.message.endswith("\n") else line.message + "\n" for line in self)

    def __repr__(self) -> str:
        return f"<LogLines {self.group} {len(self)} lines>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self._summary() + "".join(f"\n{line}" for line in self))

    def _repr_html_(self) -> str:
        body = escape("\n".join(str(line) for line in self))
        return f"<div><b>{escape(self._summary())}</b><pre>{body}</pre></div>"

    def _summary(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return f"{self.group}: {len(self):,} line{'' if len(self) == 1 else 's'}{note}"


def parse_since(text: str) -> float:
    """``10m``, ``2h``, ``1d``, ``30`` (seconds) to seconds; one-line error otherwise."""
    match = _SINCE_RE.fullmatch(text.strip())
    if match is None:
        raise ParameterError(f"--since {text!r}: give a duration such as 30s, 10m, 2h or 1d")
    return float(match["n"]) * _UNITS[match["unit"] or "s"]


def log_group_of(function: str, settings: Settings) -> str:
    """The function's log group: its ``LoggingConfig.LogGroup``, else ``/aws/lambda/NAME``.

    The configuration is read with ``lambda:GetFunctionConfiguration``; without that
    permission (or a function the endpoint does not know) the default group is used.
    """
    from lambda_magic._client import client_for

    name = _bare_name(function)
    try:
        config = client_for(settings).get_function_configuration(FunctionName=name)
    except Exception:  # any failure: fall back to the group Lambda uses by default
        return f"/aws/lambda/{name}"
    return str((config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}")


def _bare_name(function: str) -> str:
    """The function's own name: no ARN prefix, no ``:qualifier``."""
    from lambda_magic._request import _FUNCTION_RE

    match = _FUNCTION_RE.fullmatch(function)
    if match is None:
        raise ParameterError(f"malformed function name {function[:80]!r}: use a name or a function ARN")
    return str(match["name"])


def read_logs(
    function: str,
    settings: Settings,
    *,
    request_id: str | None = None,
    since: float | None = None,
    filter_pattern: str | None = None,
    client: Any = None,
    group: str | None = None,
) -> LogLines:
    """The function's log lines of the last ``since`` seconds, or of one invocation."""
    client = client or _logs_client(settings)
    group = group or log_group_of(function, settings)
    start = _start_ms(since, default=3600 if request_id else 600)
    if request_id:
        return _invocation(client, group, request_id, start, filter_pattern, function)
    lines = list(
        _events(
            client,
            function,
            logGroupName=group,
            startTime=start,
            **({"filterPattern": filter_pattern} if filter_pattern else {}),
        )
    )
    return LogLines(lines, group=group)


def _invocation(client: Any, group: str, request_id: str, start: int, contains: str | None, function: str) -> LogLines:
    try:
        marked = list(_events(client, function, logGroupName=group, startTime=start, filterPattern=f'"{request_id}"'))
    except InvokeError as error:
        if error.code != _NO_GROUP:
            raise
        marked = []  # the function's first invocation may not have logged yet
    starts = [line for line in marked if line.message.startswith(f"START RequestId: {request_id}")]
    if not starts:
        return LogLines(
            [],
            group=group,
            note=f"no START line for request {request_id} yet: it may not have run yet, or it ran before --since",
        )
    first = starts[0]
    window = _events(
        client,
        function,
        logGroupName=group,
        logStreamNames=[first.stream],
        startTime=first.timestamp,
        endTime=marked[-1].timestamp,
    )
    lines = _between(list(window), request_id)
    done = any(line.message.startswith(f"REPORT RequestId: {request_id}") for line in lines)
    if contains:
        lines = [line for line in lines if contains in line.message]
    return LogLines(lines, group=group, note=None if done else "no REPORT line yet: still running")


def _between(lines: list[LogLine], request_id: str) -> list[LogLine]:
    """The lines from the invocation's START through its REPORT line."""
    kept: list[LogLine] = []
    for line in lines:
        if kept or line.message.startswith(f"START RequestId: {request_id}"):
            kept.append(line)
            if line.message.startswith(f"REPORT RequestId: {request_id}"):
                break
    return kept


def follow_logs(
    function: str,
    settings: Settings,
    on_line: Callable[[LogLine], None],
    *,
    request_id: str | None = None,
    since: float | None = None,
    filter_pattern: str | None = None,
    poll: float = 1.0,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    client: Any = None,
) -> None:
    """Hand each new line to ``on_line`` until ``stop()``; for one request id, until its REPORT."""
    client = client or _logs_client(settings)
    group = log_group_of(function, settings)
    seen: set[tuple[str, str]] = set()
    while not stop():
        try:
            lines = read_logs(
                function,
                settings,
                request_id=request_id,
                since=since,
                filter_pattern=filter_pattern,
                client=client,
                group=group,
            )
        except InvokeError as error:
            if error.code != _NO_GROUP:
                raise
            lines = LogLines([], group=group, note="no log group yet")  # nothing logged so far
        for line in lines:
            key = (line.event_id or str(line.timestamp), line.stream + line.message)
            if key not in seen:
                seen.add(key)
                on_line(line)
        if request_id and lines and lines.note is None:
            return  # the invocation's REPORT line is in
        if lines and not request_id:  # read on from the newest line (one second of overlap)
            since = max(1.0, time.time() - lines[-1].timestamp / 1000 + 1)
        sleep(poll)


def invocation_logs(
    response: Any, settings: Settings, *, wait: float = 0.0, sleep: Callable[[float], None] = time.sleep
) -> LogLines:
    """The whole log of the invocation ``response`` answered; ``wait`` seconds for its REPORT."""
    if not response.request_id:
        raise ParameterError(
            f"the response of {response.target} has no request id: its log cannot "
            "be told from others'; use %lambda_logs with --since"
        )
    deadline = time.monotonic() + wait
    while True:
        lines = read_logs(response.function_name, settings, request_id=response.request_id)
        if lines.note is None or time.monotonic() >= deadline:
            return lines
        sleep(0.2)


def _events(client: Any, function: str, **params: Any) -> Iterator[LogLine]:
    """Every event FilterLogEvents answers, page after page (at most ``MAX_EVENTS``)."""
    count = 0
    while True:
        answer = _call(client, function, params)
        for event in answer.get("events", []):
            count += 1
            yield LogLine(
                int(event["timestamp"]),
                str(event.get("logStreamName", "")),
                str(event["message"]),
                str(event.get("eventId", "")),
            )
        token = answer.get("nextToken")
        if not token or count >= MAX_EVENTS or token == params.get("nextToken"):
            return
        params = {**params, "nextToken": token}


def _call(client: Any, function: str, params: dict[str, Any]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    from lambda_magic._engine import CallContext, Operation, map_error

    operation = Operation(f"reading the logs of {function}", permission=PERMISSION, subject=function)
    context = CallContext(region=client.meta.region_name)
    try:
        return client.filter_log_events(**params)  # type: ignore[no-any-return]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == _NO_GROUP:
            raise InvokeError(
                f"log group {params['logGroupName']} does not exist in {client.meta.region_name}: "
                f"{function} has not logged there yet (check the name and region)",
                function=function,
                region=client.meta.region_name,
                code="ResourceNotFoundException",
            ) from None
        raise map_error(exc, operation=operation, context=context) from exc
    except Exception as exc:
        raise map_error(exc, operation=operation, context=context) from exc


def _logs_client(settings: Settings) -> Any:
    from lambda_magic._client import service_client

    return service_client(settings, "logs")


def _start_ms(since: float | None, *, default: float) -> int:
    return int((time.time() - (default if since is None else since)) * 1000)
