"""Recovering a payload's ``${expr}`` template from a history entry, or falling back to text."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_magic._exceptions import LambdaMagicError
from lambda_magic._payload import expand_payload
from lambda_magic._request import make_request
from lambda_magic.runbook._history import History, HistoryEntry
from lambda_magic.runbook._template import (
    Slot,
    expression_names,
    invoke_calls,
    payload_template,
    render,
    template_text,
)


def _entry(text: str, namespace: dict[str, Any], *, cell: str | None = None, source: str | None = None) -> HistoryEntry:
    expanded = expand_payload(text, namespace)
    request = make_request("fn", expanded.data, substitutions=expanded.substitutions)
    return History().record(request, origin="magic", cell=text if cell is None else cell, source=source)


def test_slots_in_and_outside_strings() -> None:
    entry = _entry('{"a": "x-${name}", "n": ${n + 1}, "lit": "$${keep}"}', {"name": 'q"q', "n": 1})
    pieces = payload_template(entry)
    assert pieces is not None
    slots = [piece for piece in pieces if isinstance(piece, Slot)]
    assert [(s.expression, s.value, s.in_string, s.text) for s in slots] == [
        ("name", 'q"q', True, 'q\\"q'), ("n + 1", 2, False, "2"),
    ]
    assert render(pieces).encode() == entry.request.payload
    assert template_text(pieces) == '{"a": "x-${name}", "n": ${n + 1}, "lit": "$${keep}"}'


def test_a_whole_body_name() -> None:
    entry = _entry("$event", {"event": {"id": 1}})
    assert payload_template(entry) == (Slot("event", {"id": 1}, in_string=False),)


def test_a_line_magic_payload_is_found_in_the_cell_source() -> None:
    text = '{"id": ${ids[0]}}'
    source = f"x = 1\n%lambda_invoke fn --payload '{text}' -o out\n"
    entry = _entry(text, {"ids": [5]}, cell="%%lambda_invoke fn", source=source)
    pieces = payload_template(entry)
    assert pieces is not None and template_text(pieces) == text


def test_a_fan_out_element_is_its_labelled_value() -> None:
    request = make_request("fn", b'{"id": 2}', substitutions=(("items[1]", {"id": 2}),))
    entry = History().record(request, origin="magic", cell="$items")
    assert payload_template(entry) == (Slot("items[1]", {"id": 2}, in_string=False),)


def test_a_template_that_does_not_give_the_bytes_back_falls_back_to_text() -> None:
    entry = _entry('{"a": ${a}}', {"a": 1}, cell='{"a": ${a}, "b": 2}')
    assert payload_template(entry) == ('{"a": 1}',)


def test_no_payload_and_binary_payloads() -> None:
    assert payload_template(History().record(make_request("fn"))) is None
    binary = History().record(make_request("fn", b"\xff\xfe"))
    with pytest.raises(LambdaMagicError, match="binary"):
        payload_template(binary)


def test_invoke_calls_and_expression_names() -> None:
    calls = invoke_calls("%%lambda_invoke fn -q prod -o r\n{\"a\": ${x}}")
    assert [(args.function, args.qualifier, args.output, body) for args, body in calls] == [
        ("fn", "prod", "r", '{"a": ${x}}'),
    ]
    assert invoke_calls("%lambda_invoke --unknown-option") == []
    assert expression_names('{"a": ${x["k"] + len(ys)}, "b": ${[h for h in hosts]}}') == ["x", "len", "ys", "hosts"]
    assert expression_names("$event") == ["event"]
