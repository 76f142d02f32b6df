"""The exception tree drawn in ``_exceptions``' docstring is the one the code has."""

from __future__ import annotations

import importlib
import pkgutil
import re

import lambda_magic
from lambda_magic import _exceptions
from lambda_magic._exceptions import LambdaMagicError

_NODE = re.compile(r"(?:[├└]── )?(?P<name>[A-Z]\w*Error)\b")


def drawn_tree() -> dict[str, str | None]:
    """Each class of the docstring's drawing and its parent (by the column it starts in)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (_exceptions.__doc__ or "").splitlines():
        if not re.match(r"\s*([│ ]\s*)*([├└]── )?LambdaMagicError|\s*[│ ]*\s*[├└]── ", line):
            continue
        match = _NODE.search(line)
        assert match, line
        column = match.start("name")
        while stack and stack[-1][0] >= column:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((column, match["name"]))
    return parents


def code_tree() -> dict[str, str | None]:
    """Every ``LambdaMagicError`` subclass the package defines, and its parent."""
    for module in pkgutil.walk_packages(lambda_magic.__path__, "lambda_magic."):
        if ".demo" not in module.name:
            importlib.import_module(module.name)
    found: dict[str, str | None] = {"LambdaMagicError": None}
    todo = [LambdaMagicError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("lambda_magic"):
                found[sub.__name__] = cls.__name__
                todo.append(sub)
    return found


def test_the_docstring_draws_the_tree_the_code_has() -> None:
    assert drawn_tree() == code_tree()


def test_every_error_is_defined_in_the_one_error_module() -> None:
    for name in code_tree():
        assert getattr(_exceptions, name).__module__ == "lambda_magic._exceptions", name
        assert name in _exceptions.__all__


def test_the_drawing_is_read_with_its_nesting() -> None:
    """The parser itself: a class drawn one level deeper is the child of the line above it."""
    tree = drawn_tree()
    assert tree["InterruptedInvocationError"] == "InvocationUnknownError"
    assert tree["PayloadError"] == "RequestError"
    assert tree["SandboxError"] == "LambdaMagicError"
