"""Code as the registry keeps it: special files skipped, published versions frozen read-only, copied once."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import write_module

from lambda_magic.sandbox import Sandbox
from lambda_magic.sandbox._code_store import CodeStore


def test_a_fifo_in_the_code_folder_is_skipped_not_read(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write_module(code, "app", "def handler(event, context):\n    return 1\n")
    os.mkfifo(code / "a-fifo")
    (code / "dangling").symlink_to(tmp_path / "nowhere")
    sandbox = Sandbox(demo=False)
    done = threading.Event()

    def define() -> None:
        sandbox.add_function("f", code=code, handler="app.handler", publish=True)
        done.set()

    threading.Thread(target=define, daemon=True).start()
    assert done.wait(30), "reading the FIFO blocked"
    version = sandbox.registry.get("f").versions["1"]
    assert sorted(os.listdir(version.code_dir)) == ["app.py"]


def test_published_versions_run_from_a_read_only_copy_made_once(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write_module(code, "app", "def handler(event, context):\n    return 1\n")
    sandbox = Sandbox(demo=False)
    sandbox.add_function("f", code=code, handler="app.handler", publish=True)
    first = sandbox.registry.get("f").versions["1"].code_dir
    assert first != code
    for path in first.rglob("*"):
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    sandbox.add_function("g", code=code, handler="app.handler", publish=True)  # same code
    assert sandbox.registry.get("g").versions["1"].code_dir == first
    (code / "app.py").write_text("def handler(event, context):\n    return 2\n")
    sandbox.add_function("f", code=code, handler="app.handler", publish=True)
    assert sandbox.registry.get("f").versions["1"].code_dir != first
    later = Sandbox(demo=False)  # a later sandbox (or session) reuses the frozen copy
    later.add_function("f", code=code, handler="app.handler", publish=True)
    assert later.registry.get("f").versions["1"].code_dir == sandbox.registry.get("f").versions["1"].code_dir


def test_unchanged_code_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "code"
    write_module(code, "app", "def handler(event, context):\n    return 1\n")
    store = CodeStore(tmp_path / "store")
    first = store.digest(code, None)
    reads: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.is_relative_to(code):
            reads.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    assert store.digest(code, None) == first
    assert reads == []
    (code / "app.py").write_text("def handler(event, context):\n    return 22\n")
    reads.clear()
    assert store.digest(code, None) != first
    assert reads == [code / "app.py"]
