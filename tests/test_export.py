"""Export to a Rundeck job, a Python script and a notebook: structure, fidelity, no secrets.

A session is recorded through a real IPython shell against ``FakeLambda``; each format is
parsed back and compared with the recorded requests, and the script, the Rundeck steps (with
the AWS CLI when installed) and the notebook are run against the same loopback endpoint.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from IPython.core.error import UsageError

from lambda_magic import ExportError, HistoryError, export, history
from lambda_magic.testing import FakeLambda, Reply

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"

HEALTH_CELL = (
    "%%lambda_invoke health_check -q prod -o health -c '{\"custom\": {\"runbook\": \"restart\"}}'\n"
    '{"service": "${service}", "incident": ${incident}, "note": "costs $${x}"}'
)
RESTART_CELL = (
    "%lambda_invoke restart_service -o restart --quiet --payload "
    "'{\"service\": \"${health.payload[\"service\"]}\", \"reason\": \"status ${health.payload[\"status\"]}\"}'"
)
NOTIFY_CELL = 'import lambda_magic\nlambda_magic.invoke("notify", {"text": "done"}, invocation_type="Event")'


def run(shell: Any, source: str) -> Any:
    """Run a cell as a notebook does (stored, so it gets an In [n] number)."""
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


@pytest.fixture
def session(shell: Any, fake: FakeLambda) -> Any:
    """Three invocations: a cell magic with ${} values and a client context, a line magic
    chained on its response, and an asynchronous API call."""
    fake.on("health_check", lambda call: Reply.ok({"service": call.payload["service"], "status": "down"}))
    fake.on("restart_service", lambda call: Reply.ok({"service": call.payload["service"], "restarted": True}))
    run(shell, 'service = "web \\"eu\\""\nincident = {"id": 42, "sev": 2}')
    run(shell, HEALTH_CELL)
    run(shell, RESTART_CELL)
    run(shell, NOTIFY_CELL)
    assert [entry.ok for entry in history] == [True, True, True]
    fake.calls.clear()
    return shell


def sent_payloads(fake: FakeLambda) -> list[tuple[str, Any]]:
    return [(call.function, call.payload) for call in fake.calls]


def recorded_payloads() -> list[tuple[str, Any]]:
    return [(entry.function, json.loads(entry.request.payload)) for entry in history]


# --- Rundeck: tests/test_export_rundeck.py runs the jobs through a model of Rundeck ----------


def job_of(text: str) -> dict[str, Any]:
    jobs = yaml.safe_load(text)
    assert isinstance(jobs, list) and len(jobs) == 1
    return jobs[0]


# --- Python ----------------------------------------------------------------------------


def test_python_script_reproduces_the_payloads_and_stops_at_a_failure(
    session: Any, fake: FakeLambda, tmp_path: Path
) -> None:
    script = tmp_path / "runbook.py"
    export("python", path=script)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sent_payloads(fake) == recorded_payloads()
    assert [call.qualifier for call in fake.calls] == ["prod", None, None]
    context = json.loads(base64.b64decode(fake.calls[0].headers["x-amz-client-context"]))
    assert context == {"custom": {"runbook": "restart"}}

    fake.calls.clear()
    fake.script("restart_service", Reply.function_error("cannot restart"))
    failed = subprocess.run([sys.executable, str(script), "--service", "api"],
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "step 2/3 restart_service failed (Unhandled): ValueError: cannot restart" in failed.stderr
    assert [call.function for call in fake.calls] == ["health_check", "restart_service"]
    assert fake.calls[0].payload["service"] == "api"


def test_python_script_takes_the_values_as_options(session: Any, tmp_path: Path) -> None:
    script = tmp_path / "runbook.py"
    export("python", path=script, name="Restart web")
    shown = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "Restart web: 3 AWS Lambda invocations" in shown.stdout
    for option in ("--region", "--service", "--incident", "--health-payload-service", "--endpoint-url"):
        assert option in shown.stdout
    bad = subprocess.run([sys.executable, str(script), "--incident", "{not json"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--incident" in bad.stderr
    compile(script.read_text(), str(script), "exec")


# --- magic (notebook) ------------------------------------------------------------------


def test_magic_export_is_a_clean_notebook_of_the_cells(session: Any, tmp_path: Path, fake: FakeLambda) -> None:
    path = tmp_path / "runbook.ipynb"
    run(session, f"%lambda_export magic -o {path} --name 'Restart web'")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    sources = [cell.source for cell in notebook.cells]
    assert notebook.cells[0].cell_type == "markdown" and sources[0].startswith("# Restart web")
    assert sources[1:3] == ["%load_ext lambda_magic", f"%lambda_config region=us-east-1 endpoint_url={fake.url}"]
    assert notebook.cells[3].metadata["tags"] == ["parameters"]
    assert sources[3].splitlines()[1:] == ["service = 'web \"eu\"'", "incident = {'id': 42, 'sev': 2}"]
    assert sources[4:] == [HEALTH_CELL, RESTART_CELL, NOTIFY_CELL]
    assert all(cell.get("outputs", []) == [] and cell.get("execution_count") is None for cell in notebook.cells)


def test_exported_notebook_runs_and_sends_the_same_payloads(session: Any, fake: FakeLambda, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    notebook = nbformat.reads(export("magic"), as_version=4)
    NotebookClient(notebook, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert sent_payloads(fake) == recorded_payloads()


def test_cells_between_the_steps_come_along_unless_they_failed_or_only_show(
    shell: Any, fake: FakeLambda
) -> None:
    first_cell, last_cell = '%%lambda_invoke echo -o first\n{"n": 1}', '%%lambda_invoke echo\n{"n": ${n}}'
    run(shell, first_cell)
    run(shell, "n = first.payload['n'] + 1")
    with pytest.raises(ZeroDivisionError):
        run(shell, "1 / 0")
    run(shell, "%lambda_history")
    run(shell, last_cell)
    run(shell, "after = 'the last step'")
    notebook = nbformat.reads(export("magic"), as_version=4)
    assert [cell.source for cell in notebook.cells[3:]] == [first_cell, "n = first.payload['n'] + 1", last_cell]
    assert [call.payload for call in fake.calls] == [{"n": 1}, {"n": 2}]


def test_a_call_made_outside_any_cell_becomes_a_magic_cell(fake: FakeLambda) -> None:
    from lambda_magic import invoke

    invoke("echo", {"id": 7}, qualifier="prod", client_context={"env": {"a": "b"}}, invocation_type="Event")
    notebook = nbformat.reads(export("magic"), as_version=4)
    assert notebook.cells[-1].source == (
        "%%lambda_invoke echo -q prod -t Event -c '{\"env\": {\"a\": \"b\"}}' --raise\n{\"id\": 7}"
    )


# --- fan-out ---------------------------------------------------------------------------


def test_a_fan_out_exports_one_step_per_invocation_and_its_cell_once(shell: Any, fake: FakeLambda) -> None:
    run(shell, 'items = [{"id": 1}, {"id": 2}]')
    run(shell, "%%lambda_invoke echo --each -o results --quiet\n$items")
    job = job_of(export("rundeck"))
    assert len(job["sequence"]["commands"]) == 2
    assert sorted(option["name"] for option in job["options"]) == [
        "aws_access_key", "aws_region", "aws_secret_key", "items_0", "items_1"]
    notebook = nbformat.reads(export("magic", namespace=shell.user_ns), as_version=4)
    sources = [cell.source for cell in notebook.cells]
    assert sources.count("%%lambda_invoke echo --each -o results --quiet\n$items") == 1
    assert "items = [{'id': 1}, {'id': 2}]" in sources[3]


# --- secrets ---------------------------------------------------------------------------


def test_no_export_contains_the_secret(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o600)
    run(shell, f"%lambda_config access_key={ACCESS_KEY} secret_key_path={secret_file}\n"
               '%lambda_invoke echo --payload \'{"id": 1}\' --quiet')
    run(shell, '%%lambda_invoke echo -q prod\n{"id": 2}')
    for form, name in (("rundeck", "job.yaml"), ("python", "runbook.py"), ("magic", "runbook.ipynb")):
        run(shell, f"%lambda_export {form} -o {tmp_path / name}")
        text = (tmp_path / name).read_text()
        assert SECRET not in text and ACCESS_KEY not in text and str(secret_file) not in text
        assert "echo" in text


def test_an_export_that_would_contain_the_secret_is_refused(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o600)
    shell.user_ns["leaked"] = SECRET
    run(shell, f"%lambda_config access_key={ACCESS_KEY} secret_key_path={secret_file}")
    run(shell, '%%lambda_invoke echo\n{"token": "${leaked}"}')
    with pytest.raises(UsageError, match="would contain a credential of this session"):
        run(shell, "%lambda_export python")


# --- choices and errors ----------------------------------------------------------------


def test_no_endpoint_leaves_the_endpoint_out(session: Any, fake: FakeLambda) -> None:
    for form in ("rundeck", "python", "magic"):
        assert fake.url not in export(form, endpoint=False)
    assert "--endpoint-url" not in export("rundeck", endpoint=False)


def test_selection_and_failed_entries(shell: Any, fake: FakeLambda) -> None:
    fake.script("fail", Reply.function_error("nope"))
    run(shell, "%lambda_invoke echo --payload '{\"n\": 1}' --quiet")
    run(shell, "%lambda_invoke fail --quiet")
    run(shell, "%lambda_invoke echo --payload '{\"n\": 3}' --quiet")
    first, failed, third = (entry.index for entry in history)
    assert len(job_of(export("rundeck"))["sequence"]["commands"]) == 2  # the failed one left out
    assert len(job_of(export("rundeck", f"{third}"))["sequence"]["commands"]) == 1
    with pytest.raises(ExportError, match=rf"entry {failed} failed in the notebook.*--include-failed"):
        export("rundeck", f"{first}-{third}")
    job = job_of(export("rundeck", [first, failed], include_failed=True))
    assert [c["description"].split()[1] for c in job["sequence"]["commands"]] == ["echo", "fail"]
    assert len(job_of(export("rundeck", list(history)[:1]))["sequence"]["commands"]) == 1  # entries


@pytest.mark.parametrize(("line", "message"), [
    ("yaml", "unknown export format 'yaml': use rundeck, python, magic"),
    ("rundeck 1-x", "bad entry selection '1-x'"),
    ("rundeck 999", "no entry 999 in the history"),
    ("rundeck -o /nonexistent/dir/job.yaml", "cannot write '/nonexistent/dir/job.yaml'"),
])
def test_export_errors_are_one_line_usage_errors(shell: Any, fake: FakeLambda, line: str, message: str) -> None:
    run(shell, "%lambda_invoke echo --quiet")
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("lambda_export", line)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_nothing_to_export() -> None:
    with pytest.raises(ExportError, match="the history is empty"):
        export("rundeck")
    with pytest.raises(HistoryError, match="no entry 1"):
        export("rundeck", "1")


def test_only_failures_to_export(fake: FakeLambda) -> None:
    from lambda_magic import invoke

    fake.script("fail", Reply.function_error("nope"))
    invoke("fail")
    with pytest.raises(ExportError, match=r"no successful invocation.*--include-failed"):
        export("python")
    assert "'function': 'fail'" in export("python", include_failed=True, entries=[history[0].index])
