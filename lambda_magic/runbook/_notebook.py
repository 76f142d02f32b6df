"""A ``Runbook`` as a notebook (nbformat v4): the prototype's cells, ready for papermill.

The notebook opens with a cell tagged ``parameters`` (papermill injects its ``-p`` values
after it) holding every parameter: ``region``, ``endpoint_url``, the notebook values the
cells read and no cell assigns, and the literals the cells assigned (those assignments
leave their cells: the parameters cell is where the values are set). The configuration
cell after it loads the extension and uses ``region`` and ``endpoint_url``, and makes every
function error fail its cell (``raise_on_error``). Then come the exported cells, once each,
in order, without outputs; each ``%lambda_invoke`` carries ``--raise`` so that a headless
run stops at a failed function with its one-line reason. Credential lines and notebook
tooling are left out (the introduction lists them); chained ``${...}`` values stay as written.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from lambda_magic.runbook._model import Cell, Runbook, Step, template_text

__all__ = ["cell_source", "render_notebook"]

_CONFIG = """\
%load_ext lambda_magic
import lambda_magic

# Every call: the region and endpoint above (an empty endpoint_url is AWS's own), and a
# function error fails its cell, so a headless run (papermill, nbclient) stops there.
lambda_magic.session_settings().update(region=region or None, endpoint_url=endpoint_url or None,
                                       raise_on_error=True)"""
_INVOKE_RE = re.compile(r"(?<!%)%lambda_invoke\b")


def render_notebook(runbook: Runbook, namespace: Mapping[str, Any] | None = None) -> str:
    """The notebook as nbformat v4 JSON text."""
    import nbformat
    from nbformat import v4

    cells = [
        v4.new_markdown_cell(_intro(runbook)),
        v4.new_code_cell(_parameters(runbook), metadata={"tags": ["parameters"]}),
        v4.new_code_cell(_configuration(runbook)),
    ]
    sources = (cell_source(cell, runbook) for cell in runbook.cells)
    cells += [v4.new_code_cell(source) for source in sources if source.strip()]  # not emptied cells
    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def _intro(runbook: Runbook) -> str:
    count = len(runbook.steps)
    text = (
        f"# {runbook.name}\n\n"
        f"The cells of a prototype that made {count} AWS Lambda invocation{'s' if count != 1 else ''}, exported "
        f"by lambda_magic on {runbook.created:%Y-%m-%d %H:%M} UTC. Run it top to bottom (Run All, "
        "`jupyter execute`, `papermill -p region eu-west-1 ...`): the first cell holds the parameters, "
        "and every invocation stops the run when its function fails.\n\n"
        "Needs Jupyter (or papermill) and lambda_magic. AWS credentials come from the environment "
        "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a role): none are stored here."
    )
    left_out = [item for item in runbook.left_out if item.lines != "ipython"]  # a notebook runs those
    if left_out:
        text += "\n\nLeft out of the prototype:\n\n" + "\n".join(f"- {item.label}: {item.reason}" for item in left_out)
    return text


def _parameters(runbook: Runbook) -> str:
    lines = ["# The runbook's parameters, with the values they had in the prototype (papermill: -p NAME VALUE)."]
    for parameter in runbook.parameters:
        note = f"  # ${{{parameter.expression}}} in the prototype" if parameter.expression else ""
        lines.append(f"{parameter.name} = {parameter.value!r}{note}")
    return "\n".join(lines)


def _configuration(runbook: Runbook) -> str:
    """The configuration cell, with the imports the cells need and no cell makes, and the
    notebook values whose parameter has another name under their own."""
    lines = [item.statement for item in runbook.imports]
    lines += [f"{p.variable} = {p.name}" for p in runbook.parameters if p.origin == "notebook" and p.variable != p.name]
    return _CONFIG + ("\n\n" + "\n".join(lines) if lines else "")


def cell_source(cell: Cell, runbook: Runbook) -> str:
    """A cell as exported: ``--raise`` on each invocation, credentials, tooling and the
    parameters' assignments out (the parameters cell sets them)."""
    if cell.code is None or cell.source is None:
        return _synthesized(runbook.steps[cell.steps[0] - 1])
    code = cell.code
    if code.is_cell_magic:
        first, _, body = cell.source.lstrip("\n").partition("\n")
        return f"{_with_raise(first)}\n{body}".rstrip()
    if not code.parsed:
        return cell.source.rstrip()
    if not code.lines_match:  # a magic continued over lines: edit its Python text instead
        return _python_text(cell, runbook)
    lines = cell.source.splitlines()
    for invocation in code.invocations:
        lines[invocation.lineno - 1] = _with_raise(lines[invocation.lineno - 1])
    edits: dict[int, tuple[int, str | None]] = {}
    for removal in code.removals:
        if removal.reason != "ipython":  # a notebook runs IPython's own syntax
            line = _removed_line(lines[removal.lineno - 1], removal.nested, removal.reason)
            edits[removal.lineno] = (removal.end_lineno, line)
    for assignment in code.assignments:
        edits[assignment.lineno] = (assignment.end_lineno, _assigned(cell, assignment.name, runbook))
    return _apply(lines, edits)


