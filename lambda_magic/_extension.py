"""Registering and removing lambda_magic in an IPython shell."""

from __future__ import annotations

from typing import Any

__all__ = ["MAGIC_CLASSES", "load", "unload"]


#: Every magics class, as "module:Class"; each module is imported only when loading.
MAGIC_CLASSES = [
    "lambda_magic._invoke_magics:InvokeMagics",
    "lambda_magic._form_magics:FormMagics",
    "lambda_magic._logs_magics:LogsMagics",
    "lambda_magic.runbook._history_magics:HistoryMagics",
    "lambda_magic.sandbox._magics:SandboxMagics",
]


def _magic_classes() -> list[type]:
    import importlib

    classes = []
    for spec in MAGIC_CLASSES:
        module, _, name = spec.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    return classes


def load(ipython: Any) -> None:
    """Register every magics class, the history's cell hooks, and make ``%config LambdaMagic``
    reach the settings."""
    from lambda_magic._settings import LambdaMagic
    from lambda_magic.runbook._history_magics import watch_cells

    settings = LambdaMagic.instance(parent=ipython)
    if settings not in ipython.configurables:
        ipython.configurables.append(settings)
    for magics in _magic_classes():
        ipython.register_magics(magics)
    watch_cells(ipython)


def unload(ipython: Any) -> None:
    """Remove everything ``load`` added: magics, hooks, the settings' ``%config`` entry
    (settings keep their values)."""
    from lambda_magic.runbook._history_magics import unwatch_cells

    registered = ipython.magics_manager.magics
    for magics in _magic_classes():
        for kind, names in magics.magics.items():  # type: ignore[attr-defined]  # set by @magics_class
            for name in names:
                registered[kind].pop(name, None)
    unwatch_cells(ipython)
    ipython.configurables[:] = [c for c in ipython.configurables if type(c).__name__ != "LambdaMagic"]
