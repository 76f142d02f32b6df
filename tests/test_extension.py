"""Loading and unloading the extension; loading stays cheap (no boto3, no ipywidgets)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

CHECK = """
import sys
import lambda_magic
after_import = {m for m in ("boto3", "botocore", "ipywidgets", "tqdm", "pandas") if m in sys.modules}
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "lambda_magic")
after_load = {m for m in ("boto3", "botocore", "ipywidgets", "tqdm", "pandas") if m in sys.modules}
print(sorted(after_import), sorted(after_load), sorted(shell.magics_manager.magics["cell"]))
"""


def test_import_and_load_ext_import_neither_boto3_nor_ipywidgets() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=60)
    after_import, after_load, _ = out.stdout.strip().split("] ", 2)
    assert after_import == "[" and after_load == "["  # nothing heavy imported
    assert "lambda_invoke" in out.stdout


def test_unload_removes_the_magics(shell: Any) -> None:
    assert shell.find_cell_magic("lambda_invoke") is not None
    shell.run_line_magic("unload_ext", "lambda_magic")
    assert shell.find_cell_magic("lambda_invoke") is None
    assert shell.find_line_magic("lambda_config") is None
    shell.run_line_magic("load_ext", "lambda_magic")
    assert shell.find_cell_magic("lambda_invoke") is not None


def test_unload_removes_every_hook_it_added(shell: Any) -> None:
    """After ``%unload_ext`` no lambda_magic callback is left on the shell's events."""

    def ours() -> list[str]:
        return [
            f"{event}:{callback.__module__}"
            for event, callbacks in shell.events.callbacks.items()
            for callback in callbacks
            if callback.__module__.startswith("lambda_magic")
        ]

    assert ours()  # loaded: the history's cell hooks are there
    shell.run_line_magic("unload_ext", "lambda_magic")
    assert ours() == []
    assert not any(type(c).__name__ == "LambdaMagic" for c in shell.configurables)
    shell.run_line_magic("load_ext", "lambda_magic")
    shell.run_line_magic("load_ext", "lambda_magic")  # a second load adds nothing twice
    assert sorted(ours()) == [
        "post_run_cell:lambda_magic.runbook._history_magics",
        "pre_run_cell:lambda_magic.runbook._history_magics",
    ]


def test_every_registered_magic_class_loads() -> None:
    from lambda_magic._extension import _magic_classes

    assert all(hasattr(magics, "magics") for magics in _magic_classes())
