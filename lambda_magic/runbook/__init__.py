"""From prototype to runbook: the session's invocation history and its export.

``_history`` records every invocation (with the cell it ran in and the payload template as
written); ``_cells`` reads a cell as code; ``_model`` builds the ``Runbook`` every format
renders (steps, the cells that led to them, parameters); ``_export`` chooses the entries and
hands the runbook to a renderer: ``_rundeck`` (job YAML), ``_python`` (a script) or
``_notebook`` (a notebook). ``_script`` is what an exported script runs with.

The public names stay at the package root: ``lambda_magic.history``, ``History``,
``HistoryEntry``, ``export``, ``ExportError``, ``HistoryError``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["events", "payload", "payload_file", "raise_for_errors", "run_script"]


def __getattr__(name: str) -> Any:
    # What exported scripts import, loaded on first use (the extension imports this package).
    if name in __all__:
        from lambda_magic.runbook import _script

        return getattr(_script, name)
    raise AttributeError(f"module 'lambda_magic.runbook' has no attribute {name!r}")
