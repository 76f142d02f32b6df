"""The quickstart notebook runs top to bottom against the local sandbox (as the README says)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the sandbox runs handlers under awslambdaric, Linux only"
)
def test_quickstart_runs_to_completion(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources=resources).execute()
    outputs = {cell.source.splitlines()[0]: cell.outputs for cell in notebook.cells if cell.cell_type == "code"}
    errors = [
        o
        for cell in notebook.cells
        if "raises-exception" not in cell.metadata.get("tags", [])
        for o in cell.get("outputs", [])
        if o.output_type == "error"
    ]
    assert errors == []
    text = "".join(
        str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for cells in outputs.values() for o in cells
    )
    assert "init" in text and "cold start" in text  # a REPORT line with Init Duration was shown
    assert "('1', 'healthy')" in text  # the prod alias resolved to version 1
    assert "Task timed out after 3.00 seconds" in text
    assert "['healthy', 'degraded', 'healthy']" in text
    assert "stopped; session settings cleared" in text
