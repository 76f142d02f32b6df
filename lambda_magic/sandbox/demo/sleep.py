"""Demo: sleep ``event["seconds"]`` (the function times out after 3 s)."""

from __future__ import annotations

import time
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Sleep, then report how long and how much time was left."""
    seconds = float(event.get("seconds", 1)) if isinstance(event, dict) else 1.0
    time.sleep(seconds)
    return {"slept": seconds, "remaining_time_in_millis": context.get_remaining_time_in_millis()}
