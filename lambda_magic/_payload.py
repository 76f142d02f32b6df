"""Event payloads: Python values and cell text to the bytes Lambda receives.

Cell text is JSON with two additions, so that one response can feed the next call:

- a body that is exactly ``$name`` sends the notebook object ``name``, JSON-encoded;
- ``${expr}`` anywhere is replaced by the JSON encoding of the Python expression (inside a
  JSON string literal, by its text, escaped); ``$${`` writes a literal ``${``.

The text is checked to be strict JSON (no ``NaN`` or ``Infinity``: JSON has no such values)
with each ``${expr}`` stood in by a placeholder *before* any expression is evaluated, so a
side-effecting expression never runs for a cell that is then refused; the expanded text is
checked again before anything is sent. Errors give the line and column as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_magic._exceptions import PayloadError

__all__ = [
    "ExpandedPayload",
    "PayloadTemplate",
    "TemplatePiece",
    "TemplateSlot",
    "check_json",
    "encode_payload",
    "expand_payload",
    "lookup",
    "read_payload_file",
    "render_value",
    "scan_template",
    "strict_loads",
    "whole_name",
]

_NAME_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class TemplateSlot:
    """A ``${expression}`` site of a payload as written (``$name`` as the whole body is the
    slot ``name``), and whether it stands inside a JSON string (then its text is pasted,
    escaped) or not (then its JSON is)."""

    expression: str
    in_string: bool = False


@dataclass(frozen=True)
class PayloadTemplate:
    """A payload as written: its text, and that text split into literal JSON (a ``$${``
    escape already read as ``${``) and ``TemplateSlot``s, in order.

    Recorded on the request and in the history when the payload is built, so that an export
    keeps the expressions the user wrote instead of recovering them from cell text.
    """

    text: str
    pieces: tuple[str | TemplateSlot, ...]

    @property
    def slots(self) -> tuple[TemplateSlot, ...]:
        """The ``${expr}`` sites, in order (as ``substitutions`` records their values)."""
        return tuple(piece for piece in self.pieces if isinstance(piece, TemplateSlot))

    def render(self, values: Sequence[Any]) -> str:
        """The payload text with ``values[i]`` in the i-th slot, as expansion renders it."""
        found = iter(values)
        return "".join(
            piece if isinstance(piece, str) else render_value(piece.expression, next(found), piece.in_string)
            for piece in self.pieces
        )

    @classmethod
    def literal(cls, text: str) -> PayloadTemplate:
        """A template without slots."""
        return cls(text, (text,))

    @classmethod
    def slot(cls, expression: str) -> PayloadTemplate:
        """A payload that is one value: ``${expression}`` (a fan-out's ``name[i]``)."""
        return cls(f"${{{expression}}}", (TemplateSlot(expression),))


@dataclass(frozen=True)
class ExpandedPayload:
    """The bytes to send, the ``${expr}`` substitutions that produced them (expression and
    value, in slot order), and the template as written (None without a payload)."""

    data: bytes | None
    substitutions: tuple[tuple[str, Any], ...] = ()
    template: PayloadTemplate | None = None


def encode_payload(value: Any) -> bytes | None:
    """Encode an API payload: bytes as they are, str as JSON text, anything else as JSON."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        check_json(value, what="payload")
        return value.encode()
    return _dumps(value, what="payload").encode()


def expand_payload(text: str, namespace: Mapping[str, Any]) -> ExpandedPayload:
    """Turn cell text into payload bytes, resolving ``$name`` and ``${expr}``."""
    body = text.strip()
    if not body:
        return ExpandedPayload(None)
    name = whole_name(body)
    if name:
        value = lookup(name, namespace)
        template = PayloadTemplate(body, (TemplateSlot(name),))
        return ExpandedPayload(_dumps(value, what=f"${name}").encode(), ((body, value),), template)
    if "$" not in body:  # nothing to substitute: skip the character-by-character scan
        check_json(body, what="payload")
        return ExpandedPayload(body.encode(), template=PayloadTemplate.literal(body))
    pieces = tuple(scan_template(body))
    # The JSON around the slots is checked before any expression runs: an expression may
    # have side effects, and a cell refused for a trailing comma must not have had them.
    standin, spans = _render(body, pieces, _placeholder)
    check_json(standin, what="payload", original=body, spans=spans)
    subs: list[tuple[str, Any]] = []
    expanded, spans = _render(body, pieces, _evaluator(namespace, subs))
    check_json(expanded, what="payload", original=body, spans=spans)
    return ExpandedPayload(expanded.encode(), tuple(subs), _template(body, pieces))


def _template(text: str, pieces: tuple[TemplatePiece, ...]) -> PayloadTemplate:
    """The scanned pieces as literal text (escapes read) and slots, adjacent text joined."""
    out: list[str | TemplateSlot] = []
    for piece in pieces:
        if piece.kind == "expr":
            out.append(TemplateSlot(piece.expression or "", piece.in_string))
            continue
        literal = "${" if piece.kind == "escape" else text[piece.start : piece.end]
        if out and isinstance(out[-1], str):
            out[-1] += literal
        else:
            out.append(literal)
    return PayloadTemplate(text, tuple(out))


def read_payload_file(spec: str) -> str:
    """Read ``@path.json`` (the leading ``@`` already stripped or not)."""
    name = spec.removeprefix("@")
    if not name.strip():
        raise PayloadError("--payload @ names no file: write @path/to/event.json")
    path = Path(name).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PayloadError(f"cannot read payload file {str(path)!r} ({exc.strerror}): check the path") from None
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"payload file {str(path)!r} is not UTF-8 (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}): JSON is UTF-8; save the file as UTF-8"
        ) from None


def lookup(name: str, namespace: Mapping[str, Any]) -> Any:
    """The notebook object ``name``, or a one-line PayloadError."""
    try:
        return namespace[name]
    except KeyError:
        raise PayloadError(f"${name}: name {name!r} is not defined in the notebook; define it first") from None


@dataclass(frozen=True)
class TemplatePiece:
    """A stretch of payload text: literal JSON (``text``), a ``$${`` (``escape``), or a
    ``${expr}`` site (``expr``, with its ``expression``), and whether it stands inside a JSON
    string. ``start``/``end`` index the text as written."""

    kind: str
    start: int
    end: int
    in_string: bool = False
    expression: str | None = None


def scan_template(text: str) -> Iterator[TemplatePiece]:
    """Split payload text into pieces, as expansion, the form and export all read it."""
    in_string = False
    i = run = 0
    while i < len(text):
        if text.startswith("${", i) or text.startswith("$${", i):
            if run < i:
                yield TemplatePiece("text", run, i)
            if text.startswith("$${", i):
                yield TemplatePiece("escape", i, i + 3, in_string)
                i += 3
            else:
                expression, end = _expression_at(text, i)
                yield TemplatePiece("expr", i, end, in_string, expression)
                i = end
            run = i
            continue
        if text[i] == "\\" and in_string:
            i += 2
            continue
        if text[i] == '"':
            in_string = not in_string
        i += 1
    if run < len(text):
        yield TemplatePiece("text", run, len(text))


def whole_name(body: str) -> str | None:
    """``name`` when the payload text is exactly ``$name``, else None."""
    match = _NAME_RE.fullmatch(body.strip())
    return match.group(1) if match else None


def _render(
    text: str, pieces: tuple[TemplatePiece, ...], slot: Callable[[TemplatePiece], str]
) -> tuple[str, list[_Span]]:
    """Join the pieces, each ``${expr}`` rendered by ``slot``; remember where replaced text
    came from, for error positions."""
    out: list[str] = []
    spans: list[_Span] = []
    length = 0
    for piece in pieces:
        if piece.kind == "text":
            rendered = text[piece.start : piece.end]
        else:
            rendered = "${" if piece.kind == "escape" else slot(piece)
            spans.append(_Span(length, length + len(rendered), piece.start, piece.end))
        out.append(rendered)
        length += len(rendered)
    return "".join(out), spans


def _placeholder(piece: TemplatePiece) -> str:
    # Outside a string a slot becomes one JSON value (any value may stand where "" does);
    # inside a string, escaped text, which any text may stand for.
    return "" if piece.in_string else '""'


def _evaluator(namespace: Mapping[str, Any], subs: list[tuple[str, Any]]) -> Callable[[TemplatePiece], str]:
    def slot(piece: TemplatePiece) -> str:
        expression = piece.expression or ""
        value = _evaluate(expression, namespace)
        subs.append((expression, value))
        return render_value(expression, value, piece.in_string)

    return slot


@dataclass(frozen=True)
class _Span:
    """A stretch of the expanded text that came from ``original[start:end]``."""

    out_start: int
    out_end: int
    start: int
    end: int


def _original_index(index: int, spans: list[_Span]) -> int:
    """Where an index of the expanded text stands in the text as written."""
    shift = 0
    for span in spans:
        if index < span.out_start:
            break
        if index < span.out_end:
            return span.start
        shift = span.end - span.out_end
    return index + shift


def _expression_at(text: str, start: int) -> tuple[str, int]:
    """The Python expression in ``${...}`` at ``start``: the shortest one that compiles."""
    close = text.find("}", start + 2)
    while close != -1:
        expr = text[start + 2 : close].strip()
        if expr and _compiles(expr):
            return expr, close + 1
        close = text.find("}", close + 1)
    line, col = _position(text, start)
    raise PayloadError(
        f"${{...}} at line {line}, column {col} is not a Python expression; write $${{ for a literal ${{"
    )


def _compiles(expr: str) -> bool:
    try:
        compile(expr, "<payload>", "eval")
    except SyntaxError:
        return False
    return True


def _evaluate(expr: str, namespace: Mapping[str, Any]) -> Any:
    try:
        # A copy as globals: comprehensions in expr see the names, and the notebook is untouched.
        return eval(expr, dict(namespace))
    except NameError as exc:
        raise PayloadError(f"${{{expr}}}: {exc}; define it in the notebook first") from None
    except Exception as exc:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise PayloadError(f"${{{expr}}} raised {detail}; fix the expression") from None


def render_value(expr: str, value: Any, in_string: bool) -> str:
    """What ``${expr}`` with ``value`` becomes: its JSON, or inside a string its escaped text."""
    if in_string:
        text = value if isinstance(value, str) else _dumps(value, what=f"${{{expr}}}")
        return json.dumps(text)[1:-1]
    return _dumps(value, what=f"${{{expr}}}")


def _dumps(value: Any, *, what: str) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{what} cannot be sent as JSON ({exc}); convert it to dict, list, str or number") from None


def check_json(text: str, *, what: str, original: str | None = None, spans: list[_Span] | None = None) -> Any:
    """Parse strict JSON, or raise a one-line error with the line and column as written."""
    try:
        return strict_loads(text)
    except json.JSONDecodeError as exc:
        line, col = _position(original or text, _original_index(exc.pos, spans or []))
        raise PayloadError(
            f"{what} is not valid JSON: {exc.msg} at line {line}, column {col}; fix the JSON there"
        ) from None
    except ValueError as exc:
        raise PayloadError(f"{what} is not valid JSON: {exc}") from None


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` without the NaN/Infinity extension; a ValueError names what is wrong."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("it is nested too deeply; flatten it") from None
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError) or "digits" not in str(exc):
            raise
        # Python refuses to parse integers of more than sys.get_int_max_str_digits() digits.
        raise ValueError("it has an integer too long to parse; send it as a string") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value; send null or a string instead")


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1
