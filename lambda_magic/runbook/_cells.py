"""A notebook cell read as code: its invocations, parameters, names, and what to leave out.

IPython's ``TransformerManager`` turns a cell's magics into ``get_ipython().run_line_magic``
and ``run_cell_magic`` calls; ``ast`` reads the result. ``read_cell`` finds, by their
positions in that Python text:

- the ``%lambda_invoke`` / ``%%lambda_invoke`` calls, with their parsed options;
- top-level assignments of a literal (string, number, boolean, None, or a list or dict of
  those): the cell's parameters;
- statements to leave out of a runbook: credentials (``%lambda_config access_key=...``,
  ``%env AWS_...``, ``os.environ["AWS_..."] = ...``, ``boto3.setup_default_session(...)``,
  any call given ``aws_secret_access_key=``...), notebook tooling (``%load_ext``,
  ``%lambda_history``, ``%lambda_sandbox``...), and other IPython-only syntax;
- the names it reads and binds (``${expr}`` and ``-o`` included).

This is reading code to translate it, not recovering payloads: what an invocation sent is
recorded on its request (``InvokeRequest.template``).
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from argparse import Namespace
from dataclasses import dataclass
from typing import Any

__all__ = ["Assignment", "CellCode", "Invocation", "Removal", "expression_names", "read_cell"]

#: Line magics that only serve the notebook session (left out of every export).
TOOLING = frozenset(
    {
        "load_ext",
        "reload_ext",
        "unload_ext",
        "lambda_history",
        "lambda_export",
        "lambda_sandbox",
        "lambda_config",
        "lambda_form",
        "config",
        "matplotlib",
        "who",
        "whos",
        "pinfo",
        "pinfo2",
    }
)
_CREDENTIAL_KEYWORDS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "profile_name",
        "access_key",
        "secret_key_path",
        "profile",
    }
)
_CREDENTIAL_CONFIG = re.compile(r"(^|\s)(access_key|secret_key_path|profile)\s*=")
_DISPLAY_CALLS = frozenset({"print", "display", "pprint"})
#: Calls that, as a cell's last line, only make something to show.
_SHOWN_CALLS = _DISPLAY_CALLS | {"Markdown", "HTML", "JSON", "Image", "repr", "str", "len", "type", "dir", "vars"}
#: Names every cell may read without defining them.
PROVIDED = frozenset(dir(builtins)) | {"get_ipython", "display", "In", "Out", "exit", "quit"}
_NAME_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Invocation:
    """A ``%lambda_invoke`` (``body`` None) or ``%%lambda_invoke`` call in a cell.

    ``start``/``end`` index the ``get_ipython()`` call in ``CellCode.code``; ``statement``
    tells whether that call is a whole statement (then ``-o`` can become an assignment).
    """

    args: Namespace
    line: str
    body: str | None
    start: int
    end: int
    statement: bool
    lineno: int

    @property
    def payload_text(self) -> str | None:
        """The payload as written (the body, or ``--payload`` unless it names a file)."""
        if self.body is not None:
            return self.body
        payload = self.args.payload
        return payload if payload is not None and not payload.startswith("@") else None


@dataclass(frozen=True)
class Assignment:
    """A top-level ``name = <literal>``: a parameter of the runbook."""

    name: str
    value: Any
    start: int
    end: int
    lineno: int
    end_lineno: int


@dataclass(frozen=True)
class Removal:
    """A statement left out of exports, and why: ``credentials``, ``tooling`` or ``ipython``
    (IPython-only syntax a script cannot run)."""

    reason: str
    start: int
    end: int
    lineno: int
    end_lineno: int
    nested: bool


@dataclass(frozen=True)
class CellCode:
    """A cell's source, its Python text (magics as calls), and what ``read_cell`` found."""

    source: str
    code: str
    parsed: bool
    invocations: tuple[Invocation, ...]
    assignments: tuple[Assignment, ...]
    removals: tuple[Removal, ...]
    reads: tuple[str, ...]
    binds: frozenset[str]
    #: Does more than invoke, bind names and show values (a condition, a loop, a call...).
    acts: bool
    #: Holds only invocations, literal assignments and shown values: one step per
    #: invocation says all it does.
    plain: bool

    @property
    def lines_match(self) -> bool:
        """Whether the Python text has the source's lines (edits by line number apply)."""
        return self.code.rstrip("\n").count("\n") == self.source.rstrip("\n").count("\n")

    @property
    def is_cell_magic(self) -> bool:
        """The whole cell is one ``%%lambda_invoke``."""
        return len(self.invocations) == 1 and self.invocations[0].body is not None

    @property
    def only_tooling(self) -> bool:
        """Nothing is left once tooling, credentials and IPython-only lines are out."""
        return self.parsed and not self.acts and not self.binds and not self.invocations


