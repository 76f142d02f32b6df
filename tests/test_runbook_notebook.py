"""notebooks/runbook_prototyping.ipynb, the incident, runs top to bottom against the sandbox
(nbclient), and its exports behave like it: run as a script (subprocess) and as a notebook
(nbclient, parameters injected after the ``parameters`` cell as papermill does), a healthy
service is not restarted and a down one is, and the restart's request id (different on every
run) reaches the notification of that run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "runbook_prototyping.ipynb"
SANDBOX_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """The prototype run once by nbclient (it exports to a temporary folder), and the
    executed notebook; skips (saying why) where the sandbox cannot run."""
    from nbclient import NotebookClient

    from lambda_magic.sandbox import Sandbox

    try:
        Sandbox(port=0).start().stop()
    except Exception as exc:  # SandboxError, or the runtime missing on this platform
        pytest.skip(f"the sandbox cannot start here: {exc}")
    out = tmp_path_factory.mktemp("exports")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    env = {"RUNBOOK_EXPORT_DIR": str(out)}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # the kernel inherits it
    try:
        NotebookClient(
            notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
        ).execute()
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    yield out, notebook


def run_script(script: Path, sandbox: Any, *options: str) -> tuple[int, list[dict[str, Any]], str]:
    env = {**os.environ, **SANDBOX_CREDENTIALS}
    done = subprocess.run(
        [sys.executable, str(script), "--endpoint-url", sandbox.endpoint_url, "--json", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_the_prototype_runs_and_exports(exported: tuple[Path, Any]) -> None:
    out, notebook = exported
    history_cell = next(cell for cell in notebook.cells if cell.source == "%lambda_history")
    table = history_cell.outputs[0]["data"]["text/plain"]
    assert table.count("In [") == 4 and " NO " not in table
    last = next(cell for cell in reversed(notebook.cells) if "simulate_now" in cell.source)
    shown = "".join(output.get("text", "") for output in last.outputs)
    assert "simulate=down: exit 0, health_check -> restart_service -> health_check -> echo" in shown
    assert "simulate=healthy: exit 0, health_check -> health_check -> echo" in shown
    for path in out.iterdir():
        text = path.read_text()
        assert "access_key=sandbox" not in text and "SANDBOX_SECRET" not in text  # %lambda_sandbox sets both


def test_the_script_restarts_a_down_service_and_not_a_healthy_one(
    exported: tuple[Path, Any], demo_sandbox: Any
) -> None:
    script = exported[0] / "restart_service.py"
    status, steps, errors = run_script(script, demo_sandbox)
    assert status == 0, errors
    assert [step["function"] for step in steps] == ["health_check", "restart_service", "health_check", "echo"]
    for simulate in ("healthy", "degraded"):
        status, steps, errors = run_script(script, demo_sandbox, "--simulate", simulate)
        assert status == 0, errors
        assert [step["function"] for step in steps] == ["health_check", "health_check", "echo"]
        assert steps[-1]["payload"]["event"]["restart_request"] is None


def test_a_response_value_that_changes_between_runs_reaches_the_next_step(
    exported: tuple[Path, Any], demo_sandbox: Any
) -> None:
    script = exported[0] / "restart_service.py"
    seen = []
    for _ in range(2):
        status, steps, errors = run_script(script, demo_sandbox, "--service", "api")
        assert status == 0, errors
        restart, notify = steps[1], steps[-1]
        assert restart["payload"]["service"] == "api"
        assert notify["payload"]["event"]["restart_request"] == restart["payload"]["request_id"]
        seen.append(restart["payload"]["request_id"])
    assert seen[0] != seen[1]


def _run_exported_notebook(path: Path, sandbox: Any, tmp_path: Path, **parameters: Any) -> dict[str, Any]:
    """Run the exported notebook with ``parameters`` injected after its parameters cell (as
    papermill does), and read what its kernel invoked and notified."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    at = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    injected = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "import json\nprint(json.dumps({'functions': [e.function for e in lambda_magic.history], "
            "'restart_id': restart_id, 'notified': notified.payload['event']}))"
        )
    )
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return json.loads(notebook.cells[-1].outputs[0]["text"])


def test_the_exported_notebook_restarts_only_a_down_service(
    exported: tuple[Path, Any], demo_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SANDBOX_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    path = exported[0] / "restart_service.ipynb"
    down = _run_exported_notebook(path, demo_sandbox, tmp_path, endpoint_url=demo_sandbox.endpoint_url)
    assert down["functions"] == ["health_check", "restart_service", "health_check", "echo"]
    assert down["notified"]["restart_request"] == down["restart_id"] is not None
    again = _run_exported_notebook(path, demo_sandbox, tmp_path, endpoint_url=demo_sandbox.endpoint_url)
    assert again["notified"]["restart_request"] == again["restart_id"] != down["restart_id"]
    healthy = _run_exported_notebook(
        path, demo_sandbox, tmp_path, endpoint_url=demo_sandbox.endpoint_url, simulate="healthy"
    )
    assert healthy["functions"] == ["health_check", "health_check", "echo"]
    assert healthy["restart_id"] is None and healthy["notified"]["restart_request"] is None
