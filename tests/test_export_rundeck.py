"""The Rundeck export, run as Rundeck runs it: every job goes through ``rundeck_model``
(import, option values, token expansion, argument quoting and the ``sh -c`` line, the RD_*
environment, the Key Value Data filter) and its steps run for real with the AWS CLI v2
(``/usr/bin/aws``) and ``python3``, against the sandbox or, for throttling and errors that
the sandbox does not make, the loopback ``FakeLambda``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rundeck_model
from IPython.core.error import UsageError
from rundeck_model import import_job, run_job

from lambda_magic import ExportError, export, history, session_settings
from lambda_magic.runbook._rundeck import KEY_VALUE_FILTER
from lambda_magic.testing import FakeLambda, Reply

AWS_V2 = "/usr/bin/aws"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#: What the job is given to run: the access key option and the secret in Key Storage.
NODE_KEY = "AKIANODEOWNCREDENTIAL"
CREDENTIALS = {"options": {"aws_access_key": ACCESS_KEY}, "key_storage": {"keys/aws/secret_key": SECRET}}


def run(shell: Any, source: str) -> Any:
    """Run a cell as a notebook does (stored, so it gets an In [n] number)."""
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


@pytest.fixture(scope="module")
def aws_cli_v2() -> str:
    """The AWS CLI v2 the steps need; skip with the install command (never under CI)."""
    found = Path(AWS_V2).exists() and subprocess.run(
        [AWS_V2, "--version"], capture_output=True, text=True
    ).stdout.startswith("aws-cli/2.")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AWS_V2} is not the AWS CLI v2: CI must install it (apt-get install awscli)")
        pytest.skip(f"needs the AWS CLI v2 at {AWS_V2}: apt-get install awscli (Debian's package is v2)")
    return AWS_V2


@pytest.fixture
def node(tmp_path: Path, aws_cli_v2: str) -> dict[str, str]:
    """The node's environment: the AWS CLI v2 and python3 on PATH, credentials of its own
    (``AKIANODE...``: a job's options override them), no AWS config, no instance metadata."""
    bin_dir = tmp_path / "node-bin"
    bin_dir.mkdir()
    (bin_dir / "aws").symlink_to(aws_cli_v2)
    (bin_dir / "python3").symlink_to(shutil.which("python3", path="/usr/bin") or sys.executable)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-creds"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": NODE_KEY,
        "AWS_SECRET_ACCESS_KEY": "node-secret",
    }


@pytest.fixture
def sandbox(demo_sandbox: Any, aws_env: None) -> Iterator[Any]:
    """The session invokes the demo sandbox."""
    session_settings().update(endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region)
    yield demo_sandbox


def job_text(shell: Any, *entries: Any, **options: Any) -> str:
    """The session's Rundeck export, with the notebook's values (as %lambda_export has them)."""
    return export("rundeck", *entries, namespace=shell.user_ns, **options)


def stdout_json(step: rundeck_model.StepRun) -> Any:
    """The response payload a step printed (its first line)."""
    return json.loads(step.stdout.splitlines()[0])


# --- the model agrees with Rundeck's own tests (cases from the rundeck/rundeck test sources) ----

TOKENS = {"value1": "a value", "value2": "b value", "value3": "c value"}


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # ReplaceTokenReaderTest.java (blankIfMissing true, as scripts are expanded)
        ("@value1@, @value2@, @value3@", "a value, b value, c value"),
        ("@value1@@valueDNE@@value3@", "a valuec value"),
        ("@value1monkeypotato", "@value1monkeypotato"),
        ("abc xyz@@value2@", "abc xyz@value2@"),
        ("abc xyz\\@asdf@value2@", "abc xyz\\value2@"),
        ("abc xyz@value2\\@", "abc xyz"),
        ("TEST @@monkey something", "TEST @monkey something"),
        ("abc @value2", "abc @value2"),
        ("abc @@@value2", "abc @@value2"),
        ("some data @value1\nline 2 @value2@\n", "some data @value1\nline 2 b value\n"),
        # and what the export relies on: every @ doubled comes out as it was written
        ("ops@@example.com @@@@ @@value1@@", "ops@example.com @@ @value1@"),
    ],
)
def test_model_token_expansion(script: str, expected: str) -> None:
    assert rundeck_model.expand_tokens(script, TOKENS) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # QuotedStringTokenizerTest.java
        ("abc def", ["abc", "def"]),
        ('"ab""c def"', ['ab"c def']),
        ("'a''bc def'", ["a'bc def"]),
        (
            "abc \"123 45\" elbow 'sized' 'shrimp food' \"scurry 'donut' slef\"",
            ["abc", "123 45", "elbow", "sized", "shrimp food", "scurry 'donut' slef"],
        ),
        ("abc \"\" def '' xyz", ["abc", "", "def", "", "xyz"]),
        (
            '-whitespaces     "string    with   white space" -arg1 one   ',
            ["-whitespaces", "string    with   white space", "-arg1", "one"],
        ),
    ],
)
def test_model_argument_splitting(args: str, expected: list[str]) -> None:
    assert rundeck_model.burst(args) == expected


