"""The runbook model every export renders: the prototype's steps, cells and parameters.

``build_runbook`` reads the chosen history entries and the cells that ran with them:

- ``Runbook.steps``: one ``Step`` per exported invocation, in input order, each with its
  payload as recorded (literal text and ``Value``s: the ``${expr}`` sites, each saying
  whether it reads a parameter, an earlier step's response, or something computed);
- ``Runbook.cells``: the code cells that ran and led to those steps, in order (a step made
  outside any cell is a ``Cell`` without source); ``Runbook.left_out`` says which cells and
  lines were not taken, and why (failed, tooling, display only, credentials...);
- ``Runbook.parameters``: one rule for every format. A top-level assignment of a literal
  in an exported cell is a parameter; so is a notebook value the cells read but neither
  compute nor assign. ``region`` and ``endpoint_url`` are parameters too.

``Runbook.code_between_steps`` lists the cells a job of one step per invocation cannot
express (conditions, loops, computations): a Rundeck export refuses them by name.
``render_python`` (in ``_python``) renders the script that runs all of it.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lambda_magic._exceptions import ExportError, LambdaMagicError
from lambda_magic.runbook._cells import PROVIDED, CellCode, expression_names, is_json_literal, json_default, read_cell
from lambda_magic.runbook._history import CellRun, History, HistoryEntry

__all__ = [
    "Cell",
    "ExportError",
    "Import",
    "LeftOut",
    "Parameter",
    "Runbook",
    "Step",
    "Value",
    "build_runbook",
    "python_script",
    "slug",
    "template_text",
    "timeouts",
]

DEFAULT_NAME = "Lambda runbook"
#: Names the exports use themselves: a notebook variable of that name gets a suffix.
RESERVED = frozenset({"region", "endpoint_url", "json", "json_output", "help", "h"})
_JSON_TYPES = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
    list: "list",
    dict: "object",
}


@dataclass(frozen=True)
class Parameter:
    """A value whoever runs the runbook may change: a script option, a value of the
    notebook's ``parameters`` cell, a Rundeck option.

    ``origin`` is ``assignment`` (``variable = <literal>`` in cell ``In [cell]``),
    ``notebook`` (read by the cells, assigned by none of them: its value when exported) or
    ``setting`` (``region``, ``endpoint_url``; empty means the environment's region, and
    AWS's own endpoint).
    """

    name: str
    variable: str
    value: Any
    origin: str
    cell: int | None = None
    #: For a value a call made outside any cell computed (the form): its ``${expression}``.
    expression: str | None = None

    @property
    def type(self) -> str:
        """The value's JSON type: string, integer, number, boolean, null, list or object."""
        return _JSON_TYPES[type(self.value)]

    @property
    def default(self) -> str:
        """The value as command-line text: a string as it is, anything else as JSON."""
        return json_default(self.value)


@dataclass(frozen=True)
class Import:
    """A module (or a module's class or function) the cells use and no exported cell
    imports (it was imported before the extension was loaded): the export imports it."""

    variable: str
    module: str
    attribute: str | None = None

    @property
    def statement(self) -> str:
        """``import json``, ``import numpy as np``, ``from pathlib import Path``..."""
        if self.attribute is None:
            return f"import {self.module}" + ("" if self.variable == self.module else f" as {self.variable}")
        alias = "" if self.variable == self.attribute else f" as {self.variable}"
        return f"from {self.module} import {self.attribute}{alias}"


@dataclass(frozen=True)
class Value:
    """A ``${expression}`` site of a step's payload and the value it had.

    ``source`` says where the value comes from: ``parameter`` (the expression is a
    parameter's variable, named ``parameter``), ``response`` (it reads only responses of
    earlier steps; ``step`` is the latest of them, and ``path`` the keys into that step's
    response payload when the expression is ``var.payload[...]...`` with constant keys), or
    ``computed`` (anything else: code of the notebook computes it).
    """

    expression: str
    value: Any
    in_string: bool
    source: str
    reads: tuple[str, ...] = ()
    parameter: str | None = None
    step: int | None = None
    path: tuple[str | int, ...] | None = None

    @property
    def text(self) -> str:
        """What the notebook pasted into the payload for this site."""
        from lambda_magic._payload import render_value

        return render_value(self.expression, self.value, self.in_string)


@dataclass(frozen=True)
class Step:
    """One exported invocation: its history entry and its payload as recorded."""

    number: int
    entry: HistoryEntry
    payload: tuple[str | Value, ...] | None
    region: str | None
    endpoint_url: str | None
    #: The notebook variable the response was stored in (``-o``), if any.
    output: str | None = None

    @property
    def request(self) -> Any:
        """The recorded ``InvokeRequest``."""
        return self.entry.request

    @property
    def consumes(self) -> tuple[Value, ...]:
        """The values this step takes from earlier steps' responses."""
        return tuple(piece for piece in self.payload or () if isinstance(piece, Value) and piece.source == "response")


@dataclass(frozen=True)
class Cell:
    """An exported code cell (``source`` None: a step made outside any cell, rendered as
    its invocation), the cell as read, and the numbers of the steps it made."""

    execution_count: int | None
    source: str | None
    code: CellCode | None
    steps: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        """``In [n]``, or ``step n`` for a step made outside any cell."""
        if self.execution_count is not None:
            return f"In [{self.execution_count}]"
        return f"step {self.steps[0]}" if self.steps else "a cell"

    @property
    def expressible(self) -> bool:
        """Whether a job of one step per invocation says all this cell does: it only
        invokes (magics alone) or only assigns parameters."""
        code = self.code
        if code is None:
            return True
        if not code.parsed:
            return False
        return code.plain


@dataclass(frozen=True)
class LeftOut:
    """A cell, or lines of one, that the exports leave out, and why; ``lines`` is the kind
    of lines left out of a kept cell (``credentials``, ``tooling``, ``ipython``: the
    notebook export keeps IPython's own syntax), None for a whole cell or a value."""

    label: str
    reason: str
    lines: str | None = None


@dataclass(frozen=True)
class Runbook:
    """The steps to run in order, the cells that run them, and their parameters."""

    name: str
    steps: tuple[Step, ...]
    parameters: tuple[Parameter, ...]
    cells: tuple[Cell, ...]
    left_out: tuple[LeftOut, ...]
    #: Modules and their classes or functions the cells use and no exported cell imports.
    imports: tuple[Import, ...] = ()
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: Seconds: above Lambda's 900 s maximum function timeout, so a slow function is never
    #: taken for a lost call (and, with retries off, never re-sent).
    read_timeout: int = 960
    connect_timeout: int = 10

    @property
    def code_between_steps(self) -> tuple[Cell, ...]:
        """The cells a job of one step per invocation cannot express (conditions, loops,
        computations): exported as code only (``--as-script``)."""
        return tuple(cell for cell in self.cells if not cell.expressible)

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name``."""
        return next(parameter for parameter in self.parameters if parameter.name == name)

    @property
    def region(self) -> Parameter | None:
        """The ``region`` parameter (None when no step recorded a region)."""
        return next((p for p in self.parameters if p.origin == "setting" and p.variable == "region"), None)

    @property
    def endpoint_url(self) -> Parameter | None:
        """The ``endpoint_url`` parameter (its value empty for AWS's own endpoint)."""
        return next((p for p in self.parameters if p.origin == "setting" and p.variable == "endpoint_url"), None)


def build_runbook(
    entries: Iterable[HistoryEntry],
    *,
    source: History,
    namespace: Mapping[str, Any] | None = None,
    name: str = DEFAULT_NAME,
    endpoint: bool = True,
) -> Runbook:
    """The runbook of ``entries`` (in order), with the cells of ``source`` that led to them;
    ``namespace`` (the notebook's variables) gives the values of names no cell assigns."""
    chosen = list(entries)
    builder = _Builder(chosen, source, namespace or {})
    cells, left_out = builder.cells()
    builder.bind(cells)
    steps = builder.steps(endpoint)
    read_timeout, connect_timeout = timeouts()
    return Runbook(
        name=" ".join(str(name).split()) or DEFAULT_NAME,
        steps=tuple(steps),
        parameters=tuple(builder.parameters(steps, cells, endpoint)),
        cells=tuple(cells),
        left_out=tuple(left_out + builder.frozen),
        imports=tuple(builder.imports),
        read_timeout=read_timeout,
        connect_timeout=connect_timeout,
    )


def slug(expression: str) -> str:
    """A Python identifier (and option name) from an expression's words: ``resp_payload_id``."""
    words = re.findall(r"[A-Za-z0-9]+", expression)
    name = "_".join(words)[:40].strip("_") or "value"
    if name[0].isdigit():
        name = f"v_{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def template_text(payload: tuple[str | Value, ...] | None) -> str:
    """A step's payload written as a template: literal text (``${`` as ``$${``) and ``${expr}``."""
    return "".join(
        piece.replace("${", "$${") if isinstance(piece, str) else f"${{{piece.expression}}}" for piece in payload or ()
    )


def python_script(runbook: Runbook) -> str:
    """The runbook as a Python script (``_python.render_python``): the code of its cells,
    each magic a ``lambda_magic.invoke`` call; what a job step can run when the cells hold
    code a job cannot express."""
    from lambda_magic.runbook._python import render_python

    return render_python(runbook)


class _Builder:
    """The state ``build_runbook`` works through: entries, cells, names and their sources."""

    def __init__(self, chosen: list[HistoryEntry], source: History, namespace: Mapping[str, Any]) -> None:
        self.chosen = chosen
        self.numbers = {entry.index: number for number, entry in enumerate(chosen, start=1)}
        self.history = source
        self.namespace = namespace
        self.assigned: dict[tuple[int | None, str], str] = {}  # (cell, variable) -> parameter
        self.outputs: dict[str, tuple[int, ...]] = {}  # -o variable -> steps, as bound so far
        self.values: dict[int, tuple[str | Value, ...] | None] = {}
        self.step_outputs: dict[int, str] = {}
        self.taken: set[str] = set()
        self.assignments: list[Parameter] = []
        self.frozen: list[LeftOut] = []
        self.computed: dict[str, Parameter] = {}
        self.imports: list[Import] = []

    # --- which cells ----------------------------------------------------------------

    def cells(self) -> tuple[list[Cell], list[LeftOut]]:
        """The exported cells in order, and what was left out."""
        by_cell: dict[int, list[int]] = {}
        loose: list[int] = []
        for entry in self.chosen:
            if entry.execution_count is None:
                loose.append(self.numbers[entry.index])
            else:
                by_cell.setdefault(entry.execution_count, []).append(self.numbers[entry.index])
        invoked: set[int | None] = {entry.execution_count for entry in self.history}
        numbered = [run for run in self.history.cells() if run.execution_count is not None]
        last = _last_cell(numbered, by_cell)
        runs = [run for run in numbered if (run.execution_count or 0) <= last]
        kept, left_out = _choose_cells(runs, by_cell, invoked)
        return _with_loose_steps(kept, loose, self.chosen, self.numbers), left_out

    # --- what each name is ----------------------------------------------------------

    def bind(self, cells: list[Cell]) -> None:
        """Walk the cells in order: parameters assigned, responses stored, step payloads."""
        for cell in cells:
            code = cell.code
            if code is not None:
                for assignment in code.assignments:
                    parameter = self.claim(assignment.name)
                    self.assigned[(cell.execution_count, assignment.name)] = parameter
                    self.assignments.append(
                        Parameter(parameter, assignment.name, assignment.value, "assignment", cell.execution_count)
                    )
            for number in cell.steps:
                entry = self.chosen[number - 1]
                self.values[number] = self.payload(entry, number)
            self.store_outputs(cell)

    def store_outputs(self, cell: Cell) -> None:
        """``-o`` variables of the cell now hold its steps' responses (by function, in order)."""
        if cell.code is None:
            return
        for invocation in cell.code.invocations:
            output = invocation.args.output
            if not output:
                continue
            mine = tuple(n for n in cell.steps if self.chosen[n - 1].function == invocation.args.function)
            if mine:
                self.outputs[output] = mine if invocation.args.each else mine[-1:]
                for number in self.outputs[output]:
                    self.step_outputs[number] = output
            else:
                self.outputs.pop(output, None)

    def payload(self, entry: HistoryEntry, number: int) -> tuple[str | Value, ...] | None:
        """The step's payload as recorded: literal text and classified ``Value``s."""
        data = entry.request.payload
        if data is None:
            return None
        template, values = entry.template, entry.slot_values
        if template is None or len(template.slots) != len(values):
            try:
                return (data.decode("utf-8"),)
            except UnicodeDecodeError:
                raise ExportError(f"entry {entry.index}'s payload is binary, not text: it cannot be exported") from None
        found = iter(values)
        pieces = tuple(
            piece if isinstance(piece, str) else self.value(piece.expression, next(found), piece.in_string, number)
            for piece in template.pieces
        )
        return pieces if entry.execution_count is not None else tuple(self.unless_known(pieces, number))

    def unless_known(self, pieces: tuple[str | Value, ...], number: int) -> Iterator[str | Value]:
        """A step made outside any cell has no code to compute its values: one that reads
        anything but parameters, stored responses and literal notebook values becomes a
        parameter defaulting to the value it had (frozen, and listed, if not a literal)."""
        for piece in pieces:
            if isinstance(piece, str) or all(self.known(name) for name in piece.reads):
                yield piece
            elif is_json_literal(piece.value):
                name = self.claim(slug(piece.expression))
                self.computed[name] = Parameter(name, name, piece.value, "notebook", expression=piece.expression)
                yield Value(name, piece.value, piece.in_string, "parameter", (name,), parameter=name)
            else:
                self.frozen.append(
                    LeftOut(
                        f"step {number}",
                        f"${{{piece.expression}}} frozen to its value in the "
                        "notebook (the call was made outside a cell)",
                    )
                )
                yield piece.text

    def known(self, name: str) -> bool:
        if name in self.outputs or any(variable == name for _, variable in self.assigned):
            return True
        return name in self.namespace and is_json_literal(self.namespace[name])

    def value(self, expression: str, value: Any, in_string: bool, number: int) -> Value:
        reads = tuple(dict.fromkeys(name for name in expression_names(f"${{{expression}}}") if name not in PROVIDED))
        parameter = self.parameter_of(expression)
        if parameter is not None:
            return Value(expression, value, in_string, "parameter", reads, parameter=parameter)
        if reads and all(name in self.outputs for name in reads):
            step = max(max(self.outputs[name]) for name in reads)
            if step < number:
                return Value(expression, value, in_string, "response", reads, step=step, path=_payload_path(expression))
        return Value(expression, value, in_string, "computed", reads)

    def parameter_of(self, expression: str) -> str | None:
        """The parameter whose variable ``expression`` is (the latest assignment)."""
        found = [parameter for (_, variable), parameter in self.assigned.items() if variable == expression]
        return found[-1] if found else None

    def claim(self, variable: str) -> str:
        """A unique parameter name for ``variable`` (a suffix when taken or reserved)."""
        name, n = variable, 1
        while name in self.taken or name in RESERVED or keyword.iskeyword(name):
            n += 1
            name = f"{variable}_{n}"
        self.taken.add(name)
        return name

    # --- steps and parameters ---------------------------------------------------------

    def steps(self, endpoint: bool) -> list[Step]:
        return [
            Step(
                number,
                entry,
                self.values[number] if number in self.values else self.payload(entry, number),
                entry.region,
                entry.endpoint_url if endpoint else None,
                self.step_outputs.get(number),
            )
            for number, entry in enumerate(self.chosen, start=1)
        ]

    def parameters(self, steps: list[Step], cells: list[Cell], endpoint: bool) -> list[Parameter]:
        """Settings first, then the notebook values read and never assigned, then the
        assigned literals, in the order the cells assign them."""
        first = steps[0] if steps else None
        found = [Parameter("region", "region", (first.region if first else None) or "", "setting")]
        url = (first.endpoint_url if first and endpoint else None) or ""  # "": AWS's own
        found.append(Parameter("endpoint_url", "endpoint_url", url, "setting"))
        for name in _free_names(cells, steps):
            if name in self.computed:
                found.append(self.computed[name])
                continue
            found_import = _importable(name, self.namespace.get(name))
            if found_import is not None:
                self.imports.append(found_import)
            else:
                found.append(self.notebook_value(name))
        return found + self.assignments

    def notebook_value(self, variable: str) -> Parameter:
        if variable not in self.namespace:
            raise ExportError(
                f"the cells read {variable!r}, which no exported cell assigns and the notebook does not "
                "define: export from the notebook (%lambda_export), or pass namespace="
            )
        value = self.namespace[variable]
        if not is_json_literal(value):
            raise ExportError(
                f"the cells read {variable!r} ({type(value).__name__}), which no exported cell computes "
                "and which is not a literal value: re-run the cell that computes it, then export"
            )
        return Parameter(self.claim(variable), variable, value, "notebook")


def _last_cell(runs: list[CellRun], by_cell: dict[int, list[int]]) -> int:
    """The last cell to export: the last that made a step, or a later one that checks a
    step's response (an ``assert``, a condition...) without invoking."""
    last = max(by_cell, default=0)
    outputs: set[str] = set()
    for run in runs:
        if run.execution_count in by_cell:
            outputs |= {i.args.output for i in read_cell(run.source).invocations if i.args.output}
    for run in runs:
        if (run.execution_count or 0) > last and run.ok:
            code = read_cell(run.source)
            if code.acts and not code.invocations and outputs & set(code.reads):
                last = run.execution_count or last
    return last


def _importable(variable: str, value: Any) -> Import | None:
    """How to import ``value`` again: a module, or a module's own class or function."""
    import sys
    import types

    if isinstance(value, types.ModuleType):
        return Import(variable, value.__name__)
    module, name = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(name, str)) or module == "__main__" or "." in name:
        return None
    return Import(variable, module, name) if getattr(sys.modules.get(module), name, None) is value else None


def _choose_cells(
    runs: list[CellRun], by_cell: dict[int, list[int]], invoked: set[int | None]
) -> tuple[list[Cell], list[LeftOut]]:
    """From the last cell back: keep a cell that made exported steps, acts (a condition, a
    loop, a call...), or binds a name a kept later cell reads."""
    kept: list[Cell] = []
    left_out: list[LeftOut] = []
    needed: set[str] = set()
    for run in reversed(runs):
        count = run.execution_count
        label = f"In [{count}]"
        code = read_cell(run.source)
        reason = _left_out_reason(run, code, by_cell, invoked, needed)
        if reason is not None:
            left_out.append(LeftOut(label, reason))
            continue
        kept.append(Cell(count, run.source, code, tuple(by_cell.get(count or 0, ()))))
        needed = (needed - code.binds) | set(code.reads)
        left_out += [LeftOut(label, _LINE_REASONS[r.reason], r.reason) for r in code.removals]
    left_out.reverse()
    return list(reversed(kept)), _unique(left_out)


_LINE_REASONS = {
    "credentials": "a line that sets credentials (they come from the environment)",
    "tooling": "notebook tooling (%load_ext, %lambda_sandbox, %lambda_history...)",
    "ipython": "IPython-only syntax (a magic or shell command)",
}


def _left_out_reason(
    run: CellRun, code: CellCode, by_cell: dict[int, list[int]], invoked: set[int | None], needed: set[str]
) -> str | None:
    if not run.ok:
        return "failed"
    if run.execution_count in by_cell:
        return None
    if run.execution_count in invoked:
        return "its invocations are not exported"
    if not code.parsed:
        return "not Python"
    if code.acts or code.invocations or code.binds & needed:
        return None
    reasons = {removal.reason for removal in code.removals}
    if "credentials" in reasons:
        return _LINE_REASONS["credentials"]
    return "notebook tooling" if reasons and code.only_tooling else "display only"


def _unique(items: list[LeftOut]) -> list[LeftOut]:
    return list(dict.fromkeys(items))


def _with_loose_steps(
    kept: list[Cell], loose: list[int], chosen: list[HistoryEntry], numbers: dict[int, int]
) -> list[Cell]:
    """Steps made outside any cell, each placed after the cell of the step before it."""
    if not loose:
        return kept
    cells = list(kept)
    for number in loose:
        before = [n for n in range(number - 1, 0, -1) if chosen[n - 1].execution_count is not None]
        count = chosen[before[0] - 1].execution_count if before else None
        at = (
            0
            if count is None
            else next((i + 1 for i, cell in enumerate(cells) if cell.execution_count == count), len(cells))
        )
        while at < len(cells) and cells[at].source is None:
            at += 1
        cells.insert(at, Cell(None, None, None, (number,)))
    return cells


def _free_names(cells: list[Cell], steps: list[Step]) -> list[str]:
    """Names a cell reads that no cell before it (nor itself) binds."""
    bound: set[str] = set()
    needed: list[str] = []
    for cell in cells:
        if cell.code is not None:
            reads, binds = list(cell.code.reads), cell.code.binds
        else:
            reads, binds = _loose_reads(steps[cell.steps[0] - 1]), frozenset()
        for name in reads:
            if name not in bound and name not in binds and name not in PROVIDED and name not in needed:
                needed.append(name)
        bound |= binds
    return needed


def _loose_reads(step: Step) -> list[str]:
    return [name for piece in step.payload or () if isinstance(piece, Value) for name in piece.reads]


_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.payload((\[[^\[\]]+\])*)")


def _payload_path(expression: str) -> tuple[str | int, ...] | None:
    """``("service",)`` for ``health.payload["service"]``; None for anything else."""
    match = _PATH_RE.fullmatch(expression.replace(" ", ""))
    if match is None:
        return None
    keys: list[str | int] = []
    for key in re.findall(r"\[([^\[\]]+)\]", match.group(1)):
        try:
            value = ast.literal_eval(key)
        except (ValueError, SyntaxError):
            return None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return None
        keys.append(value)
    return tuple(keys)


def timeouts() -> tuple[int, int]:
    """Whole seconds (the AWS CLI takes integers); the read timeout at least the default."""
    import math

    from lambda_magic._settings import DEFAULTS, resolve_settings

    try:
        settings = resolve_settings()
        read, connect = settings.read_timeout, settings.connect_timeout
    except LambdaMagicError:
        read, connect = DEFAULTS["read_timeout"], DEFAULTS["connect_timeout"]
    return max(math.ceil(read), math.ceil(DEFAULTS["read_timeout"])), math.ceil(connect)
