"""Building like ``sam build``, without Docker: a function's (or layer's) ``requirements.txt``.

Dependencies are installed with the interpreter that runs the workers (``pip install
--target``) into a folder of the build cache named by the hash of the requirements file and
the Python version, so an unchanged file is installed once and shared by every function,
sandbox and session that names it. A folder is complete once its marker file exists: an
interrupted build leaves only a temporary folder behind, never a half-built cache entry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from lambda_magic.sandbox._errors import SandboxError

__all__ = ["default_cache_dir", "install_requirements", "requirements_of"]

_COMPLETE = ".lambda-magic-build-complete"
Progress = Callable[[str], None]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/lambda_magic/sandbox`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lambda_magic" / "sandbox"


def requirements_of(folder: Path) -> Path | None:
    """The ``requirements.txt`` directly inside a code folder, as ``sam build`` finds it."""
    candidate = folder / "requirements.txt"
    return candidate if candidate.is_file() else None


def install_requirements(requirements: Path, *, owner: str, cache_dir: Path, progress: Progress | None = None) -> Path:
    """The folder holding ``requirements``' packages, installed now unless cached."""
    data = requirements.read_bytes()
    key = hashlib.sha256(data + b"\0" + sys.implementation.cache_tag.encode()).hexdigest()[:20]
    target = cache_dir / "deps" / f"{sys.implementation.cache_tag}-{key}"
    if (target / _COMPLETE).exists():
        return target
    if progress is not None:
        progress(f"building {owner}: pip install -r {requirements} (cached by its hash)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        _pip_install(requirements, staging, owner)
        (staging / _COMPLETE).write_text(requirements.name, encoding="utf-8")
        try:
            staging.rename(target)
        except OSError:  # another build finished first: keep its folder
            if not (target / _COMPLETE).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _pip_install(requirements: Path, target: Path, owner: str) -> None:
    # Run from the file's folder: relative paths in it (./wheels/x.whl) mean what they say.
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        str(target),
        "--no-input",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--quiet",
        "-r",
        str(requirements),
    ]
    result = subprocess.run(
        command, cwd=requirements.parent, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if result.returncode != 0:
        raise SandboxError(f"{owner}: cannot install {requirements}: {_reason(result.stderr)}")


def _reason(stderr: str) -> str:
    """pip's own ERROR lines, in one line (its last lines if it printed none)."""
    errors = [line.removeprefix("ERROR: ").strip() for line in stderr.splitlines() if line.startswith("ERROR:")]
    lines = errors or [line.strip() for line in stderr.splitlines() if line.strip()][-2:]
    return "; ".join(lines)[:600] or "pip failed without saying why"
