"""Event invocations: a queue per function; a throttled function never holds back another's events."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from sandbox_fixtures import lambda_client, running_sandbox, write_module

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

TOUCH = """
    import pathlib

    def handler(event, context):
        pathlib.Path(event["path"]).write_text("ran")
"""


def _wait_for(path: Path, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.02)
    return False


def test_throttled_events_of_one_function_do_not_block_another(tmp_path: Path) -> None:
    write_module(tmp_path / "code", "touch", TOUCH)
    with running_sandbox(demo=False, max_workers=2) as sandbox:
        sandbox.add_function("held", code=tmp_path / "code" / "touch.py", reserved_concurrency=0)
        sandbox.add_function("free", code=tmp_path / "code" / "touch.py")
        client = lambda_client(sandbox)
        for index in range(12):  # more than the old shared pool's 8 threads
            client.invoke(
                FunctionName="held",
                InvocationType="Event",
                Payload=f'{{"path": "{tmp_path / f"held-{index}"}"}}'.encode(),
            )
        client.invoke(
            FunctionName="free", InvocationType="Event", Payload=f'{{"path": "{tmp_path / "free"}"}}'.encode()
        )
        assert _wait_for(tmp_path / "free")
        assert not list(tmp_path.glob("held-*"))  # still throttled, still queued, not dropped
        assert sandbox._parts is not None
        assert sandbox._parts.invoker._events.pending("held") >= 10


def test_a_throttled_event_runs_once_concurrency_is_allowed(tmp_path: Path) -> None:
    write_module(tmp_path / "code", "touch", TOUCH)
    with running_sandbox(demo=False) as sandbox:
        sandbox.add_function("later", code=tmp_path / "code" / "touch.py", reserved_concurrency=0)
        client = lambda_client(sandbox)
        client.invoke(
            FunctionName="later", InvocationType="Event", Payload=f'{{"path": "{tmp_path / "later"}"}}'.encode()
        )
        sandbox.registry.get("later").reserved_concurrency = None  # as PutFunctionConcurrency
        assert _wait_for(tmp_path / "later")
