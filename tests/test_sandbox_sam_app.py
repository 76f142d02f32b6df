"""A real SAM application: a shared local layer, built dependencies, JSON logs; via boto3 and the magic."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import invoke_json, lambda_client, layered_app, log_of

from lambda_magic.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")


@pytest.fixture
def offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip may not look at any package index: everything comes from local files."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, list[str]]]:
    lines: list[str] = []
    tmp_path = tmp_path_factory.mktemp("app")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIP_NO_INDEX", "1")  # everything comes from local files
        sandbox = Sandbox(
            template=layered_app(tmp_path), demo=False, cache_dir=tmp_path / "cache", progress=lines.append
        )
    with sandbox:
        yield sandbox, lines


def test_layer_and_built_dependencies_are_importable(app: tuple[Sandbox, list[str]]) -> None:
    sandbox, lines = app
    response, body = invoke_json(lambda_client(sandbox), "greeter", {"name": "ada"})
    assert "FunctionError" not in response, body
    assert body["greeting"] == "hello ada from the shared layer"
    assert body["tinydep"] == "1.0"
    assert "/cache/deps/" in body["tinydep_file"]
    assert [line for line in lines if line.startswith("building greeter")]


def test_configuration_lists_the_layer(app: tuple[Sandbox, list[str]]) -> None:
    sandbox, _ = app
    client = lambda_client(sandbox)
    for name in ("greeter", "json_logger"):
        layers = client.get_function_configuration(FunctionName=name)["Layers"]
        assert [layer["Arn"] for layer in layers] == ["arn:aws:lambda:us-east-1:123456789012:layer:shared:1"]
    logging = client.get_function_configuration(FunctionName="json_logger")["LoggingConfig"]
    assert logging["LogFormat"] == "JSON" and logging["ApplicationLogLevel"] == "INFO"


def test_json_logging_config_is_honoured(app: tuple[Sandbox, list[str]]) -> None:
    sandbox, _ = app
    response, body = invoke_json(lambda_client(sandbox), "json_logger", {}, LogType="Tail")
    assert body == "logged"
    records = [json.loads(line) for line in log_of(response).splitlines() if line.strip()]
    application = [r for r in records if "level" in r]
    assert [(r["level"], r["message"]) for r in application] == [
        ("INFO", "info hello logs from the shared layer"),
        ("WARNING", "a warning"),
    ]
    assert all(r["requestId"] == response["ResponseMetadata"]["RequestId"] for r in application)
    platform = [r["type"] for r in records if "type" in r]
    assert platform[0] == "platform.start" and platform[-1] == "platform.report"
    report = records[-1]["record"]
    assert report["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert report["metrics"]["memorySizeMB"] == 128


def test_the_app_through_the_magic(
    shell: Any, tmp_path: Path, offline_pip: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    template = layered_app(tmp_path)
    shell.run_line_magic("lambda_sandbox", f"start --no-demo --template {template}")
    try:
        shell.run_cell_magic("lambda_invoke", "greeter -o answer", '{"name": "grace"}')
        answer = shell.user_ns["answer"]
        assert answer.payload["greeting"] == "hello grace from the shared layer"
    finally:
        shell.run_line_magic("lambda_sandbox", "stop")