def _python_text(cell: Cell, runbook: Runbook) -> str:
    """The cell as IPython's Python text (magics as ``get_ipython()`` calls, which a
    notebook runs as well), with the same edits made by position."""
    code = cell.code
    assert code is not None
    edits = [
        (r.start, r.end, f"{'pass  ' if r.nested else ''}# ({_WHAT[r.reason]})")
        for r in code.removals
        if r.reason != "ipython"
    ]
    for invocation in code.invocations:
        if invocation.body is None and not invocation.args.raise_:
            call = f"get_ipython().run_line_magic('lambda_invoke', {'--raise ' + invocation.line!r})"
            edits.append((invocation.start, invocation.end, call))
    for assignment in code.assignments:
        new = _assigned(cell, assignment.name, runbook)
        edits.append((assignment.start, assignment.end, new or f"# {assignment.name}: a parameter"))
    text = code.code
    for start, end, new_text in sorted(edits, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text.strip("\n")


def _apply(lines: list[str], edits: dict[int, tuple[int, str | None]]) -> str:
    out: list[str] = []
    number = 1
    while number <= len(lines):
        if number in edits:
            end, new = edits[number]
            if new is not None:
                out.append(new)
            number = end + 1
            continue
        out.append(lines[number - 1])
        number += 1
    return "\n".join(out).strip("\n")


_WHAT = {"credentials": "credentials: from the environment", "tooling": "notebook tooling: left out"}


def _removed_line(line: str, nested: bool, reason: str) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}{'pass  ' if nested else ''}# ({_WHAT[reason]})"


def _assigned(cell: Cell, variable: str, runbook: Runbook) -> str | None:
    """Nothing where the parameters cell sets the variable itself; else ``var = param``."""
    parameter = next(
        p
        for p in runbook.parameters
        if p.origin == "assignment" and p.cell == cell.execution_count and p.variable == variable
    )
    return None if parameter.name == variable else f"{variable} = {parameter.name}"


def _with_raise(line: str) -> str:
    """The magic's line with ``--raise`` (once): at the end of a ``%%lambda_invoke`` line,
    right after a line magic's name (its options may come anywhere)."""
    if "--raise" in line.split():
        return line
    if line.lstrip().startswith("%%lambda_invoke"):
        return f"{line.rstrip()} --raise"
    return _INVOKE_RE.sub("%lambda_invoke --raise", line, count=1)


def _synthesized(step: Step) -> str:
    """A ``%%lambda_invoke`` cell for a step that was not made from a cell."""
    request = step.request
    words = [request.logical_id or request.function_name]  # STACK/LogicalId: looked up when it runs
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
    return f"{line}\n{template_text(step.payload)}".rstrip()
