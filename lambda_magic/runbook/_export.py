"""Export: history entries to a runbook (a Rundeck job, a Python script, a clean notebook).

``export()`` picks the entries (by default every successful one, in order), builds the
runbook model (``_model.build_runbook``: steps, the cells that led to them, parameters) and
hands it to the format's renderer. Nothing secret goes in: requests carry no credentials,
credential lines are left out, and the rendered text is checked against this session's
secrets before it is returned or written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from lambda_magic._exceptions import LambdaMagicError
from lambda_magic.runbook._history import History, HistoryEntry, history
from lambda_magic.runbook._model import ExportError, build_runbook

__all__ = ["FORMATS", "ExportError", "export"]

#: Each format and the "module:function" that renders a ``Runbook`` in it.
FORMATS: dict[str, str] = {
    "rundeck": "lambda_magic.runbook._rundeck:render_rundeck",
    "python": "lambda_magic.runbook._python:render_python",
    "magic": "lambda_magic.runbook._notebook:render_notebook",
}
DEFAULT_NAME = "Lambda runbook"
_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_MIN_SECRET = 16  # shorter values are not real keys, and would match innocent text


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
    **options: Any,
) -> str:
    """Turn history entries into a runbook and return its text (also written to ``path``).

    ``format`` is ``rundeck`` (job YAML), ``python`` (a script using ``lambda_magic.invoke``)
    or ``magic`` (a notebook of the cells, nbformat v4 JSON). ``entries`` is a selection
    such as ``"1-3,5"``, entry numbers or entries; by default every successful entry.
    Failed entries are refused when selected unless ``include_failed``. ``endpoint=False``
    leaves out the endpoint URL (to run against AWS what was tried on the sandbox).
    ``namespace`` (the notebook's variables) fills the magic format's parameters cell.
    ``options`` go to the renderer: for rundeck ``key_storage_path``, ``node_filter`` and
    ``as_script`` (see ``_rundeck.render_rundeck``).
    """
    renderer = _renderer(format)
    if options and str(format).strip().lower() != "rundeck":
        raise ExportError(f"{', '.join(sorted(options))}: only for the rundeck format")
    source = source if source is not None else history
    chosen = choose_entries(source, entries, include_failed)
    runbook = build_runbook(chosen, source=source, namespace=namespace, name=name, endpoint=endpoint)
    text = renderer(runbook, namespace or {}, **options)
    _refuse_secrets(text, format)
    if path is not None:
        _write(Path(path).expanduser(), text)
    return text


def _renderer(format: str) -> Callable[..., str]:
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


def _selected(source: History, entries: str | Iterable[int] | Iterable[HistoryEntry]) -> list[HistoryEntry]:
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
