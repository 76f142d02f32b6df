"""Nothing a sandbox started outlives it: workers and their children, even after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sandbox_fixtures import invoke_json, lambda_client, running_sandbox, write_module
from test_sandbox_workers import alive, gone_soon

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

SPAWNER = """
    import subprocess

    def handler(event, context):
        child = subprocess.Popen(["sleep", "300"], stdout=subprocess.DEVNULL)
        return child.pid
"""


def test_kill_9_of_the_sandbox_leaves_no_process_behind(tmp_path: Path) -> None:
    write_module(tmp_path, "spawner", SPAWNER)
    script = textwrap.dedent(f"""
        import json, boto3, time
        from lambda_magic.sandbox import Sandbox
        sb = Sandbox(demo=False).start()
        sb.add_function("spawner", code={str(tmp_path / "spawner.py")!r})
        c = boto3.client("lambda", endpoint_url=sb.endpoint_url, region_name="us-east-1",
                         aws_access_key_id="x", aws_secret_access_key="x")
        child = json.loads(c.invoke(FunctionName="spawner", Payload=b"{{}}")["Payload"].read())
        workers = [w["pid"] for w in sb.status()["workers"]]
        print(json.dumps({{"workers": workers, "child": child,
                          "reaper": sb._parts.reaper.pid}}), flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        started = json.loads(parent.stdout.readline())
        pids = [*started["workers"], started["child"], started["reaper"]]
        assert len(pids) == 3 and all(alive(pid) for pid in pids)
    finally:
        os.kill(parent.pid, signal.SIGKILL)  # no atexit, no stop(): only the kernel and the reaper
        parent.wait()
    assert gone_soon(pids), [pid for pid in pids if alive(pid)]


def test_stop_ends_what_handlers_started(tmp_path: Path) -> None:
    write_module(tmp_path, "spawner", SPAWNER)
    with running_sandbox(demo=False) as sandbox:
        sandbox.add_function("spawner", code=tmp_path / "spawner.py")
        _, child = invoke_json(lambda_client(sandbox), "spawner", {})
        reaper = sandbox._parts.reaper.pid if sandbox._parts else 0
        assert alive(child) and alive(reaper)
    assert gone_soon([child, reaper])
