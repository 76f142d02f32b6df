"""From prototype to runbook: the session's invocation history and its export.

``_history`` records every invocation (with the cell it ran in); ``_export`` turns chosen
entries into a ``Runbook`` (the shared model: steps, parameters, the cells between them)
and hands it to a renderer: ``_rundeck`` (job YAML), ``_python`` (a script) or
``_notebook`` (a notebook). ``_template`` reads a payload's ``${expr}`` sites back from
what was recorded; ``_script`` is what an exported script imports at run time.

The public names stay at the package root: ``lambda_magic.history``, ``History``,
``HistoryEntry``, ``export``, ``ExportError``, ``HistoryError``.
"""
