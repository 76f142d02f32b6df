"""The Python script export is the prototype's code: cells in order, magics as
``lambda_magic.invoke``/``invoke_many`` calls, chained values read at run time, conditions
kept, parameters as options, every function error fatal, ``--json``, exit codes 0-4.

Sessions are recorded through a real IPython shell against ``FakeLambda``; the exported
scripts run in a subprocess against the same loopback endpoint.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from lambda_magic import ExportError, export, history
from lambda_magic.testing import FakeLambda, Reply

HEALTH = '%%lambda_invoke health_check -q prod -o health\n{"service": "${service}"}'
RESTART_IF_DOWN = (
    'if health.payload["status"] == "down":\n'
    "    %lambda_invoke restart_service -o restart --quiet --payload "
    '\'{"service": "${health.payload["service"]}"}\'\n'
    '    print("restarted", restart.payload["service"])\n'
    "else:\n"
    '    print("no restart")'
)


def run(shell: Any, source: str) -> Any:
    """Run a cell as a notebook does (stored, so it gets an In [n] number)."""
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


def health(status: str) -> Any:
    return lambda call: Reply.ok({"service": call.payload["service"], "status": status})


@pytest.fixture
def incident(shell: Any, fake: FakeLambda) -> Any:
    """A prototype: a parameter, a health check, a restart only if down, a verification."""
    fake.on("health_check", health("down"))
    fake.on("restart_service", lambda call: Reply.ok({"service": call.payload["service"], "restarted": True}))
    run(shell, 'service = "web"')
    run(shell, HEALTH)
    run(shell, RESTART_IF_DOWN)
    run(shell, '%%lambda_invoke echo -o verify\n{"checked": "${health.payload["service"]}"}')
    fake.calls.clear()
    return shell


def script_of(tmp_path: Path, **options: Any) -> Path:
    path = tmp_path / "runbook.py"
    export("python", path=path, **options)
    return path


def run_script(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=60)


def test_the_script_is_the_cells_code_with_magics_as_calls(incident: Any, tmp_path: Path) -> None:
    text = script_of(tmp_path).read_text()
    compile(text, "runbook.py", "exec")
    assert "    service = p.service\n" in text
    assert (
        "    health = lambda_magic.invoke(\n        'health_check',\n"
        "        payload('{\"service\": \"${service}\"}', locals()),\n        qualifier='prod',\n"
        "        raise_on_error=True,\n    )\n"
    ) in text
    assert '    if health.payload["status"] == "down":\n        restart = lambda_magic.invoke(' in text
    assert text.index("# --- In [") < text.index("health = ") < text.index("restart = ") < text.index("verify = ")


def test_a_chained_value_is_read_from_the_earlier_response_not_frozen(
    incident: Any, fake: FakeLambda, tmp_path: Path
) -> None:
    script = script_of(tmp_path)
    fake.on("health_check", lambda call: Reply.ok({"service": "api-7", "status": "down"}))
    done = run_script(script)
    assert done.returncode == 0, done.stderr
    assert [(call.function, call.payload) for call in fake.calls] == [
        ("health_check", {"service": "web"}),
        ("restart_service", {"service": "api-7"}),
        ("echo", {"checked": "api-7"}),
    ]


def test_the_condition_between_steps_stays(incident: Any, fake: FakeLambda, tmp_path: Path) -> None:
    script = script_of(tmp_path)
    fake.on("health_check", health("healthy"))
    done = run_script(script)
    assert done.returncode == 0, done.stderr
    assert [call.function for call in fake.calls] == ["health_check", "echo"]
    assert "no restart" in done.stdout
    fake.calls.clear()
    fake.on("health_check", health("down"))
    assert run_script(script).returncode == 0
    assert [call.function for call in fake.calls] == ["health_check", "restart_service", "echo"]


def test_every_invocation_raises_on_a_function_error(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    run(shell, "%%lambda_invoke flaky -o first\n{}")  # no --raise in the prototype
    run(shell, 'import lambda_magic\nlambda_magic.invoke("api_call", {"n": 1})')
    run(shell, "%%lambda_invoke after\n{}")
    script = script_of(tmp_path)
    fake.calls.clear()
    fake.script("flaky", Reply.function_error("boom"))
    done = run_script(script)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "failed: function flaky failed (Unhandled): ValueError: boom"
    assert [call.function for call in fake.calls] == ["flaky"]
    fake.calls.clear()
    fake.script("api_call", Reply.function_error("api down"))  # a call written as Python in a cell
    done = run_script(script)
    assert done.returncode == 1 and "function api_call failed" in done.stderr
    assert [call.function for call in fake.calls] == ["flaky", "api_call"]


def test_json_prints_one_document_per_step_on_stdout(incident: Any, fake: FakeLambda, tmp_path: Path) -> None:
    done = run_script(script_of(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    documents = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(d["step"], d["function"], d["ok"]) for d in documents] == [
        (1, "health_check", True),
        (2, "restart_service", True),
        (3, "echo", True),
    ]
    assert documents[1]["payload"] == {"service": "web", "restarted": True}
    assert "restarted web" in done.stderr and "step 2: restart_service 200 OK" in done.stderr


@pytest.mark.parametrize(
    ("reply", "status", "message"),
    [
        (Reply.error(404, "ResourceNotFoundException", "Function not found"), 3, "nothing was sent: "),
        (Reply.error(403, "AccessDeniedException", "not allowed"), 3, "nothing was sent: "),
        (Reply.error(500, "ServiceException", "internal"), 4, "outcome unknown: "),
    ],
)
def test_exit_status_says_whether_anything_ran(
    incident: Any, fake: FakeLambda, tmp_path: Path, reply: Reply, status: int, message: str
) -> None:
    script = script_of(tmp_path)
    fake.script("health_check", reply)
    done = run_script(script)
    assert done.returncode == status
    last = done.stderr.splitlines()[-1]
    assert last.startswith(message) and "Traceback" not in done.stderr


def test_bad_arguments_exit_2_in_one_line(incident: Any, fake: FakeLambda, tmp_path: Path) -> None:
    run(incident, 'limits = {"cpu": 2}\n%lambda_invoke echo --quiet --payload \'{"limits": ${limits}}\'')
    script = script_of(tmp_path)
    fake.calls.clear()
    for args in (["--limits", "{not json"], ["--limits", "[1, 2]"], ["--no-such-option"]):
        done = run_script(script, *args)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert fake.calls == []


def test_the_code_failing_exits_1_naming_the_cell(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    run(shell, '%%lambda_invoke echo -o r\n{"n": 1}')
    run(shell, 'assert r.payload["n"] == 1, "unexpected answer"')
    script = script_of(tmp_path)
    fake.script("echo", Reply.ok({"n": 2}))
    done = run_script(script)
    count = history[0].execution_count
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(f"the runbook's code failed in In [{count + 1}] (line ")
    assert done.stderr.splitlines()[-1].endswith("AssertionError: unexpected answer")


def test_literal_assignments_are_options_read_where_they_were(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    run(shell, 'service = "web"\nretries = 3\ntags = ["a"]\nregion = "taken"\nlabel = service.upper()')
    run(
        shell,
        '%%lambda_invoke echo\n{"s": "${service}", "r": ${retries}, "t": ${tags}, "l": "${label}", "x": "${region}"}',
    )
    script = script_of(tmp_path)
    shown = run_script(script, "--help")
    assert shown.returncode == 0
    for option in (
        "--service SERVICE",
        "--retries RETRIES",
        "--tags TAGS",
        "--region-2",
        "--region REGION",
        "--endpoint-url",
        "--json",
    ):
        assert option in shown.stdout
    assert "--label" not in shown.stdout  # computed, not a literal
    fake.calls.clear()
    done = run_script(script, "--service", "api", "--retries", "5", "--tags", '["b", "c"]', "--region-2", "here")
    assert done.returncode == 0, done.stderr
    assert fake.calls[0].payload == {"s": "api", "r": 5, "t": ["b", "c"], "l": "API", "x": "here"}


def test_notebook_values_read_but_never_assigned_are_options(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    shell.user_ns["ticket"] = "T-9"  # defined outside any recorded cell
    run(shell, '%%lambda_invoke echo\n{"ticket": "${ticket}"}')
    script = script_of(tmp_path, namespace=shell.user_ns)
    assert "    ticket = p.ticket\n" in script.read_text()
    fake.calls.clear()
    assert run_script(script, "--ticket", "T-10").returncode == 0
    assert fake.calls[0].payload == {"ticket": "T-10"}

    shell.user_ns["handle"] = object()
    run(shell, '%%lambda_invoke echo\n{"h": "${str(handle)}"}')
    with pytest.raises(UsageError, match=r"read 'handle' \(object\).*not a literal") as info:
        run(shell, "%lambda_export python")
    assert "\n" not in str(info.value)


def test_region_and_endpoint_are_options(incident: Any, fake: FakeLambda, tmp_path: Path) -> None:
    script = script_of(tmp_path)
    with FakeLambda() as other:
        other.on("health_check", health("healthy"))
        done = run_script(script, "--endpoint-url", other.url, "--region", "eu-west-3")
        assert done.returncode == 0, done.stderr
        assert [call.function for call in other.calls] == ["health_check", "echo"]
        assert "/eu-west-3/lambda/" in other.calls[0].headers["authorization"]
    assert fake.calls == []


def test_an_empty_endpoint_means_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_magic import session_settings
    from lambda_magic.runbook import run_script as run_runbook

    seen = []
    status = run_runbook(
        lambda p: seen.append(session_settings().endpoint_url),
        {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:1"},
        "doc",
        ["--endpoint-url", ""],
    )
    assert status == 0 and seen == [None]


def test_credentials_failed_and_display_only_cells_are_left_out_and_listed(
    shell: Any, fake: FakeLambda, tmp_path: Path
) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    run(
        shell,
        f"%env AWS_SECRET_ACCESS_KEY={secret}\nimport os\nos.environ['AWS_ACCESS_KEY_ID'] = 'AKIAIOSFODNN7EXAMPLE'",
    )
    run(shell, "import boto3\nboto3.setup_default_session(aws_access_key_id='AKIAIOSFODNN7EXAMPLE')\nn = 1")
    with pytest.raises(ZeroDivisionError):
        run(shell, "n = 1 / 0")
    run(shell, '%%lambda_invoke echo -o r\n{"n": ${n}}')
    run(shell, "%lambda_history")
    run(shell, 'r.payload, "shown only"')
    run(shell, '%%lambda_invoke echo\n{"again": ${n}}')
    count = history[0].execution_count
    text = script_of(tmp_path).read_text()
    for leaked in (secret, "AKIAIOSFODNN7EXAMPLE", "1 / 0", "shown only", "setup_default_session"):
        assert leaked not in text
    assert f"In [{count - 3}]: a line that sets credentials" in text
    assert f"In [{count - 1}]: failed" in text
    assert f"In [{count + 1}]: notebook tooling" in text and f"In [{count + 2}]: display only" in text
    assert "    import boto3\n    # left out: a line that sets credentials\n    n = p.n\n" in text


def test_a_fan_out_is_invoke_many_in_input_order(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    run(shell, 'items = [{"id": 1}, {"id": 2}, {"id": 3}]')
    run(shell, "%%lambda_invoke echo --each -o results --quiet\n$items")
    run(shell, '%%lambda_invoke echo\n{"ids": ${[r.payload["id"] for r in results]}}')
    script = script_of(tmp_path)
    assert "results = raise_for_errors(lambda_magic.invoke_many('echo', events('$items', locals())))" in (
        script.read_text()
    )
    fake.calls.clear()
    done = run_script(script, "--items", '[{"id": 5}, {"id": 6}]')
    assert done.returncode == 0, done.stderr
    assert fake.calls[-1].payload == {"ids": [5, 6]}


def test_a_call_from_outside_any_cell_becomes_an_invoke_call(fake: FakeLambda, tmp_path: Path) -> None:
    from lambda_magic import invoke

    invoke("echo", {"id": 7}, qualifier="prod", client_context={"env": {"a": "b"}}, invocation_type="Event")
    text = script_of(tmp_path).read_text()
    assert (
        "    lambda_magic.invoke(\n        'echo',\n        '{\"id\": 7}',\n        invocation_type='Event',\n"
        "        qualifier='prod',\n        client_context={'env': {'a': 'b'}},\n        raise_on_error=True,\n"
        "    )\n"
    ) in text
    fake.calls.clear()
    assert run_script(tmp_path / "runbook.py").returncode == 0
    assert fake.calls[0].payload == {"id": 7} and fake.calls[0].qualifier == "prod"


def test_an_export_of_nothing_is_refused(fake: FakeLambda) -> None:
    with pytest.raises(ExportError, match="the history is empty"):
        export("python")


def test_a_star_import_is_imported_by_name(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    run(shell, "from json import *")
    run(shell, '%%lambda_invoke echo\n{"d": ${dumps(1)}}')
    assert "    from json import dumps\n" in script_of(tmp_path, namespace=shell.user_ns).read_text()


def test_a_cell_a_script_cannot_run_is_named(shell: Any, fake: FakeLambda) -> None:
    run(shell, "x = 1")
    run(shell, "global x\nx += 1")
    run(shell, '%%lambda_invoke echo\n{"x": ${x}}')
    count = history[0].execution_count
    with pytest.raises(UsageError, match=rf"^In \[{count - 1}\] cannot run in the exported script \(name 'x'"):
        run(shell, "%lambda_export python")
