"""Credentials follow the user: a switch mid-session signs the next call with the new identity.

Every test reads the ``Authorization`` header that arrived at a loopback endpoint
(``Credential=KEY/date/REGION/lambda/aws4_request``) to prove which key signed and for
which region, through a real IPython shell and an unmodified botocore.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from lambda_magic import session_settings
from lambda_magic.testing import FakeLambda, Reply

_CREDENTIAL_RE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/lambda/aws4_request")


@pytest.fixture
def endpoint() -> Iterator[FakeLambda]:
    """A loopback endpoint; credentials and region come from wherever the test puts them."""
    with FakeLambda() as server:
        session_settings().update(endpoint_url=server.url)
        yield server


def signer(fake: FakeLambda) -> tuple[str, str]:
    """The access key id and region that signed the last request."""
    match = _CREDENTIAL_RE.search(fake.calls[-1].headers["authorization"])
    assert match, fake.calls[-1].headers["authorization"]
    return match.group(1), match.group(2)


def call(shell: Any) -> str | None:
    """Invoke once; None on success, else the one-line UsageError."""
    result = shell.run_cell("%%lambda_invoke fn --quiet\n{}")
    error = result.error_in_exec
    if error is None:
        return None
    assert type(error) is UsageError and "\n" not in str(error), repr(error)
    return str(error)


def set_keys(monkeypatch: pytest.MonkeyPatch, key: str, region: str = "us-east-1") -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", f"secret-of-{key}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)


def write_profiles(home: Path, **profiles: tuple[str, str]) -> None:
    """~/.aws/credentials and ~/.aws/config with each profile's key and region."""
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    credentials = config = ""
    for name, (key, region) in profiles.items():
        credentials += f"[{name}]\naws_access_key_id = {key}\naws_secret_access_key = s-{key}\n"
        section = name if name == "default" else f"profile {name}"
        config += f"[{section}]\nregion = {region}\n"
    (aws / "credentials").write_text(credentials)
    (aws / "config").write_text(config)


def aws_home() -> Path:
    return Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).parent.parent


def test_exported_keys_sign_the_next_call(shell: Any, endpoint: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    set_keys(monkeypatch, "AKIAFIRSTKEY0000")
    assert call(shell) is None
    assert signer(endpoint) == ("AKIAFIRSTKEY0000", "us-east-1")
    shell.run_line_magic("env", "AWS_ACCESS_KEY_ID=AKIASECONDKEY000")
    shell.run_line_magic("env", "AWS_SECRET_ACCESS_KEY=another-secret")
    shell.run_line_magic("env", "AWS_DEFAULT_REGION=eu-west-1")
    assert call(shell) is None
    assert signer(endpoint) == ("AKIASECONDKEY000", "eu-west-1")


def test_switching_aws_profile_switches_account_and_region(
    shell: Any, endpoint: FakeLambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profiles(aws_home(), default=("AKIADEFAULTPROF0", "us-east-1"), other=("AKIAOTHERPROFILE", "ap-southeast-2"))
    assert call(shell) is None
    assert signer(endpoint) == ("AKIADEFAULTPROF0", "us-east-1")
    monkeypatch.setenv("AWS_PROFILE", "default")
    shell.run_line_magic("env", "AWS_PROFILE=other")
    assert call(shell) is None
    assert signer(endpoint) == ("AKIAOTHERPROFILE", "ap-southeast-2")


def test_rotated_credentials_file_signs_the_next_call(shell: Any, endpoint: FakeLambda) -> None:
    write_profiles(aws_home(), default=("AKIAOLDROTATED00", "us-east-1"))
    assert call(shell) is None
    assert signer(endpoint) == ("AKIAOLDROTATED00", "us-east-1")
    write_profiles(aws_home(), default=("AKIANEWROTATED00", "us-east-1"))  # same length, in place
    assert call(shell) is None
    assert signer(endpoint) == ("AKIANEWROTATED00", "us-east-1")


def test_deleted_variables_are_not_used_any_more(
    shell: Any, endpoint: FakeLambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_keys(monkeypatch, "AKIAGOINGAWAY000")
    assert call(shell) is None
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    message = call(shell)
    assert message is not None and message.startswith("no AWS credentials")
    assert len(endpoint.calls) == 1


def test_recovery_after_no_credentials(shell: Any, endpoint: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    message = call(shell)
    assert message is not None and "no AWS credentials" in message and "aws configure" in message
    write_profiles(aws_home(), default=("AKIAWRITTENLATER", "us-east-1"))
    assert call(shell) is None
    assert signer(endpoint) == ("AKIAWRITTENLATER", "us-east-1")
    from lambda_magic import _client, resolve_settings

    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_home() / "nowhere"))
    assert call(shell) is not None
    failed = _client.credential_source(resolve_settings())
    assert all(key[0] != failed for key in _client._clients), "a failed client stays cached"
    set_keys(monkeypatch, "AKIAEXPORTEDNOW0")
    assert call(shell) is None
    assert signer(endpoint) == ("AKIAEXPORTEDNOW0", "us-east-1")


def test_recovery_after_expired_token(shell: Any, endpoint: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    set_keys(monkeypatch, "ASIATEMPORARY000")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-that-expired")
    endpoint.script(
        "fn", Reply.error(403, "ExpiredTokenException", "The security token included in the request is expired")
    )
    message = call(shell)
    assert message is not None and "ExpiredTokenException" in message and "refresh them" in message
    set_keys(monkeypatch, "ASIAFRESHKEYS000")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "fresh-token")
    assert call(shell) is None
    assert signer(endpoint) == ("ASIAFRESHKEYS000", "us-east-1")
    assert endpoint.calls[-1].headers["x-amz-security-token"] == "fresh-token"


def test_rotated_secret_key_file_is_read_again(shell: Any, endpoint: FakeLambda, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("first-secret")
    secret.chmod(0o600)
    shell.run_line_magic("lambda_config", f"access_key=AKIASETTINGSKEY0 secret_key_path={secret} region=us-east-1")
    assert call(shell) is None
    first = endpoint.calls[-1].headers["authorization"].rsplit("Signature=", 1)[1]
    secret.write_text("rotated-secret")
    assert call(shell) is None
    assert endpoint.calls[-1].headers["authorization"].rsplit("Signature=", 1)[1] != first


def test_the_cache_key_holds_no_secret(shell: Any, endpoint: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambda_magic import _client

    set_keys(monkeypatch, "AKIANOSECRETHERE")
    assert call(shell) is None
    assert _client._clients and "secret-of-" not in repr(list(_client._clients))
