"""The ``%%lambda_invoke`` cell that sends the same request as a form ("Copy as magic")."""

from __future__ import annotations

import json
import shlex

__all__ = ["magic_cell"]


def magic_cell(
    function: str,
    payload: str = "",
    *,
    invocation_type: str = "RequestResponse",
    qualifier: str | None = None,
    client_context: str | None = None,
    log: bool = True,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
) -> str:
    """The ``%%lambda_invoke`` cell that sends the same request: options shell-quoted,
    the payload (templates included) as the body."""
    options = [
        ("-t", None if invocation_type == "RequestResponse" else invocation_type),
        ("-q", qualifier),
        ("-c", _one_line_json(client_context)),
        ("--region", region),
        ("--profile", profile),
        ("--endpoint-url", endpoint_url),
    ]
    words = ["%%lambda_invoke", shlex.quote(function or "FUNCTION")]
    words += [f"{flag} {shlex.quote(value)}" for flag, value in options if value]
    if not log:
        words.append("--no-log")
    return " ".join(words) + "\n" + payload.strip()


def _one_line_json(text: str | None) -> str | None:
    """Client context JSON, compacted so it fits on the magic's line."""
    if not text or not text.strip():
        return None
    try:
        return json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        return " ".join(text.split())
