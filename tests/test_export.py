"""Export: choosing entries, refusing secrets and bad selections, and the Rundeck job.

A session is recorded through a real IPython shell against ``FakeLambda``; the Rundeck job
is parsed back and compared with the recorded requests, and its steps run with the AWS CLI
(when installed) against the same loopback endpoint. The Python script and the notebook
have their own tests (``test_export_python``, ``test_export_notebook``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
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


# --- Rundeck ---------------------------------------------------------------------------


def job_of(text: str) -> dict[str, Any]:
    jobs = yaml.safe_load(text)
    assert isinstance(jobs, list) and len(jobs) == 1
    return jobs[0]


def invoke_words(script: str) -> list[str]:
    """The ``aws lambda invoke`` command of a step's script, as the shell splits it."""
    joined = script.replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if "aws lambda invoke" in line)
    words = shlex.split(line[line.index("AWS_MAX_ATTEMPTS=1"):])
    assert words[:4] == ["AWS_MAX_ATTEMPTS=1", "aws", "lambda", "invoke"] and words[-1] == "$out)"
    return words[4:-1]


def step_values(command: dict[str, Any], options: dict[str, Any]) -> dict[str, str]:
    """The script's ``$opt_*`` variables as Rundeck would fill them from the options."""
    names = re.findall(r"\$\{option\.(\w+)\}", command.get("args", ""))
    values = {}
    for position, name in enumerate(names, start=1):
        default = options[name]["value"]
        escaped = f'opt_{name}=$(json_text "${position}")' in command["script"]
        values[f"opt_{name}"] = json.dumps(default)[1:-1] if escaped else default
    return values


def _filled(word: str, values: dict[str, str]) -> str:
    """A shell word with the script's ``$opt_*`` variables replaced by their values."""
    return re.sub(r"\$(opt_\w+)", lambda match: values[match.group(1)], word)


def test_rundeck_job_has_the_job_yaml_structure(session: Any) -> None:
    job = job_of(export("rundeck", name="Restart web"))
    assert job["name"] == "Restart web" and "credentials" in job["description"]
    assert job["sequence"]["keepgoing"] is False and job["sequence"]["strategy"] == "node-first"
    commands = job["sequence"]["commands"]
    assert len(commands) == 3
    assert all(set(command) <= {"description", "script", "args"} for command in commands)
    assert commands[0]["description"].startswith("1. health_check:prod (RequestResponse) from In [")
    assert all(command["script"].startswith("#!/bin/sh\n") for command in commands)


def test_every_step_matches_its_recorded_invocation(session: Any, fake: FakeLambda) -> None:
    job = job_of(export("rundeck"))
    options = {option["name"]: option for option in job["options"]}
    for command, entry in zip(job["sequence"]["commands"], history, strict=True):
        words = invoke_words(command["script"])
        flags = dict(zip(words[::2], words[1::2], strict=True))
        values = step_values(command, options)
        request = entry.request
        assert flags["--function-name"] == request.function_name
        assert flags.get("--qualifier") == request.qualifier
        assert flags["--invocation-type"] == request.invocation_type
        context = flags.get("--client-context")
        assert (json.loads(base64.b64decode(context)) if context else None) == request.client_context
        # the log tail as the notebook asked for it: Tail on synchronous calls
        assert flags["--log-type"] == ("Tail" if request.invocation_type == "RequestResponse" else "None")
        assert flags["--cli-binary-format"] == "raw-in-base64-out"
        assert json.loads(_filled(flags["--payload"], values)) == json.loads(request.payload)
        assert int(flags["--cli-read-timeout"]) > 900 and int(flags["--cli-connect-timeout"]) > 0
        assert _filled(flags["--region"], values) == "us-east-1"
        assert flags["--endpoint-url"] == fake.url
        assert flags["--query"] == "[FunctionError, LogResult]" and flags["--output"] == "text"


