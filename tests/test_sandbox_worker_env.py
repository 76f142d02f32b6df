"""Isolated handlers: exactly Lambda's sys.path and environment, dummy credentials by default."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import invoke_json, lambda_client, running_sandbox, write_module

from lambda_magic.sandbox._runtime_dir import runtime_distributions
from lambda_magic.sandbox._worker_env import DUMMY_CREDENTIALS, WorkerHost

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

PROBE = """
    import importlib, os, sys

    def handler(event, context):
        found = {}
        for name in event["modules"]:
            try:
                importlib.import_module(name)
                found[name] = True
            except ImportError:
                found[name] = False
        import boto3
        return {"modules": found, "path": sys.path, "env": dict(os.environ),
                "boto3": boto3.__file__, "flags": [sys.flags.isolated, sys.flags.no_site]}
"""

LAMBDA_VARIABLES = {
    "_HANDLER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "PATH",
    "LANG",
    "TZ",
    "LD_LIBRARY_PATH",
    "_X_AMZN_TRACE_ID",
}


@pytest.fixture
def marker_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module the notebook's process can import (sys.path and PYTHONPATH), Lambda cannot."""
    site = tmp_path / "notebook-site"
    write_module(site, "notebook_marker_mod", "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    importlib.import_module("notebook_marker_mod")  # the notebook really can
    return "notebook_marker_mod"


def _probe(tmp_path: Path, modules: list[str], **sandbox_args: object) -> dict[str, object]:
    write_module(tmp_path / "probe", "probe", PROBE)
    with running_sandbox(demo=False, **sandbox_args) as sandbox:  # type: ignore[arg-type]
        sandbox.add_function(
            "probe", code=tmp_path / "probe", handler="probe.handler", environment={"FROM_TEMPLATE": "yes"}
        )
        response, body = invoke_json(lambda_client(sandbox), "probe", {"modules": modules})
    assert "FunctionError" not in response, body
    return body


def test_handler_cannot_import_the_notebooks_packages(tmp_path: Path, marker_module: str) -> None:
    body = _probe(
        tmp_path,
        [marker_module, "lambda_magic", "IPython", "yaml", "pytest", "boto3", "botocore", "awslambdaric", "json"],
    )
    assert body["modules"] == {
        marker_module: False,
        "lambda_magic": False,
        "IPython": False,
        "yaml": False,
        "pytest": False,
        "boto3": True,
        "botocore": True,
        "awslambdaric": True,
        "json": True,
    }
    assert body["flags"] == [1, 1]


def test_sys_path_is_code_then_runtime_then_stdlib(tmp_path: Path) -> None:
    body = _probe(tmp_path, [])
    path = body["path"]
    env = body["env"]
    assert isinstance(path, list) and isinstance(env, dict)
    assert path[0] == str(tmp_path / "probe") == env["LAMBDA_TASK_ROOT"]
    assert path[1] == env["LAMBDA_RUNTIME_DIR"]
    assert str(body["boto3"]).startswith(env["LAMBDA_RUNTIME_DIR"])
    stdlib = path[2:]
    assert stdlib and not any("site-packages" in entry for entry in stdlib)


def test_environment_is_lambdas_and_the_functions_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTEBOOK_MARKER_VARIABLE", "leaked")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-user-secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    body = _probe(tmp_path, [])
    env = body["env"]
    assert isinstance(env, dict)
    # Python itself adds LC_CTYPE=C.UTF-8 (PEP 538) where en_US.UTF-8 is not installed.
    if env.get("LC_CTYPE") == "C.UTF-8":
        del env["LC_CTYPE"]
    assert set(env) == LAMBDA_VARIABLES | {"FROM_TEMPLATE"}
    assert "real-user-secret" not in repr(body)
    assert {key: env[key] for key in DUMMY_CREDENTIALS} == DUMMY_CREDENTIALS
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["FROM_TEMPLATE"] == "yes"


def test_pass_credentials_gives_the_owners_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-user-secret")
    body = _probe(tmp_path, [], pass_credentials=True)
    env = body["env"]
    assert isinstance(env, dict)
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAREALUSERKEY00000"
    assert env["AWS_SECRET_ACCESS_KEY"] == "real-user-secret"
    assert "AWS_SESSION_TOKEN" not in env


def test_the_owners_credentials_never_show_in_a_repr(tmp_path: Path) -> None:
    host = WorkerHost(tmp_path, "us-east-1", {"AWS_SECRET_ACCESS_KEY": "real-user-secret"})
    assert "real-user-secret" not in repr(host)


def test_runtime_distributions_are_the_sdk_and_the_runtime_client() -> None:
    names = {dist.metadata["Name"].lower().replace("_", "-") for dist in runtime_distributions()}
    assert {"awslambdaric", "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"} <= names
    assert not names & {"ipython", "lambda-magic", "pyyaml", "traitlets", "awscrt"}


def test_the_region_is_the_sandboxs(tmp_path: Path) -> None:
    body = _probe(tmp_path, [], region="eu-west-1")
    env = body["env"]
    assert isinstance(env, dict)
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_the_magic_starts_the_sandbox_in_the_sessions_region(shell: Any, tmp_path: Path) -> None:
    write_module(tmp_path / "probe", "probe", PROBE)
    shell.run_line_magic("lambda_config", "region=eu-central-1")
    shell.run_line_magic("lambda_sandbox", "start --no-demo")
    try:
        from lambda_magic.sandbox._magics import session_sandbox

        sandbox = session_sandbox()
        assert sandbox is not None and sandbox.region == "eu-central-1"
        sandbox.add_function("probe", code=tmp_path / "probe", handler="probe.handler")
        shell.run_cell_magic("lambda_invoke", "probe -o answer", '{"modules": []}')
        answer = shell.user_ns["answer"]
        assert answer.payload["env"]["AWS_REGION"] == "eu-central-1"
        # start put the session's dummy secret in an environment variable (secret_key_path=
        # env:VAR): the handler does not see it, nor any other of the notebook's variables.
        assert os.environ.get("LAMBDA_MAGIC_SANDBOX_SECRET") == "sandbox"
        assert "LAMBDA_MAGIC_SANDBOX_SECRET" not in answer.payload["env"]
        config = lambda_client(sandbox).get_function_configuration(FunctionName="probe")
        assert config["FunctionArn"].startswith("arn:aws:lambda:eu-central-1:")
    finally:
        shell.run_line_magic("lambda_sandbox", "stop")
