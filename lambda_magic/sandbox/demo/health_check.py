"""Demo: a runbook-style health check of a (pretend) service.

Deterministic: the event says what to simulate.
``{"service": "web"}`` -> healthy; ``{"service": "web", "simulate": "degraded"}`` -> one check
warns; ``{"simulate": "down"}`` -> checks fail. A service named in ``event["restarted"]`` (as
``restart_service`` returns it) is healthy again. Version 2 adds a disk check.
"""

from __future__ import annotations

import os
from typing import Any

_FAILING = {"healthy": (), "degraded": ("latency",), "down": ("http", "database")}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """``{"service", "status": healthy|degraded|down, "checks": [...], "version", "release"}``."""
    event = event if isinstance(event, dict) else {}
    service = str(event.get("service", "web"))
    simulate = str(event.get("simulate", "healthy"))
    if event.get("restarted") in (True, service):
        simulate = "healthy"
    if simulate not in _FAILING:
        raise ValueError(f"simulate must be one of {', '.join(_FAILING)}, not {simulate!r}")
    names = os.environ.get("HEALTH_CHECKS", "http,database,latency").split(",")
    checks = [_check(name, simulate) for name in names]
    return {
        "service": service,
        "status": simulate,
        "checks": checks,
        "version": context.function_version,
        "release": os.environ.get("RELEASE", "unknown"),
    }


def _check(name: str, simulate: str) -> dict[str, Any]:
    failing = name in _FAILING[simulate]
    status = ("fail" if simulate == "down" else "warn") if failing else "pass"
    return {"name": name, "status": status}
