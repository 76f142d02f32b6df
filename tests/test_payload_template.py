"""The payload template is recorded when the payload is built (request and history entry),
never recovered later from cell text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambda_magic import history
from lambda_magic._payload import PayloadTemplate, TemplateSlot, expand_payload
from lambda_magic.testing import FakeLambda


def run(shell: Any, source: str) -> None:
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec


def test_the_magic_records_its_template_on_the_request_and_the_entry(shell: Any, fake: FakeLambda) -> None:
    run(shell, 'name = "web"\nn = 2')
    body = '{"a": "x-${name}", "n": ${n + 1}, "lit": "$${keep}"}'
    run(shell, f"%%lambda_invoke echo --quiet\n{body}")
    entry = history[-1]
    assert entry.template is entry.request.template
    assert entry.template == PayloadTemplate(
        body,
        (
            '{"a": "x-',
            TemplateSlot("name", in_string=True),
            '", "n": ',
            TemplateSlot("n + 1"),
            ', "lit": "${keep}"}',
        ),
    )
    assert entry.slot_values == ("web", 3)
    assert entry.template.render(entry.slot_values).encode() == entry.request.payload


def test_a_template_from_a_payload_file_is_recorded_too(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    # The cell text has no template in it (only @file): re-parsing the cell, as export did,
    # froze the value; the recorded template keeps the expression.
    path = tmp_path / "event.json"
    path.write_text('{"service": "${svc}"}')
    run(shell, f'svc = "api"\n%lambda_invoke echo --quiet --payload @{path}')
    assert history[-1].template.slots == (TemplateSlot("svc", in_string=True),)


def test_a_line_magic_in_a_loop_records_each_call(shell: Any, fake: FakeLambda) -> None:
    run(shell, "for svc in ['a', 'b']:\n    %lambda_invoke echo --quiet --payload '{\"s\": \"${svc}\"}'")
    assert [entry.slot_values for entry in history] == [("a",), ("b",)]
    assert {entry.template.text for entry in history} == {'{"s": "${svc}"}'}


def test_a_fan_out_over_a_name_records_each_element_as_a_slot(shell: Any, fake: FakeLambda) -> None:
    run(shell, 'items = [{"id": 1}, "two"]')
    run(shell, "%%lambda_invoke echo --each --quiet\n$items")
    entries = sorted(history, key=lambda entry: entry.slot_values[0] == "two")
    assert [entry.template for entry in entries] == [PayloadTemplate.slot("items[0]"), PayloadTemplate.slot("items[1]")]
    assert [entry.request.payload for entry in entries] == [b'{"id": 1}', b'"two"']


def test_the_api_and_no_payload_record_no_template(fake: FakeLambda) -> None:
    from lambda_magic import invoke

    invoke("echo", {"id": 1})
    invoke("echo")
    assert [entry.template for entry in history] == [None, None]


def test_a_whole_body_name_is_one_slot() -> None:
    expanded = expand_payload("$event", {"event": {"k": 1}})
    assert expanded.template == PayloadTemplate("$event", (TemplateSlot("event"),))
    assert expanded.template.render([{"k": 1}]) == '{"k": 1}'


def test_the_export_no_longer_reads_cell_text() -> None:
    import importlib.util

    assert importlib.util.find_spec("lambda_magic.runbook._template") is None
