"""secret_key_path: file, env:VAR, keyring:SERVICE/USER; one-line errors without the secret."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import pytest

from lambda_magic import SettingsError
from lambda_magic._secrets import SecretFileWarning, read_secret

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


def secret_file(tmp_path: Path, mode: int = 0o600, text: str = SECRET + "\n") -> Path:
    path = tmp_path / "aws-secret"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_file(tmp_path: Path) -> None:
    assert read_secret(str(secret_file(tmp_path))) == SECRET


def test_file_readable_by_others_warns_without_the_secret(tmp_path: Path) -> None:
    path = secret_file(tmp_path, 0o644)
    with pytest.warns(SecretFileWarning, match="chmod 600") as record:
        assert read_secret(str(path)) == SECRET
    assert SECRET not in str(record[0].message)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: str(p / "missing"), "cannot be read"),
        (lambda p: str(secret_file(p, text="  \n")), "is empty"),
    ],
)
def test_file_errors(tmp_path: Path, make: object, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        read_secret(make(tmp_path))  # type: ignore[operator]


def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", SECRET)
    assert read_secret("env:MY_SECRET") == SECRET
    with pytest.raises(SettingsError, match="environment variable NOPE is not set"):
        read_secret("env:NOPE")


def test_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        store: ClassVar[dict[tuple[str, str], str]] = {("aws", "ops"): SECRET}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        assert read_secret("keyring:aws/ops") == SECRET
        with pytest.raises(SettingsError, match="no password for service 'aws', user 'dev'"):
            read_secret("keyring:aws/dev")
        with pytest.raises(SettingsError, match="keyring:SERVICE/USERNAME"):
            read_secret("keyring:aws")
    finally:
        keyring.set_keyring(previous)
