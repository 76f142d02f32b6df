"""Shared fixtures: an isolated environment for every test, a real IPython shell, moto,
and the loopback ``FakeLambda``. Nothing here reaches the internet."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_magic import history, session_settings
from lambda_magic.testing import FakeLambda

_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
)


_LOOPBACK = ("127.", "localhost", "::1")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse to resolve any host but loopback: no test may reach the internet."""
    import socket

    resolve = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.startswith(_LOOPBACK):
            raise socket.gaierror(socket.EAI_NONAME, f"tests may only connect to loopback, not {name}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No user config, no ~/.aws, no session settings, no cached clients, empty history."""
    from lambda_magic import _client

    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # the sandbox's build cache
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.chdir(work)
    session_settings().clear()
    _client.clear_clients()
    history.clear()
    yield work
    session_settings().clear()
    _client.clear_clients()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a region in the environment (the AWS chain's lowest layer)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def shell() -> Iterator[Any]:
    """A real IPython InteractiveShell with the extension loaded."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lambda_magic")
    yield ip
    ip.run_line_magic("unload_ext", "lambda_magic")


@pytest.fixture
def fake(aws_env: None) -> Iterator[FakeLambda]:
    """A loopback FakeLambda; the session's endpoint_url points at it."""
    with FakeLambda() as server:
        session_settings().update(endpoint_url=server.url, region="us-east-1")
        yield server


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture
def moto_lambda(aws_env: None) -> Iterator[Any]:
    """moto's Lambda without Docker (it echoes payloads), with an ``echo`` function,
    published version 1 and alias ``prod``."""
    import boto3
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False}}):
        role = boto3.client("iam").create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")
        client = boto3.client("lambda")
        client.create_function(
            FunctionName="echo",
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code={"ZipFile": _zip("def handler(event, context):\n    return event\n")},
        )
        version = client.publish_version(FunctionName="echo")["Version"]
        client.create_alias(FunctionName="echo", Name="prod", FunctionVersion=version)
        yield client


@pytest.fixture(scope="module")
def demo_sandbox() -> Iterator[Any]:
    """The local sandbox with its demo functions (versions, an alias, a failing function;
    it paginates, unlike moto), shared by a module's tests."""
    from lambda_magic.sandbox import Sandbox

    with Sandbox(port=0) as sandbox:
        yield sandbox


@pytest.fixture(params=["lean", "botocore"])
def transport(request: pytest.FixtureRequest) -> str:
    """Runs a test once per Invoke transport (the ``transport`` setting, session layer)."""
    session_settings().update(transport=request.param)
    return str(request.param)
