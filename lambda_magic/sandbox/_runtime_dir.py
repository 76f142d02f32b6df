"""The runtime folder: what Lambda's Python runtime puts on ``sys.path`` besides your code.

Lambda's ``/var/runtime`` holds the runtime interface client and the AWS SDK (boto3 and its
dependencies), nothing else. The sandbox makes the same folder out of symbolic links to those
distributions as the notebook's environment has them, so a handler can ``import boto3`` as on
Lambda but cannot import pandas, IPython or lambda_magic just because the notebook can.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

__all__ = ["RUNTIME_DISTRIBUTIONS", "build_runtime_dir", "runtime_distributions"]

#: What Lambda's Python runtime provides; their dependencies come along.
RUNTIME_DISTRIBUTIONS = ("awslambdaric", "boto3")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def runtime_distributions(roots: tuple[str, ...] = RUNTIME_DISTRIBUTIONS) -> list[importlib.metadata.Distribution]:
    """``roots`` and everything they require (extras left out), each once."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = _normalized(todo.pop())
        if name in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional dependency this environment does not have
        found[name] = dist
        for requirement in dist.requires or []:
            name_part, _, marker = requirement.partition(";")
            match = _NAME.match(name_part.strip())
            if match and "extra" not in marker:
                todo.append(match[0])
    return list(found.values())


def build_runtime_dir(target: Path) -> Path:
    """Fill ``target`` with links to the runtime distributions' top-level entries."""
    target.mkdir(parents=True, exist_ok=True)
    for dist in runtime_distributions():
        for top in _top_level_entries(dist):
            link = target / top
            if not link.exists() and not link.is_symlink():
                link.symlink_to(Path(str(dist.locate_file(top))))
    return target


def _top_level_entries(dist: importlib.metadata.Distribution) -> set[str]:
    """The packages, modules and metadata folder a distribution installed (no scripts)."""
    entries = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first not in ("..", "__pycache__") and Path(str(dist.locate_file(first))).exists():
            entries.add(first)
    return entries


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
