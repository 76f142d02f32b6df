"""The README's Python examples run, in order, in one IPython session against the sandbox."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return [block.strip() for block in BLOCK.findall(README.read_text(encoding="utf-8"))]


def test_readme_has_examples() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 6
    assert any(block.startswith("%%lambda_invoke") for block in blocks)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="the examples start the sandbox, which runs handlers under awslambdaric (Linux only)",
)
def test_readme_examples_run(shell: Any) -> None:
    try:
        for number, block in enumerate(python_blocks(), 1):
            result = shell.run_cell(block)
            assert result.error_in_exec is None, f"README python block {number} failed:\n{block}"
            assert result.error_before_exec is None, f"README python block {number} failed:\n{block}"
    finally:
        shell.run_cell("%lambda_sandbox stop")
