"""Payload templates recovered from the history: the payload text with its ``${expr}`` sites.

A request records the bytes it sent and, in order, the ``${expr}`` texts and values that
produced them; the text as written is in the cell. ``payload_template`` finds that text (the
magic's body, a ``--payload`` argument of a line magic in the cell, or ``${expr}`` alone for
a fan-out over ``$name``), splits it into literal pieces and ``Slot``s, and accepts it only
if rendering the slots with the recorded values gives back exactly the bytes that were sent.
Otherwise the payload is exported as the literal text it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import LambdaMagicError

if TYPE_CHECKING:
    from argparse import Namespace

    from lambda_magic.runbook._history import HistoryEntry

__all__ = ["Piece", "Slot", "expression_names", "invoke_calls", "payload_template", "render", "template_text"]

_NAME_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_MAGIC_RE = re.compile(r"(?<!%)%lambda_invoke\b(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Slot:
    """A ``${expression}`` site of a payload, the value it had, and whether it stood in a
    JSON string (then its text is pasted, escaped) or not (then its JSON is)."""

    expression: str
    value: Any
    in_string: bool

    @property
    def text(self) -> str:
        """What the notebook pasted into the payload for this site."""
        from lambda_magic._payload import render_value

        return render_value(self.expression, self.value, self.in_string)


Piece = str | Slot


def render(pieces: tuple[Piece, ...]) -> str:
    """The payload text: literal pieces as they are, slots as the notebook rendered them."""
    return "".join(piece if isinstance(piece, str) else piece.text for piece in pieces)


def template_text(pieces: tuple[Piece, ...]) -> str:
    """The payload as the magic's body would be written: ``${expr}`` sites, ``$${`` escapes."""
    return "".join(
        piece.replace("${", "$${") if isinstance(piece, str) else f"${{{piece.expression}}}"
        for piece in pieces
    )


def payload_template(entry: HistoryEntry) -> tuple[Piece, ...] | None:
    """The entry's payload as pieces (None without a payload); raises if it is not text."""
    payload = entry.request.payload
    if payload is None:
        return None
    try:
        sent = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise LambdaMagicError(
            f"entry {entry.index}'s payload is binary, not text: it cannot be exported"
        ) from None
    subs = entry.request.substitutions
    if subs:
        for candidate in _candidates(entry):
            pieces = _split(candidate, subs)
            if pieces is not None and render(pieces) == sent:
                return pieces
    return (sent,)


def _candidates(entry: HistoryEntry) -> Iterator[str]:
    """Texts the payload may have been written as, most likely first."""
    if entry.cell is not None and not entry.cell.lstrip().startswith("%%lambda_invoke"):
        yield entry.cell
    for args, body in invoke_calls(entry.source or ""):
        if _named(args) not in (entry.function, entry.logical_id):
            continue
        if body is not None:
            yield body
        elif args.payload is not None and not args.payload.startswith("@"):
            yield args.payload
    subs = entry.request.substitutions
    if len(subs) == 1:  # a fan-out over $name records name[i] for each event
        yield f"${{{subs[0][0]}}}"


def _named(args: Namespace) -> str:
    """The function a parsed call names: ``STACK/LogicalId`` with ``--stack-name``."""
    stack = getattr(args, "stack_name", None)
    return f"{stack}/{args.function}" if stack else str(args.function)


def invoke_calls(source: str) -> list[tuple[Namespace, str | None]]:
    """The ``%%lambda_invoke`` / ``%lambda_invoke`` calls in a cell: parsed options, and
    the body for the cell magic (None for line magics). Unparsable lines are skipped."""
    calls: list[tuple[Namespace, str | None]] = []
    text = source.lstrip("\n")
    if text.startswith("%%lambda_invoke"):
        line, _, body = text.partition("\n")
        args = _parse(line.removeprefix("%%lambda_invoke"))
        return [(args, body)] if args is not None else []
    for match in _LINE_MAGIC_RE.finditer(source):
        args = _parse(match.group(1))
        if args is not None:
            calls.append((args, None))
    return calls


def expression_names(text: str) -> list[str]:
    """The notebook names a payload text reads: ``$name`` alone, or in ``${expr}`` sites."""
    import ast

    body = text.strip()
    whole = _NAME_RE.fullmatch(body)
    if whole:
        return [whole.group(1)]
    try:
        sites = _scan(body)
    except LambdaMagicError:
        return []
    names: list[str] = []
    for site in sites:
        if isinstance(site, tuple):
            nodes = [node for node in ast.walk(ast.parse(site[0], mode="eval")) if isinstance(node, ast.Name)]
            local = {node.id for node in nodes if isinstance(node.ctx, ast.Store)}  # comprehensions
            names += [node.id for node in nodes if node.id not in local]
    return names


def _parse(line: str) -> Namespace | None:
    from lambda_magic._invoke_magics import InvokeMagics
    from lambda_magic._magic_line import parse_line

    try:
        return parse_line(InvokeMagics.lambda_invoke, line)  # type: ignore[no-any-return]
    except Exception:  # a line the magic itself would refuse: not a template source
        return None


def _split(text: str, subs: tuple[tuple[str, Any], ...]) -> tuple[Piece, ...] | None:
    """Pieces of ``text`` with the recorded values in its slots; None if they do not match."""
    body = text.strip()
    whole = _NAME_RE.fullmatch(body)
    if whole:
        if len(subs) == 1 and subs[0][0] == body:
            return (Slot(whole.group(1), subs[0][1], in_string=False),)
        return None
    try:
        sites = _scan(body)
    except LambdaMagicError:
        return None
    if sum(isinstance(site, tuple) for site in sites) != len(subs):
        return None
    values = iter(subs)
    pieces: list[Piece] = []
    for site in sites:
        if isinstance(site, str):
            pieces.append(site)
            continue
        expression, value = next(values)
        if expression != site[0]:
            return None
        pieces.append(Slot(expression, value, in_string=site[1]))
    return tuple(pieces)


def _scan(text: str) -> list[str | tuple[str, bool]]:
    """Literal text and ``(expression, in_string)`` sites, read by ``_payload``'s own
    scanner (``$${`` is a literal ``${``)."""
    from lambda_magic._payload import scan_template

    out: list[str | tuple[str, bool]] = []
    literal: list[str] = []
    for piece in scan_template(text):
        if piece.kind == "expr":
            out.extend(["".join(literal), (piece.expression or "", piece.in_string)])
            literal = []
        else:
            literal.append("${" if piece.kind == "escape" else text[piece.start : piece.end])
    out.append("".join(literal))
    return [site for site in out if site != ""]