def test_notebook_values_become_options_with_their_defaults(session: Any) -> None:
    job = job_of(export("rundeck"))
    options = {option["name"]: option for option in job["options"]}
    assert list(options) == ["region", "service", "incident", "health_payload_service", "health_payload_status"]
    assert options["region"]["value"] == "us-east-1"
    assert options["service"]["value"] == 'web "eu"'  # the text itself; the step escapes it
    assert json.loads(options["incident"]["value"]) == {"id": 42, "sev": 2}
    assert options["health_payload_status"]["value"] == "down"
    assert '${health.payload["service"]}' in options["health_payload_service"]["description"]
    commands = job["sequence"]["commands"]
    assert commands[0]["args"] == "${option.region} ${option.service} ${option.incident}"
    assert commands[1]["args"] == "${option.region} ${option.health_payload_service} ${option.health_payload_status}"
    assert commands[2]["args"] == "${option.region}"


def _aws_cli(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``aws`` is the AWS CLI; v1 gets a shim dropping v2's
    ``--cli-binary-format`` (v1 sends ``--payload`` as it is anyway)."""
    real = shutil.which("aws")
    if real is None:
        pytest.skip("the AWS CLI is not installed")
    env = dict(os.environ)
    version = subprocess.run([real, "--version"], capture_output=True, text=True, env=env)
    if (version.stdout + version.stderr).startswith("aws-cli/1."):
        shim = tmp_path / "bin" / "aws"
        shim.parent.mkdir()
        shim.write_text(
            f"#!{sys.executable}\nimport os, sys\nargs = sys.argv[1:]\n"
            "if '--cli-binary-format' in args:\n    i = args.index('--cli-binary-format')\n    del args[i:i + 2]\n"
            f"os.execv({real!r}, [{real!r}, *args])\n"
        )
        shim.chmod(0o755)
        env["PATH"] = f"{shim.parent}{os.pathsep}{env['PATH']}"
    return env


def _run_job(job: dict[str, Any], env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """Run the job's steps as Rundeck would (keepgoing: false): stop at the first failure."""
    options = {option["name"]: option["value"] for option in job["options"]}
    results = []
    for command in job["sequence"]["commands"]:
        args = [options[name] for name in re.findall(r"\$\{option\.(\w+)\}", command.get("args", ""))]
        results.append(subprocess.run(["sh", "-c", command["script"], "step", *args],
                                      capture_output=True, text=True, env=env, timeout=60))
        if results[-1].returncode != 0:
            break
    return results


def test_rundeck_steps_run_with_the_aws_cli_and_fail_on_a_function_error(
    session: Any, fake: FakeLambda, tmp_path: Path
) -> None:
    env = _aws_cli(tmp_path)
    job = job_of(export("rundeck"))
    results = _run_job(job, env)
    assert [result.returncode for result in results] == [0, 0, 0], results[-1].stderr
    assert sent_payloads(fake) == recorded_payloads()
    assert json.loads(results[1].stdout.splitlines()[0]) == {"service": 'web "eu"', "restarted": True}

    fake.calls.clear()
    fake.script("restart_service", Reply.function_error("cannot restart", log="START\nboom\nEND\n"))
    results = _run_job(job, env)
    assert [result.returncode for result in results] == [0, 1]
    assert "step 2 (restart_service) failed: Unhandled function error" in results[1].stderr
    assert "cannot restart" in results[1].stdout and "boom" in results[1].stdout  # payload, log tail
    assert [call.function for call in fake.calls] == ["health_check", "restart_service"]


# --- fan-out ---------------------------------------------------------------------------


def test_a_fan_out_exports_one_step_per_invocation_and_its_cell_once(shell: Any, fake: FakeLambda) -> None:
    run(shell, 'items = [{"id": 1}, {"id": 2}]')
    run(shell, "%%lambda_invoke echo --each -o results --quiet\n$items")
    job = job_of(export("rundeck"))
    assert len(job["sequence"]["commands"]) == 2
    assert sorted(option["name"] for option in job["options"]) == ["items_0", "items_1", "region"]
    notebook = nbformat.reads(export("magic", namespace=shell.user_ns), as_version=4)
    sources = [cell.source for cell in notebook.cells]
    assert sources.count("%%lambda_invoke echo --each -o results --quiet --raise\n$items") == 1
    assert "items = [{'id': 1}, {'id': 2}]" in sources[1]


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
    assert "lambda_magic.invoke('fail', None" in export("python", include_failed=True, entries=[history[0].index])
