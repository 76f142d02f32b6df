"""The runbook model every export renders: steps in order with their ``${}`` values
classified, the cells that led to them, parameters by one rule, and the code a job of one
step per invocation cannot express."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_magic import history
from lambda_magic.runbook._model import ExportError, Runbook, build_runbook, python_script
from lambda_magic.testing import FakeLambda, Reply


def run(shell: Any, source: str) -> None:
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec


def model(shell: Any) -> Runbook:
    return build_runbook([entry for entry in history if entry.ok], source=history, namespace=shell.user_ns)


@pytest.fixture
def linear(shell: Any, fake: FakeLambda) -> Runbook:
    """A prototype a job can express: parameters, then steps chained on responses."""
    fake.on("health_check", lambda call: Reply.ok({"service": call.payload["service"], "checks": ["http"]}))
    run(shell, 'service = "web"\nlimits = {"cpu": 2}')
    run(shell, '%%lambda_invoke health_check -o health\n{"service": "${service}", "limits": ${limits}}')
    run(
        shell,
        "%%lambda_invoke restart_service -o restart\n"
        '{"service": "${health.payload["service"]}", "why": "${health.payload["checks"][0].upper()}", '
        '"first": "${health.payload["checks"][0]}"}',
    )
    return model(shell)


def test_steps_values_and_their_sources(linear: Runbook) -> None:
    first, second = linear.steps
    assert (first.number, first.entry.function, first.output) == (1, "health_check", "health")
    service, limits = (piece for piece in first.payload or () if not isinstance(piece, str))
    assert (service.source, service.parameter, service.in_string) == ("parameter", "service", True)
    assert service.value == "web"
    assert (limits.source, limits.parameter, limits.in_string) == ("parameter", "limits", False)
    assert first.consumes == ()
    name, why, check = second.consumes
    assert (name.expression, name.source) == ('health.payload["service"]', "response")
    assert (name.step, name.path) == (1, ("service",))
    assert why.path is None and why.step == 1  # a computation on the response: no path
    assert check.path == ("checks", 0) and check.value == "http"


def test_parameters_by_one_rule(linear: Runbook, fake: FakeLambda) -> None:
    found = {p.name: (p.value, p.type, p.origin) for p in linear.parameters}
    assert found == {
        "region": ("us-east-1", "string", "setting"),
        "endpoint_url": (fake.url, "string", "setting"),
        "service": ("web", "string", "assignment"),
        "limits": ({"cpu": 2}, "object", "assignment"),
    }
    assert linear.parameter("limits").default == '{"cpu": 2}' and linear.parameter("service").default == "web"


def test_a_linear_prototype_has_no_code_between_steps(linear: Runbook) -> None:
    assert linear.code_between_steps == ()
    assert [cell.steps for cell in linear.cells] == [(), (1,), (2,)]
    compile(python_script(linear), "runbook.py", "exec")


def test_code_between_steps_is_named(shell: Any, fake: FakeLambda) -> None:
    fake.on("health_check", lambda call: Reply.ok({"status": "down"}))
    run(shell, "%%lambda_invoke health_check -o health\n{}")
    run(shell, 'n = len(health.payload["status"])')
    run(
        shell,
        'if health.payload["status"] == "down":\n    %lambda_invoke restart_service --quiet --payload \'{"n": ${n}}\'',
    )
    runbook = model(shell)
    count = history[0].execution_count
    assert [cell.label for cell in runbook.code_between_steps] == [f"In [{count + 1}]", f"In [{count + 2}]"]


def test_a_value_no_cell_computes_must_be_a_literal(shell: Any, fake: FakeLambda) -> None:
    shell.user_ns["conn"] = object()
    run(shell, '%%lambda_invoke echo\n{"c": "${str(conn)}"}')
    with pytest.raises(ExportError, match=r"read 'conn' \(object\)"):
        model(shell)


def test_a_variable_named_like_an_option_is_renamed(shell: Any, fake: FakeLambda) -> None:
    run(shell, 'region = "not-a-setting"')
    run(shell, '%%lambda_invoke echo\n{"r": "${region}"}')
    runbook = model(shell)
    assert [(p.name, p.variable) for p in runbook.parameters][-1] == ("region_2", "region")
    assert runbook.region is not None and runbook.region.value == "us-east-1"


def test_a_step_made_outside_a_cell_makes_parameters_of_what_no_code_computes(shell: Any, fake: FakeLambda) -> None:
    shell.run_cell('%%lambda_invoke echo -o first\n{"x": "a"}')  # not stored: no In [n], no cell
    shell.user_ns.update(who="ops", handle=object())
    shell.run_cell(
        '%%lambda_invoke echo\n{"x": "${first.payload["x"]}", "who": "${who}", "h": ${len(str(handle)) > 0}}'
    )
    runbook = model(shell)
    assert [cell.source for cell in runbook.cells] == [None, None]
    pieces = runbook.steps[1].payload or ()
    assert "".join(piece if isinstance(piece, str) else "{" + piece.expression + "}" for piece in pieces) == (
        '{"x": "{first_payload_x}", "who": "{who}", "h": {len_str_handle_0}}'
    )
    assert [(p.name, p.value, p.expression) for p in runbook.parameters if p.origin == "notebook"] == [
        ("first_payload_x", "a", 'first.payload["x"]'),
        ("who", "ops", None),
        ("len_str_handle_0", True, "len(str(handle)) > 0"),
    ]
    assert runbook.left_out == ()


def test_what_was_imported_before_the_extension_is_imported_again(shell: Any, fake: FakeLambda) -> None:
    import json as json_module
    from pathlib import PurePosixPath

    shell.user_ns.update(js=json_module, PurePosixPath=PurePosixPath)  # no recorded cell made them
    run(shell, 'name = PurePosixPath("a/b").name\n%lambda_invoke echo --quiet --payload \'{"n": ${js.dumps(name)}}\'')
    runbook = model(shell)
    assert [item.statement for item in runbook.imports] == ["from pathlib import PurePosixPath", "import json as js"]
    assert "import json as js" in python_script(runbook)
