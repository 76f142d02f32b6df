"""A ``Runbook`` as a clean notebook (nbformat v4): the cells the invocations came from.

The notebook loads the extension, sets the region and endpoint the prototype used, defines
the notebook values the cells need (a cell tagged ``parameters``, as papermill expects),
then holds each cell once, in order, without outputs, with the cells that ran between the
invocations without invoking (the Python that links the steps; not those that failed). An
invocation that was not made from a cell (the API outside a notebook, the form) becomes a
``%%lambda_invoke ... --raise`` cell of its own. ``%lambda_config`` lines that set
credentials are left out: credentials come from the environment of whoever runs it.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from lambda_magic.runbook._export import Parameter, Runbook, Step
from lambda_magic.runbook._history import CellRun

__all__ = ["cell_names", "render_notebook"]

_CREDENTIAL_CONFIG = re.compile(r"^.*%lambda_config\b.*\b(access_key|secret_key_path|profile)=.*$", re.MULTILINE)
_TOOLING = re.compile(r"^\s*(%(lambda_history|lambda_export|lambda_config|lambda_sandbox|load_ext|reload_ext)\b|#|$)")
_NOT_PARAMETERS = frozenset(dir(builtins)) | {"get_ipython", "display", "In", "Out", "exit", "quit"}


def render_notebook(runbook: Runbook, namespace: Mapping[str, Any] | None = None) -> str:
    """The notebook as nbformat v4 JSON text."""
    import nbformat
    from nbformat import v4

    sources = _step_sources(runbook)
    cells = [v4.new_markdown_cell(_intro(runbook)), v4.new_code_cell("%load_ext lambda_magic")]
    config = _config_line(runbook)
    if config:
        cells.append(v4.new_code_cell(config))
    parameters = _parameters_source(runbook, sources, namespace or {})
    if parameters:
        cells.append(v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells.extend(v4.new_code_cell(source) for source in sources)
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def _intro(runbook: Runbook) -> str:
    count = len(runbook.steps)
    return (
        f"# {runbook.name}\n\n"
        f"{count} AWS Lambda invocation{'s' if count != 1 else ''}, exported by lambda_magic on "
        f"{runbook.created:%Y-%m-%d %H:%M} UTC. Run it top to bottom (Run All, `jupyter execute`, "
        "papermill); cells with `--raise` stop the run when their function fails.\n\n"
        "AWS credentials come from the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID/"
        "AWS_SECRET_ACCESS_KEY, a role, or `%lambda_config access_key=... secret_key_path=...`): "
        "none are stored here."
    )


def _config_line(runbook: Runbook) -> str | None:
    first = runbook.steps[0]
    settings = [f"region={first.region}"] if first.region else []
    if first.endpoint_url:
        settings.append(f"endpoint_url={first.endpoint_url}")
    return f"%lambda_config {' '.join(settings)}" if settings else None


def _step_sources(runbook: Runbook) -> list[str]:
    """Each step's cell once, in order (a cell that invoked three times appears once), with
    the cells that ran between the steps without invoking: the Python linking them."""
    glue = _glue(runbook)
    seen: set[tuple[int | None, str]] = set()
    sources = []
    for step in runbook.steps:
        count, source = step.entry.execution_count, step.entry.source
        while glue and count is not None and (glue[0].execution_count or 0) < count:
            sources.append(_without_credentials(glue.pop(0).source))
        if source is None or not source.strip():
            sources.append(_synthesized(step))
        elif (count, source) not in seen:
            seen.add((count, source))
            sources.append(_without_credentials(source))
    return sources


def _glue(runbook: Runbook) -> list[CellRun]:
    """Cells numbered between the first and last step's that succeeded, invoked nothing,
    and are more than tooling (%lambda_history, %lambda_export, %lambda_config...)."""
    counts = [step.entry.execution_count for step in runbook.steps if step.entry.execution_count is not None]
    if not counts:
        return []
    low, high = min(counts), max(counts)
    cells = [
        cell for cell in runbook.cells
        if cell.execution_count is not None and low < cell.execution_count < high and cell.ok
        and cell.execution_count not in runbook.invoking_cells and not _is_tooling(cell.source)
    ]
    return sorted(cells, key=lambda cell: cell.execution_count or 0)


def _is_tooling(source: str) -> bool:
    return all(_TOOLING.match(line) for line in source.splitlines())


def _without_credentials(source: str) -> str:
    return _CREDENTIAL_CONFIG.sub("# (credentials: from the environment)", source).rstrip()


def _synthesized(step: Step) -> str:
    """A ``%%lambda_invoke`` cell for a step that was not made from a cell."""
    request = step.request
    words = [request.function_name]
    if request.qualifier:
        words += ["-q", request.qualifier]
    if request.invocation_type != "RequestResponse":
        words += ["-t", request.invocation_type]
    if request.client_context is not None:
        words += ["-c", json.dumps(request.client_context)]
    if not request.log:
        words.append("--no-log")
    if request.tenant_id:
        words += ["--tenant-id", request.tenant_id]
    if request.durable_execution_name:
        words += ["--durable-execution-name", request.durable_execution_name]
    words.append("--raise")
    line = "%%lambda_invoke " + " ".join(shlex.quote(word) for word in words)
    return f"{line}\n{_body(step.payload)}".rstrip()


def _body(payload: tuple[str | Parameter, ...] | None) -> str:
    if payload is None:
        return ""
    return "".join(
        piece.replace("${", "$${") if isinstance(piece, str) else f"${{{piece.name}}}" for piece in payload
    )


def _parameters_source(runbook: Runbook, sources: list[str], namespace: Mapping[str, Any]) -> str:
    """``name = value`` lines for every name the cells use before any cell defines it."""
    known: dict[str, Any] = {}
    for step in runbook.steps:
        for piece in step.payload or ():
            if isinstance(piece, Parameter):
                known.setdefault(piece.name, piece.value)
                if piece.expression.isidentifier():
                    known.setdefault(piece.expression, piece.value)
    lines = []
    for name in _free_names(sources):
        if name in known or (name in namespace and _is_literal(namespace[name])):
            lines.append(f"{name} = {known[name] if name in known else namespace[name]!r}")
        else:
            lines.append(f"# {name} = ...  (the cells below use it; its value could not be written here)")
    if not lines:
        return ""
    return "# The values the prototype used: change them here (papermill: tagged \"parameters\").\n" + "\n".join(lines)


def _free_names(sources: list[str]) -> list[str]:
    """Names used by a cell and bound by no cell before it (nor by itself)."""
    bound: set[str] = set()
    needed: list[str] = []
    for source in sources:
        used, binds = cell_names(source)
        for name in used:
            if name not in bound and name not in binds and name not in needed and name not in _NOT_PARAMETERS:
                needed.append(name)
        bound |= binds
    return needed


def cell_names(source: str) -> tuple[list[str], set[str]]:
    """The names a cell reads (in order) and the names it binds, magics included."""
    from lambda_magic.runbook._cells import read_cell

    code = read_cell(source)
    return list(code.reads), set(code.binds)


def _python_names(source: str) -> tuple[list[str], set[str]]:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return [], set()
    used: list[str] = []
    binds: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            binds.add(node.id)
        elif isinstance(node, ast.Name):
            used.append(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(node.name)
        elif isinstance(node, ast.arg):
            binds.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            binds.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return used, binds


def _is_literal(value: Any) -> bool:
    """Whether ``repr(value)`` reads back as the same value."""
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
