"""Export: choosing entries, refusing secrets and bad selections, and the Rundeck job.

A session is recorded through a real IPython shell against ``FakeLambda``. The Rundeck job's
own tests (``test_export_rundeck``) run it through a model of Rundeck with the AWS CLI v2;
the Python script and the notebook have theirs (``test_export_python``, ``test_export_notebook``).
"""

from __future__ import annotations

import json
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
    '%%lambda_invoke health_check -q prod -o health -c \'{"custom": {"runbook": "restart"}}\'\n'
    '{"service": "${service}", "incident": ${incident}, "note": "costs $${x}"}'
)
RESTART_CELL = (
    "%lambda_invoke restart_service -o restart --quiet --payload "
    '\'{"service": "${health.payload["service"]}", "reason": "status ${health.payload["status"]}"}\''
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


# --- fan-out ---------------------------------------------------------------------------


def test_a_fan_out_exports_one_step_per_invocation_and_its_cell_once(shell: Any, fake: FakeLambda) -> None:
    run(shell, 'items = [{"id": 1}, {"id": 2}]')
    run(shell, "%%lambda_invoke echo --each -o results --quiet\n$items")
    job = job_of(export("rundeck"))
    assert len(job["sequence"]["commands"]) == 2
    assert sorted(option["name"] for option in job["options"]) == [
        "aws_access_key",
        "aws_region",
        "aws_secret_key",
        "items",
    ]
    notebook = nbformat.reads(export("magic", namespace=shell.user_ns), as_version=4)
    sources = [cell.source for cell in notebook.cells]
    assert sources.count("%%lambda_invoke echo --each -o results --quiet --raise\n$items") == 1
    assert "items = [{'id': 1}, {'id': 2}]" in sources[1]


# --- secrets ---------------------------------------------------------------------------


def test_no_export_contains_the_secret(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o600)
    run(
        shell,
        f"%lambda_config access_key={ACCESS_KEY} secret_key_path={secret_file}\n"
        "%lambda_invoke echo --payload '{\"id\": 1}' --quiet",
    )
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
    for form in ("python", "magic"):
        assert fake.url not in export(form, endpoint=False, namespace=session.user_ns)
    # the session's last cell is code (an API call): the job runs the script
    assert fake.url not in export("rundeck", endpoint=False, namespace=session.user_ns, as_script=True)


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


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("yaml", "unknown export format 'yaml': use rundeck, python, magic"),
        ("rundeck 1-x", "bad entry selection '1-x'"),
        ("rundeck 999", "no entry 999 in the history"),
        ("rundeck -o /nonexistent/dir/job.yaml", "cannot write '/nonexistent/dir/job.yaml'"),
    ],
)
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
    assert "lambda_magic.invoke('fail', None" in export("python", include_failed=True, entries=[history[0].index])
