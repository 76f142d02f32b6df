"""Payload text: JSON, $name, ${expr}, @file, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from lambda_magic import PayloadError
from lambda_magic._payload import encode_payload, expand_payload, read_payload_file


class Resp:
    payload: ClassVar[dict[str, object]] = {"id": 42, "name": 'say "hi"', "tags": ["a", "b"]}


NS = {"resp": Resp(), "event": {"k": [1, 2]}, "n": 3, "text": "plain"}


def sent(text: str) -> object:
    data = expand_payload(text, NS).data
    return None if data is None else json.loads(data)


def test_empty_body_sends_no_payload() -> None:
    assert expand_payload("  \n ", NS).data is None


def test_plain_json_is_sent_as_written() -> None:
    assert expand_payload('{"a": 1}\n', NS).data == b'{"a": 1}'


def test_dollar_name_sends_the_object() -> None:
    expanded = expand_payload("$event", NS)
    assert json.loads(expanded.data or b"") == {"k": [1, 2]}
    assert expanded.substitutions == (("$event", {"k": [1, 2]}),)


def test_expression_outside_strings_is_json() -> None:
    assert sent('{"instance": ${resp.payload["id"]}, "tags": ${resp.payload["tags"]}}') == {
        "instance": 42,
        "tags": ["a", "b"],
    }


def test_expression_inside_a_string_is_its_escaped_text() -> None:
    assert sent('{"msg": "name=${resp.payload["name"]} n=${n}"}') == {"msg": 'name=say "hi" n=3'}


def test_expression_with_braces_and_comprehension() -> None:
    assert sent('{"d": ${ {"x": [i * n for i in range(2)]} }}') == {"d": {"x": [0, 3]}}


def test_literal_dollar_brace() -> None:
    assert sent('{"template": "$${AWS::Region}"}') == {"template": "${AWS::Region}"}


def test_substitutions_are_recorded() -> None:
    expanded = expand_payload('{"n": ${n}}', NS)
    assert expanded.substitutions == (("n", 3),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1,\n "b": }', "not valid JSON: Expecting value at line 2, column 7"),
        ("$missing", "name 'missing' is not defined in the notebook"),
        ('{"a": ${missing + 1}}', "name 'missing' is not defined; define it in the notebook first"),
        ('{"a": ${1 / 0}}', "raised ZeroDivisionError"),
        ('{"a": ${object()}}', "cannot be sent as JSON"),
        ('{"a": ${float("nan")}}', "cannot be sent as JSON"),
        ('{"a": ${AWS::Region}}', "line 1, column 7 is not a Python expression"),
        ('{"a": ${n}', "not valid JSON: Expecting ',' delimiter at line 1, column 11"),
        ('{"a": ${resp.payload["tags"]},\n "b": ${n} x}', "Expecting ',' delimiter at line 2, column 12"),
        ('{"a": "$${", }', "Expecting property name enclosed in double quotes at line 1, column 14"),
    ],
)
def test_payload_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(PayloadError) as info:
        expand_payload(text, NS)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_expressions_cannot_change_the_notebook() -> None:
    namespace = {"items": [1]}
    expand_payload('{"a": ${items.append(2) or 0}}', namespace)
    assert namespace == {"items": [1, 2]}  # the same objects: mutation is the user's own doing
    expand_payload('{"a": ${(x := 5)}}', namespace)
    assert "x" not in namespace  # but names bound in ${} do not leak into the notebook


def test_payload_file(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text('{"from": "file"}')
    assert read_payload_file(f"@{path}") == '{"from": "file"}'
    with pytest.raises(PayloadError, match="cannot read payload file"):
        read_payload_file(f"@{tmp_path / 'nope.json'}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1}, b'{"a": 1}'),
        ([1, 2], b"[1, 2]"),
        ('{"raw": true}', b'{"raw": true}'),
        (b"\x00raw", b"\x00raw"),
        (None, None),
        (7, b"7"),
    ],
)
def test_api_payload_encoding(value: object, expected: bytes | None) -> None:
    assert encode_payload(value) == expected


def test_api_payload_text_must_be_json() -> None:
    with pytest.raises(PayloadError, match="line 1, column 1"):
        encode_payload("hello")


def test_json_around_the_slots_is_checked_before_any_expression_runs() -> None:
    calls: list[str] = []
    ns = {"create_ticket": lambda: calls.append("ran") or "T-1"}
    with pytest.raises(PayloadError, match=r"not valid JSON: .* line 1, column 3\d"):
        expand_payload('{"ticket": ${create_ticket()}, }', ns)
    assert calls == []
    assert json.loads(expand_payload('{"ticket": ${create_ticket()}}', ns).data or b"") == {"ticket": "T-1"}
    assert calls == ["ran"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant: str) -> None:
    for text in (f'{{"a": {constant}}}', f'{{"a": {constant}, "b": ${{n}}}}'):
        with pytest.raises(PayloadError, match=f"{constant} is not a JSON value"):
            expand_payload(text, NS)
    with pytest.raises(PayloadError, match=f"{constant} is not a JSON value"):
        encode_payload(f"[{constant}]")


def test_a_huge_integer_is_one_line() -> None:
    with pytest.raises(PayloadError, match="integer too long to parse; send it as a string"):
        expand_payload('{"n": ' + "9" * 5000 + "}", NS)


def test_the_template_is_recorded_as_written() -> None:
    from lambda_magic._payload import PayloadTemplate, TemplateSlot

    text = '{"id": ${resp.payload["id"]}, "note": "x ${text}", "raw": "$${keep}"}'
    expanded = expand_payload(text + "\n", NS)
    assert expanded.template == PayloadTemplate(
        text,
        (
            '{"id": ',
            TemplateSlot('resp.payload["id"]'),
            ', "note": "x ',
            TemplateSlot("text", in_string=True),
            '", "raw": "${keep}"}',
        ),
    )
    assert expanded.template.render([value for _, value in expanded.substitutions]) == expanded.data.decode()
    assert expand_payload("$event", NS).template == PayloadTemplate("$event", (TemplateSlot("event"),))
    assert expand_payload('{"a": 1}', NS).template == PayloadTemplate.literal('{"a": 1}')
