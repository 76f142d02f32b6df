"""A ``Runbook`` as a Python script: the prototype's own code, run from the command line.

The script holds the exported cells, in order, in one function ``runbook(p)``; each
``%lambda_invoke``/``%%lambda_invoke`` becomes the equivalent ``lambda_magic.invoke`` (or,
with ``--each``, ``invoke_many``) call that raises when the function fails. Payloads keep
their ``${expr}`` as written, evaluated when the call is made: a value taken from an
earlier response is read from that response on every run. Conditions, loops and other
code stay as they were. Parameters are read where the notebook assigned them
(``incident_id = p.incident_id``) and are options of the script; the region and the
endpoint are options too. ``_script.run_script`` gives the command line and exit status.
"""

from __future__ import annotations

import io
import json
import tokenize
from collections.abc import Mapping
from typing import Any

from lambda_magic.runbook._cells import Invocation
from lambda_magic.runbook._model import Cell, Runbook, Step, template_text

__all__ = ["invocation_call", "render_python"]

_INDENT = "    "

_HEAD = '''\
#!/usr/bin/env python3
"""{doc}"""

from __future__ import annotations

import sys

from lambda_magic.runbook import events, payload, payload_file, raise_for_errors, run_script

#: The runbook's parameters and the values they had in the notebook: each is an option
#: (--incident-id ...; text as it is, anything else as JSON). An empty --endpoint-url is AWS's.
PARAMETERS = {parameters}


def runbook(p):
    """The notebook's cells, in order; ``p`` holds the parameters."""
    import lambda_magic  # here: a cell's own "import lambda_magic" makes the name local
'''

_TAIL = """

if __name__ == "__main__":
    sys.exit(run_script(runbook, PARAMETERS, __doc__))
"""


def render_python(runbook: Runbook, namespace: Mapping[str, Any] | None = None) -> str:
    """The script's text."""
    body = [_indent(line) for line in _notebook_values(runbook)]
    for cell in runbook.cells:
        body += ["", _indent(f"# --- {cell.label} ---"), _indented(cell_code(cell, runbook))]
    parameters = "{\n" + "".join(f"    {p.name!r}: {_literal(p.value)},\n" for p in runbook.parameters) + "}"
    text = _HEAD.format(doc=_doc(runbook), parameters=parameters) + "\n".join(body).rstrip() + "\n" + _TAIL
    _check_compiles(text)
    return text


def _check_compiles(text: str) -> None:
    """Refuse a script Python would not run (a cell's ``global`` or ``import *``, which a
    function body cannot hold), naming the cell."""
    from lambda_magic.runbook._model import ExportError

    try:
        compile(text, "<export>", "exec")
    except SyntaxError as exc:
        above = text.splitlines()[: exc.lineno or 0]
        cell = next((line.strip()[6:-4] for line in reversed(above) if line.strip().startswith("# --- ")), "a cell")
        raise ExportError(
            f"{cell} cannot run in the exported script ({exc.msg}): rewrite it, or export the notebook (magic)"
        ) from None


def _doc(runbook: Runbook) -> str:
    count = len(runbook.steps)
    lines = [
        f"{_safe(runbook.name)}: a runbook exported by lambda_magic from a notebook on "
        f"{runbook.created:%Y-%m-%d %H:%M} UTC.",
        "",
        f"Runs the notebook's cells that led to its {count} AWS Lambda invocation{'s' if count != 1 else ''}, "
        "in order; each magic is a",
        "lambda_magic.invoke / invoke_many call that raises when the function fails.",
        "Needs Python 3.10+ and lambda_magic (pip install lambda_magic). AWS credentials come",
        "from the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a role),",
        "never from this file.",
    ]
    if runbook.left_out:
        lines += ["", "Left out of the notebook:"]
        lines += [f"  {item.label}: {_safe(item.reason)}" for item in runbook.left_out]
    lines += [
        "",
        "Exit status: 0 every step succeeded; 1 a function failed (or the runbook's code raised);",
        "2 bad arguments; 3 nothing was sent (not found, denied, unreachable, throttled out);",
        "4 the outcome is unknown (timeout, 5xx, dropped connection): the message says so.",
    ]
    return "\n".join(lines) + "\n"


def _safe(text: str) -> str:
    return text.replace("\\", "/").replace('"""', "'''")


def _notebook_values(runbook: Runbook) -> list[str]:
    """Imports the cells need and no cell makes, and ``name = p.name`` for the notebook
    values the cells read and no cell assigns."""
    lines = [item.statement for item in runbook.imports]
    found = [p for p in runbook.parameters if p.origin == "notebook"]
    if found:
        lines += ["# Notebook values the cells read and no cell assigns."]
        lines += [
            f"{p.variable} = p.{p.name}" + (f"  # ${{{p.expression}}} in the notebook" if p.expression else "")
            for p in found
        ]
    return lines


