"""Demo: a function that fails on request.

``{"mode": "raise"}`` raises ``ValueError``: the runtime reports it and Invoke answers with
``X-Amz-Function-Error: Unhandled`` (Python functions have no "Handled" errors). Anything else
returns an error-shaped result normally, which is *not* a function error.
"""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Raise ``ValueError`` for ``{"mode": "raise"}``, else return ``{"ok": false, ...}``."""
    mode = event.get("mode") if isinstance(event, dict) else None
    if mode == "raise":
        raise ValueError(event.get("message", "the fail demo was asked to raise"))
    return {"ok": False, "error": "validation failed", "detail": "returned, not raised", "event": event}
