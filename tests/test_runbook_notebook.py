"""notebooks/runbook_prototyping.ipynb runs top to bottom against the sandbox (nbclient),
and its three exports are written, well formed and free of credentials."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "runbook_prototyping.ipynb"


@pytest.fixture(scope="module")
def sandbox_works() -> None:
    """Skip (saying why) where the sandbox cannot run, e.g. without awslambdaric's wheels."""
    from lambda_magic.sandbox import Sandbox

    try:
        Sandbox(port=0).start().stop()
    except Exception as exc:  # SandboxError, or the runtime missing on this platform
        pytest.skip(f"the sandbox cannot start here: {exc}")


def test_runbook_notebook_runs_and_exports(
    sandbox_works: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("RUNBOOK_EXPORT_DIR", str(out))  # the kernel inherits it
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    history_cell = next(cell for cell in notebook.cells if cell.source == "%lambda_history")
    table = history_cell.outputs[0]["data"]["text/plain"]
    assert table.count("In [") == 7 and " NO " not in table

    job = yaml.safe_load((out / "restart_service.rundeck.yaml").read_text())[0]
    # --as-script: the restart's condition is code, so the job runs the Python export
    assert job["name"] == "Restart an unhealthy service" and len(job["sequence"]["commands"]) == 1
    assert {"aws_access_key", "aws_secret_key", "aws_region", "incident_id"} <= {o["name"] for o in job["options"]}
    compile((out / "restart_service.py").read_text(), "restart_service.py", "exec")
    exported = nbformat.read(out / "restart_service.ipynb", as_version=4)
    nbformat.validate(exported)
    assert any("--each" in cell.source for cell in exported.cells)
    for path in out.iterdir():
        text = path.read_text()
        assert "access_key=sandbox" not in text and "SANDBOX_SECRET" not in text  # %lambda_sandbox sets both
