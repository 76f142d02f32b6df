"""A payload template checked and formatted as it is typed, without evaluating anything.

``$name`` must name a notebook variable (a dictionary look-up) and each ``${expr}`` must be a
Python expression (compiled, never evaluated); the rest must be JSON. The form checks its
payload box with ``check_template`` on every (debounced) edit and indents it with
``format_template``; the magic evaluates the same template when it runs (``_payload``).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Mapping
from typing import Any

from lambda_magic._exceptions import PayloadError
from lambda_magic._payload import lookup, scan_template, whole_name

__all__ = ["check_template", "format_template"]


def check_template(text: str, namespace: Mapping[str, Any]) -> None:
    """Raise ``PayloadError`` (with line and column) if ``text`` cannot become a payload.

    Evaluates nothing: ``$name`` is looked up, ``${expr}`` only compiled, so checking on
    every keystroke has no side effects. Positions are those of the text as typed.
    """
    body = text.strip()
    if not body:
        return
    name = whole_name(body)
    if name:
        lookup(name, namespace)
        return
    # Without "$" there is nothing to replace: skip the character scan (large payloads).
    skeleton = _rewrite_templates(text.rstrip(), _placeholder) if "$" in body else text
    try:
        _parse(skeleton)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"payload is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


def _parse(text: str) -> Any:
    """``json.loads`` with the cyclic garbage collector paused: parsing builds only acyclic
    containers, yet their number sets off full collections of the whole kernel's heap
    (2.6 MB parsed in 50 ms alone, 215 ms with boto3 and ipywidgets loaded; bench_form)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text)
    finally:
        if paused:
            gc.enable()


def format_template(text: str) -> str:
    """Indent the payload as JSON, keeping every ``${expr}`` and ``$name`` as written."""
    body = text.strip()
    if not body or whole_name(body):
        return body
    tokens: dict[str, str] = {}

    def token(source: str, in_string: bool) -> str:
        key = f"__lambda_magic_template_{len(tokens)}__"
        tokens[key if in_string else json.dumps(key)] = source
        return key if in_string else json.dumps(key)

    skeleton = _rewrite_templates(body, token)
    try:
        pretty = json.dumps(_parse(skeleton), indent=2, ensure_ascii=False)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"cannot format: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    for key, source in tokens.items():
        pretty = pretty.replace(key, source, 1)
    return pretty


def _rewrite_templates(text: str, replace: Callable[[str, bool], str]) -> str:
    """``text`` with each ``${expr}`` replaced by ``replace(source, in_string)``, read by the
    same scanner as the magic's expansion; ``$${`` stays as written."""
    return "".join(
        replace(text[piece.start : piece.end], piece.in_string)
        if piece.kind == "expr"
        else text[piece.start : piece.end]
        for piece in scan_template(text)
    )


def _placeholder(source: str, in_string: bool) -> str:
    """A stand-in of the same length, so JSON error positions match the typed text."""
    if in_string:
        return "x" * len(source)
    return "null" + "".join("\n" if char == "\n" else " " for char in source[4:])


# --- the equivalent magic cell -------------------------------------------------------------
