"""What an exported Python script runs with: its command line, its payloads, its exit status.

An exported script is the prototype's code in a function ``runbook(p)``; ``run_script``
parses the command line (one option per parameter, ``--json``, ``--help``), sets the region
and endpoint, runs it, and turns the way it ended into an exit status and one line:

====  ==============================================================================
0     every step succeeded
1     a function failed (or the runbook's own code raised)
2     bad arguments (an option's value, or a payload they make invalid: nothing was sent)
3     nothing was sent: function not found, access denied, unreachable, throttled out,
      no region or credentials
4     the outcome is unknown: read timeout, 5xx, dropped connection, interrupted
====  ==============================================================================

Each invocation is reported as it completes (``lambda_magic.history.listen``): a progress
line on stderr, and with ``--json`` one JSON document per step on stdout (the code's own
prints then go to stderr, so stdout holds only the documents).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext, redirect_stdout
from typing import Any, NoReturn

__all__ = ["events", "exit_status", "payload", "payload_file", "raise_for_errors", "run_script"]


def payload(template: str, namespace: Mapping[str, Any]) -> bytes | None:
    """The payload as the magic builds it: ``${expr}`` and ``$name`` read from ``namespace``."""
    from lambda_magic._payload import expand_payload

    return expand_payload(template, namespace).data


def payload_file(path: str, namespace: Mapping[str, Any]) -> bytes | None:
    """``--payload @path``: the file read now, then built like ``payload``."""
    from lambda_magic._payload import read_payload_file

    return payload(read_payload_file(path), namespace)


def events(template: str, namespace: Mapping[str, Any]) -> Iterable[bytes | None]:
    """A ``--each`` body's events as ``--each`` sends them (a JSON array, or ``$name``)."""
    from lambda_magic._fanout import cell_event, cell_events

    found, _origin = cell_events(template, namespace)
    return (cell_event(event) for event in found)


def raise_for_errors(results: Any) -> Any:
    """A fan-out's results, or the first failure raised (a function error as ``FunctionError``)."""
    for entry in results:
        entry.raise_for_error()
    return results


class _Parser(argparse.ArgumentParser):
    """argparse, with a one-line error (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def parse_arguments(parameters: Mapping[str, Any], doc: str, argv: list[str] | None) -> argparse.Namespace:
    """One option per parameter (``--incident-id``), defaulting to the notebook's value."""
    head, _, rest = (doc or "").strip().partition("\n\n")
    parser = _Parser(description=head, epilog=rest, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in parameters.items():
        kind = "text" if isinstance(default, str) else f"JSON {_JSON_NAMES.get(type(default), 'value')}"
        shown = default if isinstance(default, str) else json.dumps(default)
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=default,
            metavar=name.upper(),
            type=_converter(default),
            help=f"{kind} (default: {shown!r})".replace("%", "%%"),
        )
    parser.add_argument(
        "--json",
        action="store_true",
        dest="json_output",
        help="print one JSON document per step on stdout (progress on stderr)",
    )
    return parser.parse_args(argv)


_JSON_NAMES = {bool: "boolean", int: "integer", float: "number", list: "list", dict: "object"}


def _converter(default: Any) -> Callable[[str], Any]:
    """Text as it is for a text parameter; else JSON of the same type as the default."""
    if isinstance(default, str):
        return str

    def convert(text: str) -> Any:
        value = json.loads(text)
        expected = type(default)
        fits = default is None or isinstance(value, expected) or (expected is float and isinstance(value, int))
        if not fits or (isinstance(value, bool) and expected is not bool and default is not None):
            raise ValueError(f"not a JSON {_JSON_NAMES.get(expected, 'value')}")
        return value

    convert.__name__ = f"JSON {_JSON_NAMES.get(type(default), 'value')}"
    return convert


def configure(args: argparse.Namespace) -> None:
    """The region and endpoint of every call: the options (``--endpoint-url ''`` = AWS's);
    and every ``lambda_magic.invoke`` in the code raises on a function error."""
    from lambda_magic._settings import session_settings

    values: dict[str, Any] = {"raise_on_error": True}
    if hasattr(args, "region"):
        values["region"] = args.region or None
    if hasattr(args, "endpoint_url"):
        values["endpoint_url"] = args.endpoint_url or None
    session_settings().update(**values)


class _Reporter:
    """Reports each recorded invocation: progress on stderr, JSON documents on stdout."""

    def __init__(self, stdout: Any, *, json_output: bool) -> None:
        self.stdout, self.json_output = stdout, json_output
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, entry: Any) -> None:
        with self.lock:
            self.count += 1
            timing = f" in {entry.duration_ms:.0f} ms" if entry.duration_ms is not None else ""
            print(f"step {self.count}: {entry.target} {entry.status}{timing}", file=sys.stderr, flush=True)
            if self.json_output:
                print(json.dumps(_document(self.count, entry), default=str), file=self.stdout, flush=True)


def _document(number: int, entry: Any) -> dict[str, Any]:
    response = entry.response
    return {
        "step": number,
        "function": entry.function,
        "qualifier": entry.qualifier,
        "invocation_type": entry.invocation_type,
        "status": entry.status,
        "ok": entry.ok,
        "status_code": response.status_code if response is not None else None,
        "payload": response.payload if response is not None else None,
        "function_error": response.function_error if response is not None else None,
        "error": str(entry.error) if entry.error is not None else None,
    }


def run_script(
    runbook: Callable[[argparse.Namespace], None],
    parameters: Mapping[str, Any],
    doc: str,
    argv: list[str] | None = None,
) -> int:
    """Parse the command line, run ``runbook``, and return the exit status (see above)."""
    from lambda_magic.runbook._history import history

    args = parse_arguments(parameters, doc, argv)
    stdout = sys.stdout
    stop = history.listen(_Reporter(stdout, json_output=args.json_output))
    try:
        configure(args)
        with redirect_stdout(sys.stderr) if args.json_output else nullcontext():
            runbook(args)
    except (Exception, KeyboardInterrupt) as exc:  # every way a run ends has an exit status
        status, message = exit_status(exc)
        print(message, file=sys.stderr)
        return status
    finally:
        stop()
    return 0


def exit_status(exc: BaseException) -> tuple[int, str]:
    """The exit status for the way a run ended, and its one-line message."""
    from lambda_magic import _exceptions as errors

    text = " ".join(str(exc).split())
    if isinstance(exc, errors.FunctionError):
        return 1, f"failed: {text}"
    if isinstance(exc, errors.RequestError):
        return 2, f"bad arguments: {text} (nothing was sent)"
    if isinstance(exc, (errors.InvocationUnknownError, KeyboardInterrupt)):
        return 4, f"outcome unknown: {text or 'interrupted'} (the function may have run; check before re-running)"
    if isinstance(exc, (errors.InvokeError, errors.SettingsError)):
        return 3, f"nothing was sent: {text}"
    return 1, f"the runbook's code failed{_where(exc)}: {type(exc).__name__}: {text}"


def _where(exc: BaseException) -> str:
    """`` at In [n]`` from the ``# In [n]`` comment above the failing line of the script."""
    import linecache
    import traceback

    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.name == "runbook"]
    if not frames:
        return ""
    frame = frames[-1]
    for lineno in range(frame.lineno or 0, 0, -1):
        line = linecache.getline(frame.filename, lineno).strip()
        if line.startswith("# --- In ["):
            return f" in {line.removeprefix('# --- ').removesuffix(' ---')} (line {frame.lineno})"
    return f" (line {frame.lineno})"
