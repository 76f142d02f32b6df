"""Registering and removing lambda_magic in an IPython shell."""

from __future__ import annotations

from typing import Any

__all__ = ["MAGIC_CLASSES", "load", "unload"]


#: Every magics class, as "module:Class"; each module is imported only when loading.
MAGIC_CLASSES = [
    "lambda_magic._magics:InvokeMagics",
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
    """Register every magics class and make ``%config LambdaMagic`` reach the settings."""
    from lambda_magic._settings import LambdaMagic

    settings = LambdaMagic.instance(parent=ipython)
    if settings not in ipython.configurables:
        ipython.configurables.append(settings)
    for magics in _magic_classes():
        ipython.register_magics(magics)


def unload(ipython: Any) -> None:
    """Remove the magics this extension registered (settings keep their values)."""
    registered = ipython.magics_manager.magics
    for magics in _magic_classes():
        instance = magics(shell=ipython)
        for kind, names in instance.magics.items():
            for name in names:
                registered[kind].pop(name, None)
    ipython.configurables[:] = [c for c in ipython.configurables if type(c).__name__ != "LambdaMagic"]
