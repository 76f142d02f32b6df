"""The secret access key never appears in any output, repr, error, history or log."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from lambda_magic import history, resolve_settings, session_settings
from lambda_magic.testing import FakeLambda, Reply

SECRET = "Zq8SECRETVALUEnever2BprintedXy/+abcdef123"
ACCESS_KEY = "AKIAHYGIENETEST12345"


@pytest.fixture
def secret_setup(tmp_path: Path, shell: Any) -> Any:
    path = tmp_path / "aws_secret"
    path.write_text(SECRET)
    os.chmod(path, 0o600)
    with FakeLambda() as fake:
        shell.run_line_magic(
            "lambda_config",
            f"access_key={ACCESS_KEY} secret_key_path={path} region=us-east-1 endpoint_url={fake.url}",
        )
        yield fake


def test_secret_never_printed(
    secret_setup: FakeLambda, shell: Any, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    fake = secret_setup
    caplog.set_level(logging.DEBUG)  # botocore's debug log included
    fake.script(
        "fn",
        Reply.ok({"ok": True}),
        Reply.function_error("bad"),
        Reply.error(403, "AccessDeniedException", "denied"),
        Reply.ok({}, delay=1.0),
    )
    shell.run_cell('%%lambda_invoke fn -o a\n{"x": 1}')
    shell.run_cell("%%lambda_invoke fn -o b --raise\n{}")
    shell.run_cell("%%lambda_invoke fn\n{}")
    shell.run_cell("%%lambda_invoke fn --timeout 0.2\n{}")
    shell.run_cell("%lambda_config")
    shell.run_cell("%%lambda_invoke 'bad name'\n{}")
    shown = [
        repr(shell.user_ns["a"]),
        shell.user_ns["a"]._repr_html_(),
        shell.user_ns["b"]._repr_html_(),
        repr(resolve_settings()),
        repr(session_settings()),
        repr(list(history)),
        *(str(entry.error) for entry in history if entry.error),
        *(repr(entry) for entry in history),
    ]
    captured = capfd.readouterr()
    log = caplog.text
    shown += [captured.out, captured.err, log]
    shown += [str(cell) for cell in shell.user_ns.get("In", [])]
    shown += [repr(v) for v in shell.user_ns.get("Out", {}).values()]
    assert fake.per_function["fn"] == 4  # the calls really were made, signed with the secret
    assert "AKIA****2345" in captured.out  # %lambda_config ran and masked the key id
    for text in shown:
        assert SECRET not in text
        assert ACCESS_KEY not in text or text is log  # botocore's debug log names the key id, never the secret


def test_secret_not_in_cached_client_keys(secret_setup: FakeLambda, shell: Any) -> None:
    from lambda_magic import _client

    shell.run_cell("%%lambda_invoke fn\n{}")
    assert _client._clients and SECRET not in repr(list(_client._clients)) + repr(list(_client._sessions))
