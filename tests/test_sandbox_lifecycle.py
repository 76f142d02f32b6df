"""Starting and stopping: workers never outlive the sandbox; the command line entry point."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sandbox_fixtures import invoke_json, lambda_client, log_of, running_sandbox

from lambda_magic.sandbox import Sandbox, SandboxError

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")


def _alive(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone_soon(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


@linux_only
def test_stop_kills_every_worker_and_is_idempotent() -> None:
    sandbox = Sandbox().start()
    client = lambda_client(sandbox)
    for name in ("echo", "logger", "health_check"):
        invoke_json(client, name, {})
    pids = [worker["pid"] for worker in sandbox.status()["workers"]]
    assert len(pids) == 3 and all(_alive(pid) for pid in pids)
    sandbox.stop()
    assert not any(_alive(pid) for pid in pids)
    sandbox.stop()
    assert sandbox.status()["running"] is False
    assert sandbox.status()["workers"] == []
    with pytest.raises(SandboxError, match="not running"):
        sandbox.endpoint_url  # noqa: B018


@linux_only
def test_context_manager_status_and_logs() -> None:
    stream = io.StringIO()
    with Sandbox(log_stream=stream) as sandbox:
        client = lambda_client(sandbox)
        response, _ = invoke_json(client, "logger", {"lines": 1})
        status = sandbox.status()
        assert status["endpoint_url"] == sandbox.endpoint_url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.endpoint_url)
        assert {w["function"] for w in status["workers"]} == {"logger"}
        health = next(f for f in status["functions"] if f["name"] == "health_check")
        assert health["versions"] == ["$LATEST", "1", "2"]
        assert health["aliases"] == {"prod": "1"}
        request_id = response["ResponseMetadata"]["RequestId"]
        assert f"END RequestId: {request_id}" in sandbox.logs("logger")
    assert f"REPORT RequestId: {request_id}" in stream.getvalue()


def test_start_off_linux_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(SandboxError, match="Linux wheels only") as caught:
        Sandbox(demo=False).start()
    assert "\n" not in str(caught.value)


def test_bad_definitions_are_refused(tmp_path: Path) -> None:
    sandbox = Sandbox(demo=False)
    with pytest.raises(SandboxError, match="neither a directory"):
        sandbox.add_function("f", code=tmp_path / "missing", handler="app.handler")
    with pytest.raises(SandboxError, match="timeout"):
        sandbox.add_function("f", code=tmp_path, handler="app.handler", timeout=901)
    with pytest.raises(SandboxError, match="not Python"):
        sandbox.add_function("f", code=tmp_path, handler="app.handler", runtime="nodejs20.x")
    with pytest.raises(SandboxError, match=r"module\.function"):
        sandbox.add_function("f", code=tmp_path, handler="nodot")
    with pytest.raises(SandboxError, match="no version 3"):
        sandbox.add_function("f", code=tmp_path, handler="app.handler")
        sandbox.create_alias("f", "prod", "3")


@linux_only
def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import json, boto3, sys, time
        from lambda_magic.sandbox import Sandbox
        sb = Sandbox().start()
        c = boto3.client("lambda", endpoint_url=sb.endpoint_url, region_name="us-east-1",
                         aws_access_key_id="x", aws_secret_access_key="x")
        c.invoke(FunctionName="echo", Payload=b"{}")
        print(json.dumps([w["pid"] for w in sb.status()["workers"]]), flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = json.loads(parent.stdout.readline())
        assert pids and all(_alive(pid) for pid in pids)
    finally:
        os.kill(parent.pid, signal.SIGKILL)  # no atexit, no stop(): only the kernel cleans up
        parent.wait()
    assert _gone_soon(pids)


@linux_only
def test_command_line_serves_until_terminated() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "lambda_magic.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        sandbox_url = match[1]
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "lambda",
            endpoint_url=sandbox_url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"total_max_attempts": 1}),
        )
        answer = json.loads(client.invoke(FunctionName="echo", Payload=b'{"cli": 1}')["Payload"].read())
        assert answer["event"] == {"cli": 1}
    finally:
        os.kill(server.pid, signal.SIGTERM)
        out, _ = server.communicate(timeout=20)
    assert server.returncode == 0
    assert "sandbox stopped" in out


def test_command_line_reports_a_bad_template(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambda_magic.sandbox", "--template", str(tmp_path / "no.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot read SAM template")


def test_public_names_are_sorted_and_exist() -> None:
    import lambda_magic.sandbox as sandbox_package

    assert sandbox_package.__all__ == sorted(sandbox_package.__all__)
    for name in sandbox_package.__all__:
        assert hasattr(sandbox_package, name)


@linux_only
def test_a_taken_port_is_one_clear_error() -> None:
    with running_sandbox(demo=False) as first:
        port = int(first.endpoint_url.rsplit(":", 1)[1])
        with pytest.raises(SandboxError, match=f"cannot listen on 127.0.0.1:{port}"):
            Sandbox(port=port, demo=False).start()


@linux_only
def test_changed_configuration_reaches_new_workers_only(tmp_path: Path) -> None:
    (tmp_path / "env.py").write_text("import os\n\ndef handler(event, context):\n    return os.environ.get('COLOR')\n")
    with running_sandbox(demo=False) as sandbox:
        client = lambda_client(sandbox)
        sandbox.add_function("env", code=tmp_path / "env.py", environment={"COLOR": "red"})
        assert invoke_json(client, "env")[1] == "red"
        old_pid = sandbox.status()["workers"][0]["pid"]
        sandbox.update_function("env", environment={"COLOR": "blue"})
        response, color = invoke_json(client, "env", LogType="Tail")
        assert color == "blue"
        assert "Init Duration" in log_of(response)
        assert old_pid not in [w["pid"] for w in sandbox.status()["workers"]]
