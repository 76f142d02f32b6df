"""``%lambda_sandbox`` in a real IPython shell: start, status, invoke through it, stop."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from lambda_magic._settings import session_settings
from lambda_magic.sandbox._magics import SandboxMagics, session_sandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")


@pytest.fixture
def ip() -> Iterator[Any]:
    """A real shell with the sandbox magics; never leaves a sandbox running."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.register_magics(SandboxMagics)
    yield shell
    shell.run_line_magic("lambda_sandbox", "stop")


def test_start_points_the_session_at_the_sandbox(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("lambda_sandbox", "start")
    sandbox = session_sandbox()
    assert sandbox is not None
    assert sandbox.endpoint_url in capsys.readouterr().out
    assert session_settings().values() == {
        "endpoint_url": sandbox.endpoint_url,
        "region": "us-east-1",
        "access_key": "sandbox",
        "secret_key_path": "env:LAMBDA_MAGIC_SANDBOX_SECRET",
    }
    import lambda_magic

    response = lambda_magic.invoke("echo", {"from": "magic"})
    assert response.payload["event"] == {"from": "magic"}
    assert response.executed_version == "$LATEST"


def test_status_lists_functions_and_workers(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("lambda_sandbox", "status")
    assert "not running" in capsys.readouterr().out
    ip.run_line_magic("lambda_sandbox", "start --no-demo")
    ip.run_line_magic("lambda_sandbox", "")  # status is the default action
    out = capsys.readouterr().out
    assert "workers: 0" in out
    assert "echo" not in out


def test_stop_clears_the_settings_it_set(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("lambda_sandbox", "start")
    sandbox = session_sandbox()
    assert sandbox is not None
    ip.run_line_magic("lambda_sandbox", "stop")
    assert "stopped" in capsys.readouterr().out
    assert not sandbox.running
    assert session_settings().values() == {}
    ip.run_line_magic("lambda_sandbox", "stop")
    assert "not running" in capsys.readouterr().out


def test_user_errors_are_one_line_usage_errors(ip: Any, tmp_path: Path) -> None:
    ip.run_line_magic("lambda_sandbox", "start --no-demo")
    with pytest.raises(UsageError, match=r"already runs at .*: %lambda_sandbox stop first"):
        ip.run_line_magic("lambda_sandbox", "start")
    ip.run_line_magic("lambda_sandbox", "stop")
    with pytest.raises(UsageError, match="cannot read SAM template") as caught:
        ip.run_line_magic("lambda_sandbox", f"start --template {tmp_path / 'none.yaml'}")
    assert "\n" not in str(caught.value)
    with pytest.raises(UsageError):
        ip.run_line_magic("lambda_sandbox", "restart")


def test_template_functions_are_served(ip: Any, tmp_path: Path) -> None:
    project = tmp_path / "my project"  # a quoted path with a space reaches the sandbox unquoted
    project.mkdir()
    (project / "app.py").write_text("def handler(event, context):\n    return 'from sam'\n")
    (project / "template.yaml").write_text(
        "Resources:\n  Mine:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: app.handler, Runtime: python3.11, CodeUri: .}\n"
    )
    ip.run_line_magic("lambda_sandbox", f"start --no-demo --template '{project / 'template.yaml'}'")
    import lambda_magic

    assert lambda_magic.invoke("Mine").payload == "from sam"


def test_stop_restores_the_session_settings_start_replaced(ip: Any, tmp_path: Path) -> None:
    mine = {
        "access_key": "AKIAUSERSOWNKEY00",
        "secret_key_path": str(tmp_path / "secret"),
        "region": "eu-west-3",
        "read_timeout": 42.0,
    }
    session_settings().update(**mine)
    ip.run_line_magic("lambda_sandbox", "start --no-demo")
    assert session_settings().access_key == "sandbox"
    ip.run_line_magic("lambda_sandbox", "stop")
    assert session_settings().values() == mine