@pytest.mark.parametrize(
    ("arg", "context", "expected"),
    [
        # ExecArgListTest.java (quoted arguments, as script arguments with a reference are)
        ("${option.test}", {"option": {"test": "test1"}}, "test1"),
        ("${option.test}", {"option": {"test": "test with blank"}}, "'test with blank'"),
        ("${option.test2}", {"option": {"test": "test1"}}, ""),
        ("${node.blah}", {"node": {"name": "node1"}}, "'${node.blah}'"),
        # quoteUnixShellArg leaves these unquoted: in the sh -c line they are a comment, a glob
        ("${data.x}", {"data": {"x": "#x"}}, "#x"),
        ("${data.x}", {"data": {"x": "[1]"}}, "[1]"),
        ("${data.x}", {"data": {"x": "it's"}}, "'it'\"'\"'s'"),
    ],
)
def test_model_argument_expansion_and_quoting(arg: str, context: dict[str, dict[str, str]], expected: str) -> None:
    assert rundeck_model.command_line("/s.sh", arg, context)[2] == f"/s.sh {expected}"  # "" leaves "/s.sh "


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # KeyValueDataLogFilterPluginSpec.groovy
        ([".*"], {}),
        (["RUNDECK:DATA:wimple=zangief"], {"wimple": "zangief"}),
        (["RUNDECK:DATA:wimple="], {}),  # an empty value is never captured
        (["RUNDECK:DATA:=asdf"], {}),
        (["RUNDECK:DATA:awayward wingling samzait = bogarting: sailboat heathen"], {}),
        # what the export prints: JSON, never empty, ASCII
        (['RUNDECK:DATA:restart_payload_service = "web \\"eu\\""'], {"restart_payload_service": '"web \\"eu\\""'}),
        (['RUNDECK:DATA:x = "a\u2028b"'], {}),  # Java's . stops at a line separator
    ],
)
def test_model_key_value_data(lines: list[str], expected: dict[str, str]) -> None:
    assert rundeck_model.key_value_data(KEY_VALUE_FILTER["config"], lines) == expected


def test_model_yaml_reads_like_snakeyaml() -> None:
    job = import_job(
        "- name: 1e3\n  options:\n  - {name: a, value: 1e3}\n  - {name: b, value: ''}\n"
        "  - {name: c, value: 'on'}\n  - {name: d, value: on}\n"
        "  sequence: {commands: [{script: 'true'}]}\n"
    )
    assert job.name == "1000.0"
    assert [option.value for option in job.options] == ["1000.0", None, "on", "true"]


# --- one step per invocation, chained through Key Value Data ---------------------------------


def test_linear_prototype_chains_a_value_that_changes_between_runs(
    shell: Any, sandbox: Any, node: dict[str, str]
) -> None:
    run(shell, 'svc = "web"')
    run(shell, '%%lambda_invoke restart_service -o restart --quiet\n{"service": "${svc}"}')
    run(
        shell,
        "%%lambda_invoke echo -o confirm --quiet\n"
        '{"request": "${restart.payload["request_id"]}", "service": "${restart.payload["service"]}"}',
    )
    notebook_request = shell.user_ns["restart"].payload["request_id"]
    text = job_text(shell)
    job = import_job(text)
    assert [option.name for option in job.options] == ["aws_access_key", "aws_secret_key", "aws_region", "svc"]
    first, second = job.commands
    assert first.log_filters[0]["type"] == "key-value-data"
    assert first.log_filters[0]["config"]["regex"] == r"^RUNDECK:DATA:\s*([^\s]+?)\s*=\s*(.+)$"
    assert second.args == "${data.restart_payload_request_id} ${data.restart_payload_service}"

    done = run_job(text, env=node, **CREDENTIALS)
    assert done.returncodes == [0, 0], done.steps[-1].stderr
    fresh = stdout_json(done.steps[0])["request_id"]
    assert fresh != notebook_request  # a new restart: the chained value is this run's
    assert json.loads(done.data["restart_payload_request_id"]) == fresh
    assert stdout_json(done.steps[1])["event"] == {"request": fresh, "service": "web"}


