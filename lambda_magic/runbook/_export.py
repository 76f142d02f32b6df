"""Export: history entries to a runbook (a Rundeck job, a Python script, a clean notebook).

``export()`` picks the entries (by default every successful one, in order), builds the
runbook model (``_model.build_runbook``: steps, the cells that led to them, parameters) and
hands it to the format's renderer. Nothing secret goes in: requests carry no credentials,
credential lines are left out, and the rendered text is checked against this session's
secrets before it is returned or written.

``Parameter``/``Step``/``Runbook``/``build_runbook`` here are the earlier, per-invocation
model the Rundeck renderer still reads (each ``${expr}`` site an option); it goes once
``_rundeck`` reads ``_model.Runbook``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambda_magic._exceptions import LambdaMagicError
from lambda_magic.runbook._history import CellRun, History, HistoryEntry, history
from lambda_magic.runbook._model import ExportError, slug, timeouts
from lambda_magic.runbook._model import build_runbook as build_model

__all__ = ["FORMATS", "ExportError", "Parameter", "Runbook", "Step", "build_runbook", "export"]

#: Each format and the "module:function" that renders a ``Runbook`` in it.
FORMATS: dict[str, str] = {
    "rundeck": "lambda_magic.runbook._rundeck:render_rundeck",
    "python": "lambda_magic.runbook._python:render_python",
    "magic": "lambda_magic.runbook._notebook:render_notebook",
}
#: Formats whose renderer still reads this module's per-invocation model.
_LEGACY = frozenset({"rundeck"})
DEFAULT_NAME = "Lambda runbook"
_RESERVED = frozenset({"region", "endpoint_url", "help", "h"})
_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_MIN_SECRET = 16  # shorter values are not real keys, and would match innocent text


@dataclass(frozen=True)
class Parameter:
    """A value the notebook pasted with ``${expression}``; ``text`` is what was pasted
    (the value's JSON, or inside a JSON string its escaped text)."""

    name: str
    expression: str
    value: Any
    in_string: bool
    text: str

    @property
    def default(self) -> str:
        """The value as an option's default: the text itself where it was pasted into a
        JSON string (exports escape it again), else its JSON."""
        if self.in_string and isinstance(self.value, str):
            return self.value
        return self.text


@dataclass(frozen=True)
class Step:
    """One invocation of the runbook; ``payload`` is literal text and ``Parameter``s."""

    number: int
    entry: HistoryEntry
    payload: tuple[str | Parameter, ...] | None
    region: str | None
    endpoint_url: str | None

    @property
    def request(self) -> Any:
        """The recorded ``InvokeRequest``."""
        return self.entry.request


@dataclass(frozen=True)
class Runbook:
    """The steps to run in order, their parameters, and where they ran."""

    name: str
    steps: tuple[Step, ...]
    parameters: tuple[Parameter, ...]
    regions: tuple[tuple[str, str], ...]
    created: datetime
    #: Seconds: the read timeout is above Lambda's 900 s maximum function timeout, so a
    #: slow function is never taken for a lost call (and, with retries off, never re-sent).
    read_timeout: int = 960
    connect_timeout: int = 10
    #: The session's numbered cells, and the numbers of those that invoked (any entry):
    #: the notebook format keeps the cells that ran between the steps without invoking.
    cells: tuple[CellRun, ...] = ()
    invoking_cells: frozenset[int] = frozenset()

    def region_option(self, region: str | None) -> str | None:
        """The option name that carries ``region`` (None when no region was recorded)."""
        return next((name for name, value in self.regions if value == region), None)


def export(
    format: str,
    entries: str | Iterable[int] | Iterable[HistoryEntry] | None = None,
    *,
    name: str = DEFAULT_NAME,
    path: str | os.PathLike[str] | None = None,
    include_failed: bool = False,
    endpoint: bool = True,
    namespace: Mapping[str, Any] | None = None,
    source: History | None = None,
) -> str:
    """Turn history entries into a runbook and return its text (also written to ``path``).

    ``format`` is ``rundeck`` (job YAML), ``python`` (a script using ``lambda_magic.invoke``)
    or ``magic`` (a notebook of the cells, nbformat v4 JSON). ``entries`` is a selection
    such as ``"1-3,5"``, entry numbers or entries; by default every successful entry.
    Failed entries are refused when selected unless ``include_failed``. ``endpoint=False``
    leaves out the endpoint URL (to run against AWS what was tried on the sandbox).
    ``namespace`` (the notebook's variables) fills the magic format's parameters cell.
    """
    renderer = _renderer(format)
    source = source if source is not None else history
    chosen = choose_entries(source, entries, include_failed)
    runbook: Any
    if format.strip().lower() in _LEGACY:
        runbook = build_runbook(chosen, name=name, endpoint=endpoint, source=source)
    else:
        runbook = build_model(chosen, source=source, namespace=namespace, name=name, endpoint=endpoint)
    text = renderer(runbook, namespace or {})
    _refuse_secrets(text, format)
    if path is not None:
        _write(Path(path).expanduser(), text)
    return text


def _renderer(format: str) -> Callable[[Runbook, Mapping[str, Any]], str]:
    import importlib

    spec = FORMATS.get(str(format).strip().lower())
    if spec is None:
        raise ExportError(f"unknown export format {format!r}: use {', '.join(FORMATS)}")
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def choose_entries(
    source: History,
    entries: str | Iterable[int] | Iterable[HistoryEntry] | None,
    include_failed: bool,
) -> list[HistoryEntry]:
    """The entries to export, in history order, with the failure policy applied."""
    if len(source) == 0 and entries is None:
        raise ExportError("the history is empty: invoke a function first (%%lambda_invoke), then export")
    if entries is None:
        chosen = [entry for entry in source if entry.ok]
        if not chosen:
            raise ExportError(
                "no successful invocation in the history to export: select failed ones "
                "explicitly with --include-failed (include_failed=True)"
            )
        return chosen
    chosen = _selected(source, entries)
    failed = [str(entry.index) for entry in chosen if not entry.ok]
    if failed and not include_failed:
        raise ExportError(
            f"entr{'y' if len(failed) == 1 else 'ies'} {', '.join(failed)} failed in the notebook: "
            "leave them out, or add --include-failed (include_failed=True) to export them as steps"
        )
    return chosen


def _selected(
    source: History, entries: str | Iterable[int] | Iterable[HistoryEntry]
) -> list[HistoryEntry]:
    """Entries given as a selection text, as numbers, or as the entries themselves."""
    items: list[Any] = [entries] if isinstance(entries, str) else list(entries)
    given = [item for item in items if isinstance(item, HistoryEntry)]
    if isinstance(entries, str):
        chosen = source.select(entries)
    elif given and len(given) == len(items):
        chosen = sorted(given, key=lambda entry: entry.index)
    else:
        chosen = source.select([item.index if isinstance(item, HistoryEntry) else int(item) for item in items])
    if not chosen:
        raise ExportError("the selection is empty: name entries such as 1-3,5 (see %lambda_history)")
    return chosen


def build_runbook(
    entries: Iterable[HistoryEntry],
    *,
    name: str = DEFAULT_NAME,
    endpoint: bool = True,
    source: History | None = None,
) -> Runbook:
    """Steps for ``entries`` in order, their parameters named once, and the regions;
    ``source``, the history they come from, tells which cells ran around them."""
    names = _Names()
    regions: dict[str, str] = {}
    steps = []
    for number, entry in enumerate(entries, start=1):
        if entry.region and entry.region not in regions:
            regions[entry.region] = names.claim("region", reserved=True)
        pieces = _step_payload(entry, names)
        url = entry.endpoint_url if endpoint else None
        steps.append(Step(number, entry, pieces, entry.region, url))
    read_timeout, connect_timeout = timeouts()
    return Runbook(
        name=" ".join(str(name).split()) or DEFAULT_NAME,
        steps=tuple(steps),
        parameters=tuple(names.parameters.values()),
        regions=tuple((option, region) for region, option in regions.items()),
        created=datetime.now(timezone.utc),
        read_timeout=read_timeout,
        connect_timeout=connect_timeout,
        cells=tuple(source.cells()) if source is not None else (),
        invoking_cells=frozenset(
            entry.execution_count for entry in source or () if entry.execution_count is not None
        ),
    )


def _step_payload(entry: HistoryEntry, names: _Names) -> tuple[str | Parameter, ...] | None:
    """The payload as recorded: the template's literal text, each slot a ``Parameter``."""
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
    return tuple(
        piece if isinstance(piece, str) else names.parameter(piece.expression, next(found), piece.in_string)
        for piece in template.pieces
    )


class _Names:
    """Gives parameters unique, readable names: the expression's words (resp_payload_id)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.parameters: dict[tuple[str, bool, str], Parameter] = {}

    def claim(self, base: str, *, reserved: bool = False) -> str:
        """``base``, or ``base_2``, ``base_3``... when taken (or reserved, unless allowed)."""
        name, n = base, 1
        while name in self.taken or (name in _RESERVED and not reserved):
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def parameter(self, expression: str, value: Any, in_string: bool) -> Parameter:
        from lambda_magic._payload import render_value

        text = render_value(expression, value, in_string)
        key = (expression, in_string, text)
        if key not in self.parameters:
            name = self.claim(slug(expression))
            self.parameters[key] = Parameter(name, expression, value, in_string, text)
        return self.parameters[key]


def _refuse_secrets(text: str, format: str) -> None:
    for secret in known_secrets():
        if secret in text:
            raise ExportError(
                f"the {format} export would contain a credential of this session (a secret "
                "key or session token): remove it from the notebook values the steps use"
            )


def known_secrets() -> list[str]:
    """This session's secret key and session token values, where they can be read."""
    from lambda_magic._secrets import read_secret
    from lambda_magic._settings import resolve_settings

    found = [os.environ.get(var, "") for var in _SECRET_VARS]
    try:
        settings = resolve_settings()
        if settings.secret_key_path:
            found.append(read_secret(settings.secret_key_path))
    except LambdaMagicError:
        pass  # unreadable settings or secret: nothing of it can be in the export either
    return [value for value in found if len(value) >= _MIN_SECRET]


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ExportError(f"cannot write {str(path)!r} ({reason}): choose another file with -o") from None
