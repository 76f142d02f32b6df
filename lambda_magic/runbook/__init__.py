"""From prototype to runbook: the session's invocation history and its export.

``_history`` records every invocation (with the cell it ran in and the payload template as
written); ``_cells`` reads a cell as code; ``_model`` builds the ``Runbook`` every format
renders (steps, the cells that led to them, parameters); ``_export`` chooses the entries and
hands the runbook to a renderer: ``_rundeck`` (job YAML), ``_python`` (a script) or
``_notebook`` (a notebook). ``_script`` is what an exported script runs with.

The public names stay at the package root: ``lambda_magic.history``, ``History``,
``HistoryEntry``, ``export``, ``ExportError``, ``HistoryError``.
"""