def test_each_step_sends_what_the_notebook_sent(shell: Any, fake: FakeLambda, node: dict[str, str]) -> None:
    """Qualifier, invocation type, log type, client context, chained payload and a ``$${``
    escape: what reaches the endpoint from the job equals what the notebook sent."""
    fake.on("health_check", lambda call: Reply.ok({"service": call.payload["service"], "status": "down"}))
    shell.user_ns.update(service='web "eu"', incident={"id": 42, "sev": 2})
    run(
        shell,
        '%%lambda_invoke health_check -q prod -o health --quiet -c \'{"custom": {"runbook": "restart"}}\'\n'
        '{"service": "${service}", "incident": ${incident}, "note": "costs $${x}"}',
    )
    run(
        shell,
        "%lambda_invoke restart_service --quiet --payload "
        '\'{"service": "${health.payload["service"]}", '
        '"reason": "status ${health.payload["status"]}"}\'',
    )
    run(shell, '%%lambda_invoke notify -t Event --quiet\n{"text": "done"}')
    recorded = list(fake.calls)
    text = job_text(shell)
    fake.calls.clear()
    done = run_job(text, env=node, **CREDENTIALS)
    assert done.returncodes == [0, 0, 0], done.steps[-1].stderr
    assert len(fake.calls) == len(recorded) == 3
    for sent, replayed in zip(recorded, fake.calls, strict=True):
        assert (replayed.function, replayed.qualifier) == (sent.function, sent.qualifier)
        assert replayed.payload == sent.payload
        for header in ("x-amz-invocation-type", "x-amz-log-type", "x-amz-client-context"):
            assert replayed.headers.get(header) == sent.headers.get(header), header
    assert fake.calls[0].payload["note"] == "costs ${x}"


def test_options_are_read_at_run_time(shell: Any, sandbox: Any, node: dict[str, str]) -> None:
    run(shell, 'svc = "web"')
    run(shell, '%%lambda_invoke restart_service -o restart --quiet\n{"service": "${svc}"}')
    run(shell, '%%lambda_invoke echo --quiet\n{"service": "${restart.payload["service"]}"}')
    done = run_job(
        job_text(shell),
        env=node,
        options={**CREDENTIALS["options"], "svc": "api"},
        key_storage=CREDENTIALS["key_storage"],
    )
    assert done.ok, done.steps[-1].stderr
    assert stdout_json(done.steps[1])["event"] == {"service": "api"}


# --- every value survives Rundeck -------------------------------------------------------------

AWKWARD = [
    "",
    "quote \" and ' and back\\slash",
    "line\nbreak\tand tab\r",
    "ops@example.com sre@example.com @option.svc@ @@",
    "unicodé ☃ \u2028 €",
    "#not a comment",
    "~root",
    "[1]",
    "$HOME `id` $(id) ;|&><*?",
    "1e3",
    "-n",
]


def test_every_value_survives_as_option_and_as_data(shell: Any, sandbox: Any, node: dict[str, str]) -> None:
    names = [f"v{i}" for i in range(len(AWKWARD))]
    shell.user_ns.update(zip(names, AWKWARD, strict=True), number=[1])
    fields = [f'"t{i}": "${{{name}}}", "j{i}": ${{{name}}}' for i, name in enumerate(names)]
    run(shell, "%%lambda_invoke echo -o first --quiet\n{" + ", ".join(fields) + ', "list": ${number}}')
    chained = [
        f'"t{i}": "${{first.payload["event"]["t{i}"]}}", "j{i}": ${{first.payload["event"]["j{i}"]}}'
        for i in range(len(names))
    ]
    run(
        shell,
        "%%lambda_invoke echo --quiet\n{"
        + ", ".join(chained)
        + ', "list": ${first.payload["event"]["list"]}, "after": "last"}',
    )
    sent = json.loads(history[0].request.payload)
    assert sent["t0"] == "" and sent["t3"].startswith("ops@example.com")
    done = run_job(job_text(shell), env=node, **CREDENTIALS)
    assert done.returncodes == [0, 0], done.steps[-1].stderr
    assert stdout_json(done.steps[0])["event"] == sent
    assert stdout_json(done.steps[1])["event"] == {**sent, "after": "last"}