def cell_code(cell: Cell, runbook: Runbook) -> str:
    """A cell as Python: magics as calls, parameters read, left-out lines marked."""
    if cell.code is None:
        return _loose_step(runbook.steps[cell.steps[0] - 1])
    code = cell.code
    if not code.parsed:
        return "\n".join(f"# {line}" for line in (cell.source or "").splitlines())
    edits = [(r.start, r.end, f"{'pass  ' if r.nested else ''}# left out: {_REASONS[r.reason]}") for r in code.removals]
    edits += [(i.start, i.end, invocation_call(i, _line_indent(code.code, i.start))) for i in code.invocations]
    assigned = [p for p in runbook.parameters if p.origin == "assignment" and p.cell == cell.execution_count]
    for assignment in code.assignments:
        parameter = next(p for p in assigned if p.variable == assignment.name)
        assigned.remove(parameter)
        edits.append((assignment.start, assignment.end, f"{assignment.name} = p.{parameter.name}"))
    text = code.code
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text.rstrip()


def _line_indent(text: str, offset: int) -> str:
    line = text[text.rfind("\n", 0, offset) + 1 :]
    return line[: len(line) - len(line.lstrip())]


_REASONS = {
    "credentials": "a line that sets credentials",
    "tooling": "notebook tooling",
    "ipython": "IPython-only syntax",
}


def invocation_call(invocation: Invocation, indent: str = "") -> str:
    """The ``lambda_magic.invoke`` / ``invoke_many`` call a magic stands for (one argument
    a line when long; ``indent`` is the line's own)."""
    args = invocation.args
    keywords = _keywords(args)
    if args.each:
        if args.concurrency is not None:
            keywords.append(f"concurrency={args.concurrency}")
        events_text = (invocation.payload_text or "").strip()
        call = _call(
            "lambda_magic.invoke_many", [repr(args.function), f"events({events_text!r}, locals())", *keywords], indent
        )
        call = f"raise_for_errors({call})"
    else:
        call = _call(
            "lambda_magic.invoke", [repr(args.function), _payload(invocation), *keywords, "raise_on_error=True"], indent
        )
    if not args.output:
        return call
    return f"{args.output} = {call}" if invocation.statement else f"({args.output} := {call})"


def _call(function: str, arguments: list[str], indent: str) -> str:
    one_line = f"{function}({', '.join(arguments)})"
    if len(indent) + len(one_line) <= 100:
        return one_line
    inner = indent + _INDENT
    return f"{function}(\n" + "".join(f"{inner}{argument},\n" for argument in arguments) + f"{indent})"


def _keywords(args: Any) -> list[str]:
    found = []
    if str(args.invocation_type).lower() not in ("requestresponse", "request", "sync"):
        found.append(f"invocation_type={args.invocation_type!r}")
    if args.qualifier:
        found.append(f"qualifier={args.qualifier!r}")
    context = args.client_context
    if context:
        found.append(f"client_context={context[1:] if context.startswith('$') else repr(context)}")
    if args.no_log:
        found.append("log=False")
    for key in ("tenant_id", "durable_execution_name", "region", "stack_name", "read_timeout"):
        value = getattr(args, key, None)
        if value is not None and not (args.each and key in ("tenant_id", "stack_name", "durable_execution_name")):
            found.append(f"{key}={value!r}")
    return found


def _payload(invocation: Invocation) -> str:
    payload = invocation.args.payload
    if invocation.body is None and payload is not None and payload.startswith("@"):
        return f"payload_file({payload[1:]!r}, locals())"
    return _payload_text(invocation.payload_text)


def _payload_text(text: str | None) -> str:
    body = (text or "").strip()
    if not body:
        return "None"
    return f"payload({body!r}, locals())" if "$" in body else repr(body)


def _loose_step(step: Step) -> str:
    """The call for a step made outside any cell (the form, the API)."""
    request = step.request
    keywords = []
    if request.invocation_type != "RequestResponse":
        keywords.append(f"invocation_type={request.invocation_type!r}")
    if request.qualifier:
        keywords.append(f"qualifier={request.qualifier!r}")
    if request.client_context is not None:
        keywords.append(f"client_context={_literal(request.client_context)}")
    if not request.log:
        keywords.append("log=False")
    for key in ("tenant_id", "durable_execution_name"):
        if getattr(request, key):
            keywords.append(f"{key}={getattr(request, key)!r}")
    keywords.append("raise_on_error=True")
    payload_text = "None" if step.payload is None else _payload_text(template_text(step.payload))
    name = request.logical_id or request.function_name  # STACK/LogicalId: looked up when it runs
    return _call("lambda_magic.invoke", [repr(name), payload_text, *keywords], "")


def _literal(value: Any) -> str:
    """Python source for a JSON value (its repr reads back the same)."""
    return repr(value) if not isinstance(value, float) else json.dumps(value)


def _indented(text: str) -> str:
    """``text`` one level in, except lines inside a multi-line string (their text is data)."""
    inside = _string_lines(text)
    return "\n".join(
        line if number in inside or not line.strip() else _INDENT + line
        for number, line in enumerate(text.splitlines(), start=1)
    )


def _indent(line: str) -> str:
    return _INDENT + line if line else line


def _string_lines(text: str) -> set[int]:
    """Line numbers that continue a string token begun on an earlier line."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside
