"""Demo: pretend to restart a service (the "restart" step of a runbook)."""

from __future__ import annotations

import datetime as _dt
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Return ``{"service", "restarted": true, "restarted_at"}``; nothing is restarted."""
    service = str(event.get("service", "web")) if isinstance(event, dict) else "web"
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return {"service": service, "restarted": True, "restarted_at": now, "request_id": context.aws_request_id}
