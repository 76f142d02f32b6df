"""Workers as Lambda's execution environments: init failures, deaths, per-call trace ids."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_fixtures import invoke_json, lambda_client, log_of, running_sandbox, write_module

from lambda_magic.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

BROKEN = """
    print("loading broken")
    import module_that_does_not_exist

    def handler(event, context):
        return "never"
"""

ORPHANING_CRASH = """
    import os, subprocess

    def handler(event, context):
        child = subprocess.Popen(["sleep", "120"])  # inherits stdout: holds the log pipe
        print(f"child {child.pid}", flush=True)
        os._exit(3)
"""

TRACE = """
    import os

    def handler(event, context):
        return os.environ.get("_X_AMZN_TRACE_ID")
"""


def alive(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_soon(pids: list[int], seconds: float = 10) -> bool:
    """Wait (with a deadline) until none of ``pids`` is alive."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("code")
    for module, source in {"broken": BROKEN, "orphaning": ORPHANING_CRASH, "trace": TRACE}.items():
        write_module(code, module, source)
    with running_sandbox(demo=False) as sandbox:
        for module in ("broken", "orphaning", "trace"):
            sandbox.add_function(module, code=code / f"{module}.py", timeout=20)
        yield sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Any:
    return lambda_client(sandbox)


def test_an_init_failure_gives_the_same_error_on_every_call(client: Any) -> None:
    for _ in range(3):
        response, body = invoke_json(client, "broken", {}, LogType="Tail")
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.ImportModuleError", body
        log = log_of(response)
        assert "loading broken" in log and "Init Duration" in log


def test_an_init_failure_gives_the_same_error_to_concurrent_calls(sandbox: Sandbox) -> None:
    types: list[str] = []

    def call() -> None:
        types.append(invoke_json(lambda_client(sandbox), "broken", {})[1]["errorType"])

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert types == ["Runtime.ImportModuleError"] * 6


def test_a_dead_worker_is_reported_at_once_although_its_child_holds_the_pipe(client: Any) -> None:
    response, body = invoke_json(client, "orphaning", {}, LogType="Tail")
    assert body["errorType"] == "Runtime.ExitError", body  # not Sandbox.Timedout after 20 s
    assert "exit status 3" in body["errorMessage"]
    match = re.search(r"child (\d+)", log_of(response))
    assert match
    assert gone_soon([int(match[1])])


def test_each_call_gets_its_own_trace_id(client: Any) -> None:
    first, second = (invoke_json(client, "trace", {})[1] for _ in range(2))
    pattern = r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0"
    assert re.fullmatch(pattern, first) and re.fullmatch(pattern, second)
    assert first != second
