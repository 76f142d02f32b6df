"""The payload box's check and format: no expression runs, and it agrees with the magic."""

from __future__ import annotations

import pytest

from lambda_magic._exceptions import PayloadError
from lambda_magic._payload import expand_payload
from lambda_magic._payload_check import check_template, format_template


@pytest.mark.parametrize(
    "text",
    [
        '{"a": ${x}}',
        '{"a": "${x}"}',
        '{"a": ${x}',
        '{"a": ${x +}}',
        '[${x}, "$${lit}"]',
        "$x",
        "$y",
        '{"s": "${d["k"]}"}',
        "${x} ${x}",
        '"\\"${x}"',
        '{"a": $${x}}',
        "  \n",
        '{"n": ${ {1: 2}[1] }}',
    ],
)
def test_typing_check_agrees_with_the_magic_expansion(text: str) -> None:
    namespace = {"x": 1, "d": {"k": "v"}}
    try:
        expand_payload(text, namespace)
        expanded_error = None
    except PayloadError as error:
        expanded_error = error
    try:
        check_template(text, namespace)
        checked_error = None
    except PayloadError as error:
        checked_error = error
    assert (checked_error is None) == (expanded_error is None), (checked_error, expanded_error)


def test_plain_json_positions_count_leading_blank_lines() -> None:
    with pytest.raises(PayloadError, match="line 3, column 7"):
        check_template('\n{"a": 1,\n "b": }', {})


def test_bad_expression_position() -> None:
    with pytest.raises(PayloadError, match="line 2, column 8 is not a Python expression"):
        check_template('{\n  "a": ${1 +}\n}', {})


def test_error_positions_are_those_of_the_typed_text() -> None:
    with pytest.raises(PayloadError, match="line 3, column 23"):
        check_template('\n{"long": ${"x" * 10},\n  "string": "${name}" oops}', {})


def test_format_keeps_templates_and_literal_dollars() -> None:
    text = '{"a":${value},"s":"id-${d["k"]}","lit":"$${x}","list":[1,2]}'
    assert format_template(text) == (
        '{\n  "a": ${value},\n  "s": "id-${d["k"]}",\n  "lit": "$${x}",\n  "list": [\n    1,\n    2\n  ]\n}'
    )
    assert format_template(" $event ") == "$event"
