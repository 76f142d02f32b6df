"""The cell "Copy as magic" writes."""

from __future__ import annotations

from lambda_magic._magic_cell import magic_cell


def test_magic_cell_quotes_what_the_shell_would_split() -> None:
    text = magic_cell("fn", "", client_context="{'a': 1}", region="us east")
    assert text == "%%lambda_invoke fn -c '{'\"'\"'a'\"'\"': 1}' --region 'us east'\n"
