"""Code as the registry keeps it: special files skipped, published versions frozen read-only, copied once."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from sandbox_fixtures import write_module

from lambda_magic.sandbox import Sandbox


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
    for path in [first, *first.rglob("*")]:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    sandbox.add_function("g", code=code, handler="app.handler", publish=True)  # same code
    assert sandbox.registry.get("g").versions["1"].code_dir == first
    (code / "app.py").write_text("def handler(event, context):\n    return 2\n")
    sandbox.add_function("f", code=code, handler="app.handler", publish=True)
    assert sandbox.registry.get("f").versions["1"].code_dir != first
