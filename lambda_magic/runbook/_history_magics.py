"""The ``%lambda_history`` and ``%lambda_export`` magics, and the hook that tells the
history which cell an invocation came from.

Both magics parse and dispatch only: the table is ``History.table``, the export is
``_export.export``; a ``LambdaMagicError`` becomes IPython's one-line ``UsageError``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from lambda_magic._magic_line import parse_line, usage_errors
from lambda_magic.runbook._history import TABLE_ROWS, HistoryTable, history

__all__ = ["HistoryMagics", "started_count", "unwatch_cells", "watch_cells"]

#: Each watched shell and the two hooks registered on it (so unloading can remove them).
_hooks: weakref.WeakKeyDictionary[Any, tuple[Callable[[Any], None], Callable[[Any], None]]] = (
    weakref.WeakKeyDictionary()
)


def watch_cells(shell: Any) -> None:
    """Record, for each invocation, the cell that ran it (its text and ``In [n]``).

    Registered once per shell, by loading the extension; entries made outside a cell (the
    form's button, a thread that outlives its cell) get no cell.
    """
    if shell in _hooks:
        return

    def before(info: Any) -> None:
        count = started_count(shell) if getattr(info, "store_history", False) else None
        history.begin_cell(info.raw_cell or "", count)

    def after(result: Any) -> None:
        stored = getattr(getattr(result, "info", None), "store_history", False)
        count = getattr(result, "execution_count", None) if stored else None
        history.end_cell(ok=bool(getattr(result, "success", True)), execution_count=count)

    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
    _hooks[shell] = (before, after)


def unwatch_cells(shell: Any) -> None:
    """Remove the hooks ``watch_cells`` registered on ``shell`` (``%unload_ext``)."""
    hooks = _hooks.pop(shell, None)
    if hooks is not None:
        shell.events.unregister("pre_run_cell", hooks[0])
        shell.events.unregister("post_run_cell", hooks[1])


def started_count(shell: Any) -> int:
    """The ``In [n]`` number of the cell that is starting, as ``pre_run_cell`` sees it.

    IPython 9 counts up before ``pre_run_cell`` (``run_cell_async`` in
    IPython/core/interactiveshell.py keeps the cell's number in ``result.execution_count``),
    IPython 8 after the cell ran. ``post_run_cell`` passes the settled number either way.
    """
    import IPython

    count = int(shell.execution_count)
    return count - 1 if IPython.version_info[0] >= 9 else count


@magics_class
class HistoryMagics(Magics):
    """Look back at this session's invocations and export them as a runbook."""

    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "entries", nargs="?", help=f"Entries to show, e.g. 10-20 or 1-3,5 (default: the last {TABLE_ROWS})."
    )
    @magic_arguments.argument("-n", dest="last", type=int, metavar="N", help="Show the last N entries.")
    @magic_arguments.argument("--all", action="store_true", help="Show every entry.")
    @magic_arguments.argument("--clear", action="store_true", help="Forget every entry.")
    @line_magic
    def lambda_history(self, line: str) -> HistoryTable | None:
        """Show this session's invocations, oldest first: by default the last 50.

        One row per invocation: its number, time, function, qualifier, invocation type,
        status, round trip, whether it succeeded, and the cell it came from (``In [n]``).
        Each entry keeps its request and its response (or error)::

            %lambda_history                 # the last 50
            %lambda_history -n 10           # the last 10
            %lambda_history 10-20           # some of them (also 1-3,5)
            %lambda_history --all           # every one
            lambda_magic.history.entry(4).response.payload
            %lambda_history --clear         # forget them (numbers go on)

        Credentials are never recorded. ``%lambda_export`` turns entries into a runbook.
        """
        args = parse_line(self.lambda_history, line)
        with usage_errors():
            chosen = [
                name
                for name, given in (("a selection", args.entries), ("-n", args.last is not None), ("--all", args.all))
                if given
            ]
            if args.clear:
                if chosen:
                    raise UsageError("--clear forgets every entry: leave out the selection, -n and --all")
                return self._clear()
            if len(chosen) > 1:
                raise UsageError(f"give one of a selection, -n N or --all, not {' and '.join(chosen)}")
            if args.last is not None and args.last < 1:
                raise UsageError(f"-n {args.last}: give how many of the latest entries to show, at least 1")
            last = None if args.entries or args.all else args.last or TABLE_ROWS
            return history.table(args.entries, last=last)

    @staticmethod
    def _clear() -> None:
        count = len(history)
        history.clear()
        print(f"forgot {count} invocation{'s' if count != 1 else ''}")

    @magic_arguments.magic_arguments()
    @magic_arguments.argument("format", help="rundeck (job YAML), python (a script) or magic (a notebook).")
    @magic_arguments.argument(
        "entries", nargs="?", help="Entries to export, e.g. 1-3,5 (default: every successful one, in order)."
    )
    @magic_arguments.argument("--name", default="Lambda runbook", help="The runbook's (job's) name.")
    @magic_arguments.argument("-o", "--output", dest="path", help="Write to this file instead of printing.")
    @magic_arguments.argument(
        "--include-failed", action="store_true", help="Allow selected entries that failed (they become ordinary steps)."
    )
    @magic_arguments.argument(
        "--no-endpoint",
        action="store_true",
        help="Leave out the endpoint URL (run against AWS what was tried on the sandbox).",
    )
    @magic_arguments.argument(
        "--key-storage-path",
        dest="key_storage_path",
        help="rundeck: Key Storage path of the AWS secret key (default: keys/aws/secret_key).",
    )
    @magic_arguments.argument(
        "--node-filter",
        dest="node_filter",
        help="rundeck: run on the nodes this filter selects (PagerDuty Runbook Automation needs one).",
    )
    @magic_arguments.argument(
        "--as-script",
        dest="as_script",
        action="store_true",
        help="rundeck: one step running the Python export (for code between the steps).",
    )
    @line_magic
    def lambda_export(self, line: str) -> None:
        """Export invocations of this session as a runbook: Rundeck job, Python script, notebook.

        The runbook holds the invocations (every successful one by default, in order) and
        the code cells that ran and led to them: conditions, loops and computations stay, and
        a value taken from an earlier response is read from it when the runbook runs. Failed
        cells, display-only cells, notebook tooling and lines that set credentials are left
        out (the export lists them). Top-level literal assignments, notebook values the cells
        read but never assign, the region and the endpoint URL are parameters (script
        options, the notebook's ``parameters`` cell, Rundeck options); the endpoint URL is
        kept unless ``--no-endpoint``. Nothing secret is written: credentials come from the
        environment of whoever runs the runbook::

            %lambda_export python -o restart_web.py
            %lambda_export magic -o restart_web.ipynb --no-endpoint
            %lambda_export rundeck -o restart-web.yaml --name "Restart web"

        Every invocation of an exported runbook stops it when its function fails; the
        script's exit status says how it ended (0 ok, 1 function failed, 2 bad arguments,
        3 nothing sent, 4 outcome unknown). Selecting an entry that failed needs
        --include-failed.

        A Rundeck job has one step per invocation (AWS CLI v2 and python3 on the node), a
        response value passed on through Key Value Data; code between the steps needs
        ``--as-script`` (one step running the Python export). Its credentials are options,
        the secret key read from Key Storage (``--key-storage-path``); ``--node-filter``
        chooses the nodes.
        """
        from lambda_magic.runbook._export import export

        args = parse_line(self.lambda_export, line)
        if not args.name.strip():
            raise UsageError('--name is empty: give the runbook a name, e.g. --name "Restart web"')
        with usage_errors():
            text = export(
                args.format,
                args.entries,
                name=args.name,
                path=args.path,
                include_failed=args.include_failed,
                endpoint=not args.no_endpoint,
                namespace=self.shell.user_ns if self.shell is not None else None,
                **_rundeck_options(args),
            )
        if args.path:
            print(f"wrote the {args.format} export to {args.path}")
        else:
            print(text)


def _rundeck_options(args: Any) -> dict[str, Any]:
    """The Rundeck-only options that were given (the other formats refuse them)."""
    given = {
        "key_storage_path": args.key_storage_path,
        "node_filter": args.node_filter,
        "as_script": args.as_script or None,
    }
    return {name: value for name, value in given.items() if value is not None}