def test_at_signs_in_the_payload_reach_the_function(shell: Any, sandbox: Any, node: dict[str, str]) -> None:
    payload = {"mail": "ops@example.com", "cc": "sre@example.com", "note": "@@ and @data.x@"}
    run(shell, f"%%lambda_invoke echo --quiet\n{json.dumps(payload)}")
    text = job_text(shell)
    done = run_job(text, env=node, **CREDENTIALS)
    assert done.ok, done.steps[-1].stderr
    assert stdout_json(done.steps[0])["event"] == payload
    assert "ops@@example.com" in text  # Rundeck's escape


def test_strings_that_look_like_numbers_or_booleans_stay_strings(shell: Any, fake: FakeLambda) -> None:
    for name, value in (("big", "1e3"), ("flag", "on"), ("hexa", "0x10"), ("answer", "yes"), ("none", "null")):
        shell.user_ns[name] = value
    run(
        shell, '%%lambda_invoke echo\n{"a": "${big}", "b": "${flag}", "c": "${hexa}", "d": "${answer}", "e": "${none}"}'
    )
    job = import_job(job_text(shell, name="1e3"))
    values = {option.name: option.value for option in job.options}
    assert values["big"] == "1e3" and values["flag"] == "on" and values["hexa"] == "0x10"
    assert values["answer"] == "yes" and values["none"] == "null" and job.name == "1e3"


def test_an_empty_notebook_value_is_an_option_without_default(shell: Any, fake: FakeLambda) -> None:
    shell.user_ns.update(empty="", other="x")
    run(shell, '%%lambda_invoke echo\n{"a": "${empty}", "b": "${other}"}')
    job = import_job(job_text(shell))
    empty = next(option for option in job.options if option.name == "empty")
    assert empty.value is None and not empty.required  # nothing for Rundeck to drop or demand


# --- the AWS CLI, throttling, failures -------------------------------------------------------


def test_aws_cli_v1_fails_the_step_in_one_line(
    shell: Any, fake: FakeLambda, node: dict[str, str], tmp_path: Path
) -> None:
    run(shell, '%%lambda_invoke echo --quiet\n{"n": 1}')
    fake.calls.clear()
    v1 = tmp_path / "v1-bin"
    v1.mkdir()
    real_v1 = _aws_cli_v1()
    if real_v1:
        (v1 / "aws").symlink_to(real_v1)
    else:  # no v1 installed: a stand-in that answers --version as v1 does
        (v1 / "aws").write_text("#!/bin/sh\necho 'aws-cli/1.45.11 Python/3.11.7 Linux botocore/1.43.11'\nexit 255\n")
        (v1 / "aws").chmod(0o755)
    done = run_job(job_text(shell), env={**node, "PATH": f"{v1}:{node['PATH']}"}, **CREDENTIALS)
    assert done.returncodes == [1]
    lines = done.steps[0].stderr.strip().splitlines()
    assert len(lines) == 1 and "needs the AWS CLI v2 on the node, not: aws-cli/1." in lines[0]
    assert fake.calls == []


def _aws_cli_v1() -> str | None:
    """pip's ``awscli`` (v1) next to this Python, or elsewhere on PATH (not a pyenv shim)."""
    directories = [str(Path(sys.executable).parent), *os.environ.get("PATH", "").split(os.pathsep)]
    for directory in directories:
        if "shims" in directory:
            continue
        candidate = Path(directory) / "aws"
        if candidate.exists() and str(candidate) != AWS_V2:
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            if (version.stdout + version.stderr).startswith("aws-cli/1."):
                return str(candidate)
    return None


