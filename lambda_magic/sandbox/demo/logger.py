"""Demo: write log lines with ``print`` and with ``logging``, as Lambda captures both."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger()
log.setLevel(logging.INFO)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Print and log ``event["lines"]`` lines (default 3) and return how many."""
    lines = int(event.get("lines", 3)) if isinstance(event, dict) else 3
    print(f"logger demo: writing {lines} line(s)")
    for number in range(1, lines + 1):
        log.info("line %d of %d", number, lines)
    log.warning("done; request %s", context.aws_request_id)
    return {"lines": lines}
