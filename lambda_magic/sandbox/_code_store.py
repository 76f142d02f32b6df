"""A function's code on disk: which files it is, its digest, and frozen copies of it.

The digest is Lambda's ``CodeSha256``. Computing it reads every byte, so it is remembered
by the code's stat signature (each file's path, size, modification time and inode): code
that did not change is not read again, even by a later sandbox. A published version runs
from a read-only copy, made once per digest and kept in the store, so publishing unchanged
code again (AutoPublishAlias on every start) copies nothing.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import shutil
import stat
import uuid
from pathlib import Path

__all__ = ["CodeStore", "code_files"]

# Not part of the code: caches and environments.
_IGNORED = ("__pycache__", "*.pyc", ".git", ".venv", "venv", ".aws-sam", "node_modules")


class CodeStore:
    """Digests and frozen copies of code, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def digest(self, code_dir: Path, code_file: str | None) -> tuple[str, int]:
        """``CodeSha256`` (base64) and size of the code, read only if it changed."""
        files = code_files(code_dir, code_file)
        memo = self.root / "by-stat" / _signature(code_dir, files)
        try:
            remembered, size_text = memo.read_text(encoding="ascii").split()
            return remembered, int(size_text)
        except (OSError, ValueError):
            pass
        digest, size = _read_digest(code_dir, files)
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(f"{digest} {size}", encoding="ascii")
        return digest, size

    def freeze(self, code_dir: Path, code_file: str | None, digest: str) -> Path:
        """A read-only copy of the code (files 0444), made once per digest."""
        target = self.root / "frozen" / base64.b64decode(digest).hex()[:32]
        if target.exists():
            return target
        staging = target.parent / f".{target.name}.{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        for path in code_files(code_dir, code_file):
            destination = staging / path.relative_to(code_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            os.chmod(destination, 0o444)
        try:
            staging.rename(target)
        except OSError:  # another sandbox froze the same code first
            shutil.rmtree(staging, ignore_errors=True)
        return target


def code_files(code_dir: Path, code_file: str | None = None) -> list[Path]:
    """The regular files that make up the code, caches and environments left out.

    FIFOs, sockets and devices are skipped (reading a FIFO would block for ever), as are
    links that lead nowhere.
    """
    if code_file:
        return [code_dir / code_file]
    files: list[Path] = []
    for root, dirs, names in os.walk(code_dir):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))  # prune: never walk a venv
        files.extend(Path(root) / name for name in sorted(names) if not _ignored(name) and _regular(Path(root) / name))
    return files


def _signature(code_dir: Path, files: list[Path]) -> str:
    signature = hashlib.sha256()
    for path in files:
        info = path.stat()
        line = f"{path.relative_to(code_dir)}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}\n"
        signature.update(line.encode())
    return signature.hexdigest()[:40]


def _read_digest(code_dir: Path, files: list[Path]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for path in files:
        digest.update(str(path.relative_to(code_dir)).encode() + b"\0")
        with path.open("rb") as file:  # in chunks: a code folder may hold large files
            while chunk := file.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return base64.b64encode(digest.digest()).decode(), size


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _ignored(part: str) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for pattern in _IGNORED)