def test_throttling_is_retried_and_nothing_else(shell: Any, fake: FakeLambda, node: dict[str, str]) -> None:
    run(shell, '%%lambda_invoke echo --quiet\n{"n": 1}')
    text = job_text(shell)
    fake.calls.clear()
    fake.script("echo", Reply.throttle(), Reply.ok({"done": True}))
    done = run_job(text, env=node, **CREDENTIALS)
    assert done.ok, done.steps[0].stderr
    assert len(fake.calls) == 2 and "throttled (429), attempt 1 of 5" in done.steps[0].stderr
    assert stdout_json(done.steps[0]) == {"done": True}

    for reply in (Reply.error(500, "ServiceException", "boom"), Reply.error(502, "EC2ThrottledException")):
        fake.calls.clear()
        fake.script("echo", reply)
        done = run_job(text, env=node, **CREDENTIALS)
        assert done.returncodes == [1] and len(fake.calls) == 1  # may have run: never sent twice
        assert "it is not repeated, since it may have run" in done.steps[0].stderr


def test_throttling_gives_up_after_a_bounded_number_of_attempts(
    shell: Any, fake: FakeLambda, node: dict[str, str]
) -> None:
    from lambda_magic.runbook import _rundeck

    run(shell, '%%lambda_invoke echo --quiet\n{"n": 1}')
    text = job_text(shell).replace(f"-lt {_rundeck.THROTTLE_ATTEMPTS} ", "-lt 2 ")  # 1 s of backoff, not 15
    fake.calls.clear()
    fake.script("echo", *[Reply.throttle()] * 3)
    done = run_job(text, env=node, **CREDENTIALS)
    assert done.returncodes == [1] and len(fake.calls) == 2
    assert "(TooManyRequestsException)" in done.steps[0].stderr


def test_a_function_error_fails_the_step_and_stops_the_job(shell: Any, fake: FakeLambda, node: dict[str, str]) -> None:
    run(shell, '%%lambda_invoke echo --quiet\n{"n": 1}')
    run(shell, '%%lambda_invoke notify --quiet\n{"n": 2}')
    text = job_text(shell)
    fake.calls.clear()
    fake.script("echo", Reply.function_error("cannot restart", log="START\nboom\nEND\n"))
    done = run_job(text, env=node, **CREDENTIALS)
    assert done.returncodes == [1]
    assert "step 1 (echo): Unhandled function error" in done.steps[0].stderr
    assert "cannot restart" in done.steps[0].stdout and "boom" in done.steps[0].stdout
    assert [call.function for call in fake.calls] == ["echo"]


# --- credentials -------------------------------------------------------------------------------


def test_credentials_come_from_options_and_key_storage_never_the_yaml(
    shell: Any, fake: FakeLambda, node: dict[str, str], tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o600)
    run(shell, f"%lambda_config access_key={ACCESS_KEY} secret_key_path={secret_file}")
    run(shell, '%%lambda_invoke echo --quiet\n{"n": 1}')
    path = tmp_path / "job.yaml"
    run(shell, f"%lambda_export rundeck -o {path} --key-storage-path keys/ops/lambda.secret")
    text = path.read_text()
    assert SECRET not in text and ACCESS_KEY not in text and str(secret_file) not in text
    options = {option.name: option for option in import_job(text).options}
    secret = options["aws_secret_key"]
    assert secret.secure and secret.exposed and secret.storage_path == "keys/ops/lambda.secret" and secret.value is None
    assert options["aws_access_key"].value is None and options["aws_region"].value == "us-east-1"

    fake.calls.clear()
    done = run_job(
        text, env=node, options={"aws_access_key": "AKIAFROMTHEOPTION"}, key_storage={"keys/ops/lambda.secret": SECRET}
    )
    assert done.ok, done.steps[0].stderr
    assert "Credential=AKIAFROMTHEOPTION/" in fake.calls[0].headers["authorization"]
    assert SECRET not in done.steps[0].line  # not on the command line either

    done = run_job(text, env=node, options={"aws_access_key": "AKIAFROMTHEOPTION"})
    assert done.returncodes == [1] and "aws_secret_key is empty" in done.steps[0].stderr

    fake.calls.clear()
    assert run_job(text, env=node).ok  # no access key given: the node's own credentials
    assert f"Credential={NODE_KEY}/" in fake.calls[0].headers["authorization"]


