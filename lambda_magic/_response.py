"""``LambdaResponse``: what an invocation gave back, as Python objects.

The raw body is kept once as bytes; ``payload`` decodes it on first use. Display methods
live in ``_response_display`` and only return data.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from lambda_magic._exceptions import FunctionError

__all__ = ["FunctionErrorInfo", "LambdaResponse", "Report", "parse_report"]

_REPORT_FIELDS = {
    "Duration": "duration_ms",
    "Billed Duration": "billed_duration_ms",
    "Memory Size": "memory_size_mb",
    "Max Memory Used": "max_memory_used_mb",
    "Init Duration": "init_duration_ms",
}
_REPORT_RE = re.compile(r"^REPORT RequestId: (?P<id>\S+)(?P<rest>.*)$", re.MULTILINE)
_FIELD_RE = re.compile(r"\t?([A-Za-z ]+): ([0-9.]+) (?:ms|MB)")


@dataclass(frozen=True)
class Report:
    """The numbers of Lambda's ``REPORT`` log line; None where the line lacks one."""

    request_id: str
    duration_ms: float | None = None
    billed_duration_ms: float | None = None
    memory_size_mb: float | None = None
    max_memory_used_mb: float | None = None
    init_duration_ms: float | None = None

    @property
    def cold_start(self) -> bool:
        """Lambda reports Init Duration only when the call started a new environment."""
        return self.init_duration_ms is not None


@dataclass(frozen=True)
class FunctionErrorInfo:
    """The runtime's error payload: ``errorMessage``, ``errorType`` and ``stackTrace``."""

    message: str
    type: str | None = None
    stack_trace: tuple[str, ...] = ()
    request_id: str | None = None

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.type else self.message


def parse_report(log: str | None) -> Report | None:
    """Parse the last ``REPORT RequestId: ...`` line of a log tail."""
    if not log:
        return None
    matches = list(_REPORT_RE.finditer(log))
    if not matches:
        return None
    last = matches[-1]
    values: dict[str, float] = {}
    for label, number in _FIELD_RE.findall(last.group("rest")):
        key = _REPORT_FIELDS.get(label.strip())
        if key:
            values[key] = float(number)
    return Report(request_id=last.group("id"), **values)


class LambdaResponse:
    """The answer to one invocation.

    ``payload`` is the body as Python objects (JSON decoded; other text as str; binary as
    bytes; empty as None), ``raw_payload`` the bytes. ``function_error`` is None, "Handled"
    or "Unhandled"; ``error`` the parsed error payload when the function failed.
    ``endpoint_url`` is where the call went; ``code_sha256`` the executed code's hash, when
    GetFunction gave it to whoever made the response.
    """

    def __init__(
        self,
        *,
        function_name: str,
        qualifier: str | None,
        invocation_type: str,
        status_code: int,
        raw_payload: bytes = b"",
        function_error: str | None = None,
        log_result: str | None = None,
        executed_version: str | None = None,
        request_id: str | None = None,
        elapsed: float = 0.0,
        region: str | None = None,
        logical_id: str | None = None,
        chunks: tuple[bytes, ...] = (),
        error_details: str | None = None,
        endpoint_url: str | None = None,
        code_sha256: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.qualifier = qualifier
        self.invocation_type = invocation_type
        self.status_code = status_code
        self.raw_payload = raw_payload
        self.function_error = function_error
        self.log = _decode_log(log_result)
        self.executed_version = executed_version
        self.request_id = request_id
        self.elapsed = elapsed
        self.region = region
        self.logical_id = logical_id
        #: A streamed response's chunks as they arrived (``raw_payload`` joins them).
        self.chunks = chunks
        #: A streamed response's ``InvokeComplete.ErrorDetails`` (the error payload).
        self.error_details = error_details
        self.endpoint_url = endpoint_url
        self.code_sha256 = code_sha256

    @cached_property
    def payload(self) -> Any:
        """The response body decoded: JSON to Python objects, else str, else bytes."""
        return decode_body(self.raw_payload)

    @cached_property
    def report(self) -> Report | None:
        """The parsed REPORT line of the log tail (None without a log tail)."""
        return parse_report(self.log)

    @cached_property
    def error(self) -> FunctionErrorInfo | None:
        """The function's error (message, type, stack trace) when it failed, else None."""
        if not self.function_error:
            return None
        body = self.payload if self.error_details is None else decode_body(self.error_details.encode())
        if isinstance(body, dict) and "errorMessage" in body:
            trace = body.get("stackTrace") or ()
            return FunctionErrorInfo(
                message=str(body.get("errorMessage")),
                type=body.get("errorType"),
                stack_trace=tuple(str(line) for line in trace),
                request_id=body.get("requestId"),
            )
        return FunctionErrorInfo(message=str(body) if body is not None else self.function_error)

    @property
    def ok(self) -> bool:
        """True when Lambda accepted the call and the function did not fail."""
        return 200 <= self.status_code < 300 and not self.function_error

    @property
    def target(self) -> str:
        """``function:qualifier`` as called (the function alone without a qualifier)."""
        return f"{self.function_name}:{self.qualifier}" if self.qualifier else self.function_name

    @property
    def label(self) -> str:
        """The heading: ``target``, or ``LogicalId (target)`` when named by its stack."""
        if self.logical_id:
            return f"{self.logical_id.rpartition('/')[2]} ({self.target})"
        return self.target

    def raise_for_error(self) -> LambdaResponse:
        """Raise ``FunctionError`` if the function failed; return self otherwise."""
        if self.error is not None:
            raise FunctionError(
                f"function {self.target} failed ({self.function_error}): {self.error}",
                response=self,
            )
        return self

    def logs(self, *, wait: float = 0.0) -> Any:
        """This invocation's whole log from CloudWatch Logs, as ``LogLines`` (Event calls too).

        Found by the request id (needs ``logs:FilterLogEvents``); ``wait`` seconds are spent
        waiting for its REPORT line (an Event call's log comes after the 202; AWS ingests
        logs with a few seconds' delay).
        """
        from lambda_magic._logs import invocation_logs
        from lambda_magic._settings import resolve_settings

        return invocation_logs(self, resolve_settings(region=self.region), wait=wait)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: every field, the payload decoded, the report and error as dicts."""
        report, error = self.report, self.error
        return {
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "invocation_type": self.invocation_type,
            "status_code": self.status_code,
            "ok": self.ok,
            "payload": self.payload,
            "function_error": self.function_error,
            "error": None if error is None else error.__dict__ | {"stack_trace": list(error.stack_trace)},
            "log": self.log,
            "report": None if report is None else dict(report.__dict__),
            "executed_version": self.executed_version,
            "request_id": self.request_id,
            "elapsed": self.elapsed,
            "code_sha256": self.code_sha256,
        }

    def __repr__(self) -> str:
        state = "OK" if self.ok else (f"{self.function_error} error" if self.function_error else "")
        return f"<LambdaResponse {self.target} {self.status_code} {state} {self.elapsed * 1000:.1f} ms>"

    def _repr_html_(self) -> str:
        from lambda_magic._response_display import response_html

        return response_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from lambda_magic._response_display import response_text

        printer.text(repr(self) if cycle else response_text(self))


def decode_body(raw: bytes) -> Any:
    """JSON to Python objects; otherwise UTF-8 text; otherwise the bytes themselves."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    try:
        return json.loads(text)
    except ValueError:
        return text


def _decode_log(log_result: str | None) -> str | None:
    if not log_result:
        return None
    return base64.b64decode(log_result).decode("utf-8", errors="replace")
