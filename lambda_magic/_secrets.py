"""Reading the secret access key from where ``secret_key_path`` says it lives.

The secret is returned to the client builder and nowhere else: no error message, warning
or repr here ever contains it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import warnings
from pathlib import Path

from lambda_magic._exceptions import SettingsError

__all__ = ["SecretFileWarning", "read_secret", "secret_stamp"]


class SecretFileWarning(UserWarning):
    """A secret key file can be read by other users."""


_warned: set[Path] = set()


def read_secret(spec: str) -> str:
    """Read the secret named by ``file path``, ``env:VAR`` or ``keyring:SERVICE/USERNAME``."""
    if spec.startswith("env:"):
        return _from_env(spec[4:])
    if spec.startswith("keyring:"):
        return _from_keyring(spec[8:])
    return _from_file(Path(spec).expanduser())


def secret_stamp(spec: str) -> str:
    """What changes when the secret changes, without reading a file and without the secret.

    A file is known by its identity (inode, size, modification time): one ``stat``, no read.
    """
    if spec.startswith("env:") or spec.startswith("keyring:"):
        return hashlib.blake2b(read_secret(spec).encode(), digest_size=16).hexdigest()
    path = Path(spec).expanduser()
    try:
        info = path.stat()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return f"{path}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def _unreadable(path: Path, exc: OSError) -> SettingsError:
    return SettingsError(
        f"secret_key_path {str(path)!r} cannot be read ({exc.strerror}): point it at a file "
        "holding only the secret key, or use env:VAR"
    )


def _from_env(name: str) -> str:
    if not name:
        raise SettingsError("secret_key_path env: names no variable: write env:VAR, e.g. env:AWS_SECRET_ACCESS_KEY")
    value = os.environ.get(name)
    if not value:
        raise SettingsError(
            f"secret_key_path env:{name}: environment variable {name} is not set; export it before starting Jupyter"
        )
    return value


def _from_keyring(spec: str) -> str:
    service, _, username = spec.partition("/")
    if not service or not username:
        raise SettingsError(f"secret_key_path keyring:{spec}: write it as keyring:SERVICE/USERNAME")
    try:
        import keyring
    except ImportError:
        raise SettingsError(
            "secret_key_path uses keyring, which is not installed: pip install 'lambda-magic[keyring]'"
        ) from None
    try:
        value = keyring.get_password(service, username)
    except Exception as exc:  # keyring backends raise their own types
        raise SettingsError(f"keyring could not be read ({type(exc).__name__}); check its backend") from None
    if not value:
        raise SettingsError(
            f"keyring has no password for service {service!r}, user {username!r}: "
            f"store it with `keyring set {service} {username}`"
        )
    return value


def _from_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    except UnicodeDecodeError:
        raise SettingsError(f"secret key file {path} is not UTF-8 text: put only the secret access key in it") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and path not in _warned:
        _warned.add(path)
        warnings.warn(
            f"secret key file {path} can be read by other users: chmod 600 {path}",
            SecretFileWarning,
            stacklevel=2,
        )
    if not value:
        raise SettingsError(f"secret key file {path} is empty: put the secret access key in it")
    return value