def test_key_storage_path_must_be_a_path(shell: Any, fake: FakeLambda) -> None:
    run(shell, "%lambda_invoke echo --quiet")
    with pytest.raises(UsageError, match=r"--key-storage-path 'secret' is not a Key Storage path"):
        shell.run_line_magic("lambda_export", "rundeck --key-storage-path secret")
    with pytest.raises(UsageError, match="only for the rundeck format"):
        shell.run_line_magic("lambda_export", "python --node-filter 'tags: aws'")


def test_node_filter_adds_nodefilters(shell: Any, fake: FakeLambda) -> None:
    run(shell, "%lambda_invoke echo --quiet")
    job = import_job(job_text(shell, node_filter="tags: aws name: runner-1"))
    assert job.raw["nodefilters"]["filter"] == "tags: aws name: runner-1"
    assert job.raw["nodesSelectedByDefault"] is True
    assert "nodefilters" not in import_job(job_text(shell)).raw


# --- fan-out order ----------------------------------------------------------------------------


def test_a_fan_out_becomes_steps_in_input_order_not_completion_order(
    shell: Any, fake: FakeLambda, node: dict[str, str]
) -> None:
    exporting = threading.Event()

    def answer(call: Any) -> Reply:
        if call.payload["id"] == 0 and not exporting.is_set():
            deadline = time.monotonic() + 10  # the first event finishes after the second is recorded
            while not len(history) and time.monotonic() < deadline:
                time.sleep(0.01)
        return Reply.ok(call.payload)

    fake.on("echo", answer)
    shell.user_ns["items"] = [{"id": 0}, {"id": 1}]
    run(shell, "%%lambda_invoke echo --each --concurrency 2 --quiet\n$items")
    assert [json.loads(entry.request.payload)["id"] for entry in history] == [1, 0]  # completion order
    text = job_text(shell)
    fake.calls.clear()
    exporting.set()
    done = run_job(text, env=node)
    assert done.ok, done.steps[-1].stderr
    assert [call.payload["id"] for call in fake.calls] == [0, 1]
    assert len(import_job(text).commands) == 2  # one step per invocation


# --- code a job cannot express ---------------------------------------------------------------


def test_code_between_the_steps_is_refused_naming_the_cells(shell: Any, fake: FakeLambda) -> None:
    fake.on("health_check", lambda call: Reply.ok({"service": "web", "status": "down"}))
    run(shell, '%%lambda_invoke health_check -o health --quiet\n{"service": "web"}')
    run(shell, 'reason = health.payload["status"].upper()')
    run(
        shell,
        'if health.payload["status"] == "down":\n'
        '    %lambda_invoke restart_service --quiet --payload \'{"service": "${health.payload["service"]}", '
        '"reason": "${reason}"}\'',
    )
    cells = [entry.execution_count for entry in history]
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("lambda_export", "rundeck")
    message = str(info.value)
    assert "\n" not in message and "--as-script" in message
    assert f"In [{cells[0] + 1}]" in message and f"In [{cells[1]}]" in message


def test_a_computed_payload_value_is_refused(shell: Any, fake: FakeLambda) -> None:
    shell.user_ns["services"] = ["web", "api"]
    run(shell, '%%lambda_invoke echo --quiet\n{"first": "${services[0].upper()}"}')
    with pytest.raises(ExportError, match=r"cannot run the code in In \[\d+\].*--as-script"):
        job_text(shell)


def test_a_value_from_a_call_left_out_is_refused(shell: Any, fake: FakeLambda) -> None:
    run(shell, '%%lambda_invoke echo -o first --quiet\n{"n": 1}')
    run(shell, '%%lambda_invoke echo --quiet\n{"n": ${first.payload["n"]}}')
    with pytest.raises(ExportError, match=r"the cells read 'first'.*which no exported cell computes"):
        job_text(shell, [history[1].index])


