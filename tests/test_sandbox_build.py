"""Building requirements.txt like sam build: cached by hash, one clear error, the build command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_fixtures import build_wheel, invoke_json, lambda_client, layered_app, running_sandbox, write_module

from lambda_magic.sandbox import SandboxError
from lambda_magic.sandbox._build import install_requirements


@pytest.fixture(autouse=True)
def offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip may not look at any package index: everything comes from local files."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "code" / "requirements.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_installed_once_then_served_from_the_cache(tmp_path: Path) -> None:
    package = tmp_path / "src" / "tinydep"
    write_module(package, "__init__", "VERSION = '2'\n")
    build_wheel(package, tmp_path / "code" / "wheels")
    requirements = _requirements(tmp_path, "./wheels/tinydep-1.0-py3-none-any.whl\n")
    lines: list[str] = []
    first = install_requirements(requirements, owner="fn", cache_dir=tmp_path / "cache", progress=lines.append)
    second = install_requirements(requirements, owner="other", cache_dir=tmp_path / "cache", progress=lines.append)
    assert first == second and (first / "tinydep" / "__init__.py").is_file()
    assert len(lines) == 1 and lines[0].startswith("building fn: pip install -r")
    requirements.write_text("./wheels/tinydep-1.0-py3-none-any.whl\n# changed\n")
    third = install_requirements(requirements, owner="fn", cache_dir=tmp_path / "cache")
    assert third != first


def test_a_failed_install_is_one_line_naming_the_package_and_pips_reason(tmp_path: Path) -> None:
    requirements = _requirements(tmp_path, "no-such-package-zzz==1.0\n")
    with pytest.raises(SandboxError) as caught:
        install_requirements(requirements, owner="fn", cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"fn: cannot install {requirements}: ")
    assert "no-such-package-zzz" in message and "No matching distribution" in message
    assert not list((tmp_path / "cache" / "deps").iterdir())  # nothing half-built is kept


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")
def test_a_function_that_cannot_be_built_is_skipped_the_others_run(tmp_path: Path) -> None:
    template = layered_app(tmp_path)
    (template.parent / "logger" / "requirements.txt").write_text("no-such-package-zzz\n")
    lines: list[str] = []
    with running_sandbox(template=template, demo=False, cache_dir=tmp_path / "cache", progress=lines.append) as sandbox:
        skipped = sandbox.status()["skipped"]
        assert list(skipped) == ["JsonLogger"]
        assert "no-such-package-zzz" in skipped["JsonLogger"]
        assert invoke_json(lambda_client(sandbox), "greeter", {})[1]["tinydep"] == "1.0"
    warnings = [line for line in lines if line.startswith("sandbox: skipped 1 function(s)")]
    assert len(warnings) == 1 and "JsonLogger" in warnings[0]


def test_the_build_command_builds_ahead_of_time(tmp_path: Path) -> None:
    template = layered_app(tmp_path)
    command = [
        sys.executable,
        "-m",
        "lambda_magic.sandbox",
        "build",
        "--template",
        str(template),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "building greeter" in first.stdout and "built 2 function(s)" in first.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "building" not in again.stdout