def read_cell(source: str) -> CellCode:
    """Read a cell (IPython syntax) as code."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return CellCode(source, source, False, (), (), (), (), frozenset(), True, False)
    offsets = _line_offsets(code)
    reader = _Reader(code, offsets)
    reader.visit_cell(tree)
    return CellCode(
        source=source,
        code=code,
        parsed=True,
        invocations=tuple(reader.invocations),
        assignments=tuple(reader.assignments),
        removals=tuple(reader.removals),
        reads=tuple(reader.reads),
        binds=frozenset(reader.binds),
        acts=reader.acts,
        plain=reader.plain,
    )


def _line_offsets(code: str) -> list[int]:
    offsets, total = [0], 0
    for line in code.splitlines(keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


class _Reader:
    """Walks a cell's statements once, collecting what ``CellCode`` holds."""

    def __init__(self, code: str, offsets: list[int]) -> None:
        self.code, self.offsets = code, offsets
        self.invocations: list[Invocation] = []
        self.assignments: list[Assignment] = []
        self.removals: list[Removal] = []
        self.reads: list[str] = []
        self.binds: set[str] = set()
        self.acts = False
        self.plain = True
        self._removed: list[ast.stmt] = []

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offsets[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = self.offsets[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def visit_cell(self, tree: ast.Module) -> None:
        body = tree.body
        for index, statement in enumerate(body):
            self.visit_statement(statement, nested=False, last=index == len(body) - 1)
        removed = {id(node) for statement in self._removed for node in ast.walk(statement)}
        statements = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and id(node) not in removed and _is_invoke(node):
                self.invocation(node, statement=id(node) in statements)
        self.invocations.sort(key=lambda invocation: invocation.start)
        self.names(tree, removed)

    def visit_statement(self, statement: ast.stmt, *, nested: bool, last: bool) -> None:
        reason = removal_reason(statement)
        if reason is not None:
            start, end = self.span(statement)
            self.removals.append(
                Removal(reason, start, end, statement.lineno, statement.end_lineno or statement.lineno, nested)
            )
            self._removed.append(statement)
            return
        if not nested:
            self.top_level(statement, last=last)
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                self.visit_statement(child, nested=True, last=False)

    def top_level(self, statement: ast.stmt, *, last: bool) -> None:
        literal = _literal_assignment(statement)
        if literal is not None:
            start, end = self.span(statement)
            self.assignments.append(
                Assignment(
                    literal[0], literal[1], start, end, statement.lineno, statement.end_lineno or statement.lineno
                )
            )
            return
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and _is_invoke(statement.value):
            return
        shows = isinstance(statement, ast.Expr) and last and not isinstance(statement.value, ast.Call)
        self.plain = self.plain and shows
        self.acts = self.acts or _acts(statement, last=last)

    def invocation(self, call: ast.Call, *, statement: bool) -> None:
        from lambda_magic._invoke_magics import InvokeMagics
        from lambda_magic._magic_line import parse_line

        values = [arg.value for arg in call.args if isinstance(arg, ast.Constant)]
        line, body = str(values[1]), (str(values[2]) if len(values) > 2 else None)
        try:
            args = parse_line(InvokeMagics.lambda_invoke, line)
        except BaseException:  # a line the magic refuses (argparse exits): left as code
            return
        start, end = self.span(call)
        self.invocations.append(Invocation(args, line, body, start, end, statement, call.lineno))

    def names(self, tree: ast.Module, removed: set[int]) -> None:
        for node in ast.walk(tree):
            if id(node) in removed:
                continue
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Store):
                    self.binds.add(node.id)
                else:
                    self.reads.append(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.binds.add(node.name)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                self.reads.append(node.target.id)  # x += 1 reads x first
            elif isinstance(node, ast.arg):
                self.binds.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.binds.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        for invocation in self.invocations:
            if invocation.args.output:
                self.binds.add(invocation.args.output)
            for text in (invocation.payload_text, invocation.args.client_context):
                if text:
                    self.reads.extend(expression_names(text))


def _is_invoke(node: ast.Call) -> bool:
    magic = _magic_call(node)
    return magic is not None and magic[1] == "lambda_invoke" and magic[0] in ("run_line_magic", "run_cell_magic")


def _magic_call(node: ast.Call) -> tuple[str, str] | None:
    """``(run_line_magic|run_cell_magic|system|getoutput, magic name)`` for IPython's calls."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)):
        return None
    inner = func.value.func
    if not (isinstance(inner, ast.Name) and inner.id == "get_ipython"):
        return None
    first = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else ""
    return func.attr, str(first)


def removal_reason(statement: ast.stmt) -> str | None:
    """``credentials``, ``tooling`` or ``ipython`` for a statement exports leave out."""
    if _sets_credentials(statement):
        return "credentials"
    if isinstance(statement, (ast.Assign, ast.Expr)) and isinstance(statement.value, ast.Call):
        magic = _magic_call(statement.value)
        if magic is not None and magic[1] != "lambda_invoke":
            shows = isinstance(statement, ast.Expr) and magic[0] == "run_line_magic" and magic[1] in TOOLING
            return "tooling" if shows else "ipython"
    return None


def _sets_credentials(statement: ast.stmt) -> bool:
    """Whether a statement sets AWS credentials (or the AWS environment) in any known form."""
    if isinstance(statement, (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.FunctionDef, ast.ClassDef)):
        return False  # blocks: their own statements are looked at one by one
    for node in ast.walk(statement):
        if isinstance(node, ast.Call):
            magic = _magic_call(node)
            if magic == ("run_line_magic", "env") and _line(node).lstrip().startswith("AWS_"):
                return True
            if magic == ("run_line_magic", "lambda_config") and _CREDENTIAL_CONFIG.search(_line(node)):
                return True
            if _dotted(node.func).endswith("setup_default_session"):
                return True
            if any(keyword.arg in _CREDENTIAL_KEYWORDS for keyword in node.keywords):
                return True
            if _dotted(node.func).startswith("os.environ.") and _mentions_aws(node):
                return True
        if _sets_environ(node):
            return True
    return False


def _sets_environ(node: ast.AST) -> bool:
    """``os.environ["AWS_..."] = ...`` (or ``del``)."""
    if not (isinstance(node, ast.Subscript) and _dotted(node.value) == "os.environ"):
        return False
    return isinstance(node.ctx, (ast.Store, ast.Del)) and _mentions_aws(node.slice)


def _line(call: ast.Call) -> str:
    return str(call.args[1].value) if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) else ""


def _mentions_aws(node: ast.AST) -> bool:
    return any(
        (isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.startswith("AWS_"))
        or (isinstance(sub, ast.keyword) and (sub.arg or "").startswith("AWS_"))
        for sub in ast.walk(node)
    )


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _literal_assignment(statement: ast.stmt) -> tuple[str, Any] | None:
    """``(name, value)`` for ``name = <literal>`` (JSON's kinds of values only)."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target, value = statement.target, statement.value
    else:
        return None
    if not isinstance(target, ast.Name):
        return None
    try:
        literal = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return (target.id, literal) if is_json_literal(literal) else None


def is_json_literal(value: Any) -> bool:
    """A string, number, boolean, None, or a list or dict (string keys) of those."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(is_json_literal(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_json_literal(item) for key, item in value.items())
    return False


def _acts(statement: ast.stmt, *, last: bool) -> bool:
    """Whether a top-level statement does more than bind names or show a value: a block, an
    assert, a raise, or a call (as a cell's last line, one that only makes something to show
    does not count)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass)):
        return any(isinstance(node, ast.Call) and _magic_call(node) for node in ast.walk(statement))
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Call):
            name = _dotted(value.func).rpartition(".")[2]
            return name not in (_SHOWN_CALLS if last else _DISPLAY_CALLS)
        return False
    return True


def expression_names(text: str) -> list[str]:
    """The names a payload text reads: ``$name`` alone, or in ``${expr}`` sites."""
    from lambda_magic._exceptions import LambdaMagicError
    from lambda_magic._payload import scan_template

    whole = _NAME_RE.fullmatch(text.strip())
    if whole:
        return [whole.group(1)]
    try:
        expressions = [piece.expression or "" for piece in scan_template(text) if piece.kind == "expr"]
    except LambdaMagicError:
        return []
    names: list[str] = []
    for expression in expressions:
        nodes = [node for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)]
        local = {node.id for node in nodes if isinstance(node.ctx, ast.Store)}  # comprehension variables
        names += [node.id for node in nodes if node.id not in local]
    return names


def json_default(value: Any) -> str:
    """A parameter's value as command-line text: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