def test_as_script_runs_the_python_export_as_one_step(
    shell: Any, fake: FakeLambda, node: dict[str, str], tmp_path: Path
) -> None:
    shell.user_ns["mail"] = "ops@example.com, sre@example.com"
    run(shell, '%%lambda_invoke echo -o first --quiet\n{"mail": "${mail}", "note": "@@ @data.x@"}')
    run(
        shell,
        'if first.payload["mail"].startswith("ops@"):\n'
        '    %lambda_invoke notify --quiet --payload \'{"to": "${first.payload["mail"]}"}\'',
    )
    text = job_text(shell, as_script=True)
    job = import_job(text)
    assert len(job.commands) == 1 and 'python3 "$dir/runbook.py"' in job.commands[0].script
    bin_dir = tmp_path / "python-bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)  # the node's python3, with lambda_magic
    env = {**node, "PATH": f"{bin_dir}:{node['PATH']}", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    fake.calls.clear()
    done = run_job(
        text,
        env=env,
        options={**CREDENTIALS["options"], "mail": "ops@example.org"},
        key_storage=CREDENTIALS["key_storage"],
    )
    assert done.ok, done.steps[0].stderr
    assert [call.payload for call in fake.calls] == [
        {"mail": "ops@example.org", "note": "@@ @data.x@"},
        {"to": "ops@example.org"},
    ]
    assert f"Credential={ACCESS_KEY}/" in fake.calls[0].headers["authorization"]

    fake.calls.clear()
    assert run_job(text, env=env, options={"mail": "nobody"}).ok  # the condition: no notify
    assert [call.function for call in fake.calls] == ["echo"]


# --- the incident notebook (notebooks/runbook_prototyping.ipynb) ---------------------------------

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "runbook_prototyping.ipynb"


@pytest.fixture
def incident(shell: Any, aws_env: None) -> Iterator[Any]:
    """The notebook's cells run up to its history, against the sandbox it starts (web down)."""
    import nbformat

    from lambda_magic.sandbox._magics import session_sandbox

    cells = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    try:
        for source in cells[: next(i for i, source in enumerate(cells) if source.startswith("%lambda_history"))]:
            run(shell, source)
        yield session_sandbox()
    finally:
        shell.run_line_magic("lambda_sandbox", "stop")


def _restarts(sandbox: Any) -> int:
    return sandbox.logs("restart_service", last=20).count("START RequestId")


def test_the_incident_is_refused_as_steps_naming_its_code_cells(shell: Any, incident: Any) -> None:
    with pytest.raises(ExportError) as info:
        job_text(shell)
    message = str(info.value)
    assert "--as-script" in message and "\n" not in message
    code = [
        f"In [{cell.execution_count}]"
        for cell in history.cells()
        if cell.source.startswith(("failed =", "assert verify"))
    ]
    assert len(code) == 2 and all(label in message for label in code)  # the conditional restart, the check


def test_the_incident_as_script_restarts_a_down_service_and_not_a_healthy_one(
    shell: Any, incident: Any, node: dict[str, str], tmp_path: Path
) -> None:
    text = job_text(shell, as_script=True)
    bin_dir = tmp_path / "python-bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {**node, "PATH": f"{bin_dir}:{node['PATH']}", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    before = _restarts(incident)
    down = run_job(text, env=env, **CREDENTIALS)
    assert down.ok, down.steps[0].stderr
    assert _restarts(incident) == before + 1
    healthy = run_job(
        text, env=env, options={**CREDENTIALS["options"], "simulate": "healthy"}, key_storage=CREDENTIALS["key_storage"]
    )
    assert healthy.ok, healthy.steps[0].stderr
    assert _restarts(incident) == before + 1  # not restarted again


def test_a_response_that_has_not_the_value_later_steps_read_fails_in_one_line(
    shell: Any, fake: FakeLambda, node: dict[str, str]
) -> None:
    run(shell, '%%lambda_invoke echo -o first --quiet\n{"n": 1}')
    run(shell, '%%lambda_invoke echo --quiet\n{"n": ${first.payload["n"]}}')
    text = job_text(shell)
    for reply, message in (
        (Reply(200, b"not json"), "the response is not JSON, and later steps read values from it"),
        (Reply.ok({"m": 1}), "the response has no ['n'], which first_payload_n reads"),
    ):
        fake.calls.clear()
        fake.script("echo", reply)
        done = run_job(text, env=node, **CREDENTIALS)
        assert done.returncodes == [1] and len(fake.calls) == 1
        assert done.steps[0].stderr.strip().splitlines()[-1] == f"step 1 (echo): {message}"
