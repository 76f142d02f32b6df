"""Demo: return the event and what the handler sees of its context."""

from __future__ import annotations

from typing import Any

_CLIENT_FIELDS = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Echo ``event`` back with the context: name, version, memory, client context, time left."""
    return {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": int(context.memory_limit_in_mb),
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_time_in_millis": context.get_remaining_time_in_millis(),
            "client_context": _client_context(context.client_context),
            "tenant_id": getattr(context, "tenant_id", None),
        },
    }


def _client_context(client_context: Any) -> dict[str, Any] | None:
    if client_context is None:
        return None
    client = client_context.client
    return {
        "custom": client_context.custom,
        "env": client_context.env,
        "client": None if client is None else {f: getattr(client, f) for f in _CLIENT_FIELDS},
    }
