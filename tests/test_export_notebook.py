"""The notebook export: the prototype's cells after a ``parameters`` cell (papermill) and a
configuration cell that uses them; chained values kept; every function error stops the run.

Sessions are recorded through a real IPython shell against ``FakeLambda``; the exported
notebooks run in a kernel (nbclient), parameters injected after the ``parameters`` cell as
papermill does it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from lambda_magic import export, history
from lambda_magic.testing import FakeLambda, Reply

HEALTH = '%%lambda_invoke health_check -q prod -o health\n{"service": "${service}"}'
RESTART_IF_DOWN = (
    'if health.payload["status"] == "down":\n'
    "    %lambda_invoke restart_service -o restart --quiet --payload "
    '\'{"service": "${health.payload["service"]}"}\''
)


def run(shell: Any, source: str) -> Any:
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


def health(status: str) -> Any:
    return lambda call: Reply.ok({"service": call.payload["service"], "status": status})


@pytest.fixture
def incident(shell: Any, fake: FakeLambda, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    fake.on("health_check", health("down"))
    fake.on("restart_service", lambda call: Reply.ok({"service": call.payload["service"]}))
    run(shell, 'service = "web"')
    run(shell, HEALTH)
    run(shell, RESTART_IF_DOWN)
    run(shell, '%%lambda_invoke echo\n{"checked": "${health.payload["service"]}"}')
    fake.calls.clear()
    return shell


def execute(text: str, tmp_path: Path, **parameters: Any) -> Any:
    """Run an exported notebook, ``parameters`` injected after its parameters cell."""
    from nbclient import NotebookClient

    notebook = nbformat.reads(text, as_version=4)
    if parameters:
        at = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
        source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
        notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources=resources).execute()
    return notebook


def test_parameters_first_then_configuration_then_the_cells(incident: Any, fake: FakeLambda) -> None:
    notebook = nbformat.reads(export("magic", namespace=incident.user_ns), as_version=4)
    nbformat.validate(notebook)
    sources = [cell.source for cell in notebook.cells]
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.cells[1].metadata["tags"] == ["parameters"]
    assert sources[1].splitlines()[1:] == ["region = 'us-east-1'", f"endpoint_url = {fake.url!r}", "service = 'web'"]
    assert "region=region or None, endpoint_url=endpoint_url or None" in sources[2]
    assert "raise_on_error=True" in sources[2]
    assert sources[3:] == [
        HEALTH.replace(" -o health", " -o health --raise"),
        RESTART_IF_DOWN.replace("%lambda_invoke restart_service", "%lambda_invoke --raise restart_service"),
        '%%lambda_invoke echo --raise\n{"checked": "${health.payload["service"]}"}',
    ]  # the cell that only assigned the parameter is gone: the parameters cell sets it
    assert all(cell.get("outputs", []) == [] and cell.get("execution_count") is None for cell in notebook.cells)


def test_without_the_endpoint_the_parameter_says_aws(incident: Any, fake: FakeLambda) -> None:
    notebook = nbformat.reads(export("magic", endpoint=False), as_version=4)
    assert "endpoint_url = ''" in notebook.cells[1].source.splitlines()
    assert fake.url not in nbformat.writes(notebook)


def test_papermill_region_and_endpoint_parameters_are_used(incident: Any, tmp_path: Path) -> None:
    text = export("magic", namespace=incident.user_ns)
    with FakeLambda() as other:
        other.on("health_check", health("down"))
        execute(text, tmp_path, region="eu-west-3", endpoint_url=other.url, service="api")
        assert [call.function for call in other.calls] == ["health_check", "restart_service", "echo"]
        assert all("/eu-west-3/lambda/" in call.headers["authorization"] for call in other.calls)
        assert other.calls[0].payload == {"service": "api"}


def test_chained_values_and_conditions_are_kept(incident: Any, fake: FakeLambda, tmp_path: Path) -> None:
    text = export("magic", namespace=incident.user_ns)
    fake.on("health_check", lambda call: Reply.ok({"service": "db-2", "status": "down"}))
    execute(text, tmp_path)
    assert [(call.function, call.payload) for call in fake.calls] == [
        ("health_check", {"service": "web"}),
        ("restart_service", {"service": "db-2"}),
        ("echo", {"checked": "db-2"}),
    ]
    fake.calls.clear()
    fake.on("health_check", health("healthy"))
    execute(text, tmp_path)
    assert [call.function for call in fake.calls] == ["health_check", "echo"]


def test_a_function_failure_stops_the_run_without_raise_in_the_prototype(
    shell: Any, fake: FakeLambda, tmp_path: Path
) -> None:
    from nbclient.exceptions import CellExecutionError

    run(shell, "%%lambda_invoke flaky -o first\n{}")
    run(shell, 'import lambda_magic\nlambda_magic.invoke("api_call", {"n": 1})')
    run(shell, "%%lambda_invoke after\n{}")
    text = export("magic")
    fake.calls.clear()
    fake.script("flaky", Reply.function_error("boom"))
    with pytest.raises(CellExecutionError) as info:
        execute(text, tmp_path)
    assert "UsageError: function flaky failed (Unhandled): ValueError: boom" in str(info.value)
    assert [call.function for call in fake.calls] == ["flaky"]
    fake.calls.clear()
    fake.script("api_call", Reply.function_error("api down"))  # the API in a cell raises too
    with pytest.raises(CellExecutionError, match="function api_call failed"):
        execute(text, tmp_path)
    assert [call.function for call in fake.calls] == ["flaky", "api_call"]


def test_cells_between_the_steps_come_along_unless_they_failed_or_only_show(shell: Any, fake: FakeLambda) -> None:
    first_cell, last_cell = '%%lambda_invoke echo -o first\n{"n": 1}', '%%lambda_invoke echo\n{"n": ${n}}'
    run(shell, first_cell)
    run(shell, "n = first.payload['n'] + 1")
    with pytest.raises(ZeroDivisionError):
        run(shell, "1 / 0")
    run(shell, "%lambda_history")
    run(shell, "first.payload")
    run(shell, last_cell)
    notebook = nbformat.reads(export("magic"), as_version=4)
    assert [cell.source for cell in notebook.cells[3:]] == [
        '%%lambda_invoke echo -o first --raise\n{"n": 1}',
        "n = first.payload['n'] + 1",
        '%%lambda_invoke echo --raise\n{"n": ${n}}',
    ]
    count = history[0].execution_count
    intro = notebook.cells[0].source
    assert f"In [{count + 2}]: failed" in intro and f"In [{count + 3}]: notebook tooling" in intro
    assert f"In [{count + 4}]: display only" in intro


def test_credentials_are_left_out(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    path = tmp_path / "secret"
    path.write_text(secret)
    path.chmod(0o600)
    run(
        shell,
        f"%lambda_config access_key=AKIAIOSFODNN7EXAMPLE secret_key_path={path}\n"
        "%lambda_invoke echo --payload '{\"id\": 1}' --quiet",
    )
    run(shell, "import os\nos.environ['AWS_SESSION_TOKEN'] = 'token-of-the-session'\nx = 2")
    run(shell, '%%lambda_invoke echo\n{"x": ${x}}')
    text = export("magic")
    for leaked in (secret, "AKIAIOSFODNN7EXAMPLE", str(path), "token-of-the-session"):
        assert leaked not in text
    sources = [cell.source for cell in nbformat.reads(text, as_version=4).cells]
    line = "%lambda_invoke --raise echo --payload '{\"id\": 1}' --quiet"
    assert f"# (credentials: from the environment)\n{line}" in sources
    assert "import os\n# (credentials: from the environment)" in sources  # x = 2 went to the parameters cell


def test_credentials_are_left_out_of_a_cell_with_a_continued_magic(shell: Any, fake: FakeLambda) -> None:
    run(shell, "%lambda_invoke echo --quiet \\\n    --payload '{\"a\": 1}'\n%env AWS_SESSION_TOKEN=token-of-the-cell")
    text = export("magic")
    assert "token-of-the-cell" not in text
    source = nbformat.reads(text, as_version=4).cells[-1].source
    call = "get_ipython().run_line_magic('lambda_invoke', '--raise echo --quiet      --payload \\'{\"a\": 1}\\'')"
    assert source == f"{call}\n# (credentials: from the environment)"


def test_a_call_made_outside_any_cell_becomes_a_magic_cell(fake: FakeLambda) -> None:
    from lambda_magic import invoke

    invoke("echo", {"id": 7}, qualifier="prod", client_context={"env": {"a": "b"}}, invocation_type="Event")
    notebook = nbformat.reads(export("magic"), as_version=4)
    assert notebook.cells[-1].source == (
        '%%lambda_invoke echo -q prod -t Event -c \'{"env": {"a": "b"}}\' --raise\n{"id": 7}'
    )


_ACCESS_KEY = "AKIAEXPORTTESTKEY123"
_SECRET = "exportTestSecretValue0123456789abcdef"


def test_the_notebook_leaves_out_every_line_that_sets_credentials(
    shell: Any, fake: FakeLambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # restored after %env and os.environ change it
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    run(shell, '%%lambda_invoke echo --quiet\n{"n": 1}')
    run(
        shell,
        "import os\n"
        f"os.environ['AWS_SECRET_ACCESS_KEY'] = '{_SECRET}'\n"
        f"%env AWS_ACCESS_KEY_ID={_ACCESS_KEY}\n"
        f"%config LambdaMagic.access_key = '{_ACCESS_KEY}'\n"
        "%config LambdaMagic.access_key = None\n"
        "if True:\n"
        f"    os.environ.update(AWS_SESSION_TOKEN='{_SECRET}')\n"
        "step = 2",
    )
    run(shell, '%%lambda_invoke echo --quiet\n{"n": ${step}}')
    text = export("magic", namespace=shell.user_ns)
    assert _ACCESS_KEY not in text and _SECRET not in text
    notebook = nbformat.reads(text, as_version=4)
    intro = notebook.cells[0].source
    assert "sets credentials (they come from the environment)" in intro
    glue = next(cell.source for cell in notebook.cells if "step = 2" in cell.source)
    compile(glue.replace("%", "#"), "<glue>", "exec")  # still Python: the if-block kept a statement
    code = "\n".join(cell.source for cell in notebook.cells[1:])
    for form in ("os.environ['AWS_", "%env AWS_", "LambdaMagic.access_key", "AWS_SESSION_TOKEN"):
        assert form not in code, form
