"""The ``%%lambda_invoke`` and ``%lambda_config`` magics: parse, dispatch, report.

Everything here is a thin layer over ``_invoke.execute``; a ``LambdaMagicError`` becomes
IPython's own ``UsageError`` (one line, no traceback) at this boundary.
"""

from __future__ import annotations

import argparse
import builtins
import keyword
import re
from typing import Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand

from lambda_magic._exceptions import FunctionError, ParameterError, PayloadError
from lambda_magic._magic_line import parse_line, usage_errors
from lambda_magic._payload import ExpandedPayload, expand_payload, read_payload_file

__all__ = ["InvokeMagics", "check_output_name"]


def _typed(kind: type, option: str, example: str, what: str) -> Any:
    """An argparse type whose error says what to write (argparse's: "invalid float value")."""

    def convert(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}: give e.g. {option} {example}") from None

    convert.__name__ = kind.__name__
    return convert


@magics_class
class InvokeMagics(Magics):
    """Invoke Lambda functions and manage lambda_magic's settings."""

    @property
    def _ns(self) -> dict[str, Any]:
        """The notebook's namespace (magics are always bound to a shell)."""
        assert self.shell is not None
        return self.shell.user_ns  # type: ignore[no-any-return]

    @no_var_expand
    @magic_arguments.magic_arguments()
    @magic_arguments.argument("function", help="Function name, name:alias, (partial) ARN, or STACK/LogicalId.")
    @magic_arguments.argument(
        "--stack-name",
        dest="stack_name",
        help="CloudFormation stack whose logical id FUNCTION is (as STACK/LogicalId).",
    )
    @magic_arguments.argument(
        "-t",
        "--type",
        dest="invocation_type",
        default="RequestResponse",
        help="RequestResponse (request, the default), Event (asynchronous) or DryRun.",
    )
    @magic_arguments.argument("-q", "--qualifier", help="Version number or alias.")
    @magic_arguments.argument(
        "-c",
        "--client-context",
        dest="client_context",
        help="Client context: a JSON object, or $name of a dict in the notebook.",
    )
    @magic_arguments.argument(
        "-o",
        "--output",
        dest="output",
        help="Store the response in this notebook variable, also when the function failed.",
    )
    @magic_arguments.argument("--payload", help="The event payload (line magic): JSON, $name, or @file.json.")
    @magic_arguments.argument(
        "--event", help="Send the saved test event NAME of the function (see %lambda_form's Saved events)."
    )
    @magic_arguments.argument("--no-log", action="store_true", help="Do not ask for the log tail.")
    @magic_arguments.argument(
        "--raise",
        dest="raise_",
        action="store_true",
        help="Fail the cell when the function fails (after storing the response).",
    )
    @magic_arguments.argument(
        "--each",
        action="store_true",
        help="Invoke once per element of the JSON array (or $list) in the cell; returns LambdaResponses.",
    )
    @magic_arguments.argument(
        "--concurrency",
        type=_typed(int, "--concurrency", "16", "a whole number"),
        help="With --each: calls in flight at most (default: the max_concurrency setting, 16).",
    )
    @magic_arguments.argument(
        "--stream", action="store_true", help="Call InvokeWithResponseStream and show the chunks as they arrive."
    )
    @magic_arguments.argument("--quiet", action="store_true", help="Display nothing, return None.")
    @magic_arguments.argument("--region", help="AWS region for this call.")
    @magic_arguments.argument("--profile", help="AWS profile for this call.")
    @magic_arguments.argument("--endpoint-url", dest="endpoint_url", help="Lambda endpoint URL.")
    @magic_arguments.argument(
        "--timeout",
        type=_typed(float, "--timeout", "30", "a number of seconds"),
        dest="read_timeout",
        help="Seconds to wait for the answer (read timeout) for this call.",
    )
    @magic_arguments.argument("--tenant-id", dest="tenant_id", help="Tenant id (X-Amz-Tenant-Id).")
    @magic_arguments.argument(
        "--durable-execution-name",
        dest="durable_execution_name",
        help="Name of a durable execution (X-Amz-Durable-Execution-Name).",
    )
    @line_cell_magic
    def lambda_invoke(self, line: str, cell: str | None = None) -> Any:
        """Invoke an AWS Lambda function; the cell body is the JSON event payload.

        The body may be empty (no payload), JSON, or exactly ``$name`` to send a notebook
        object; ``${expr}`` inside the JSON is replaced by the JSON of a Python expression
        (inside a string, by its text), and ``$${`` writes a literal ``${``. The response
        comes back as a ``LambdaResponse`` (``.payload``, ``.error``, ``.log``, ``.report``);
        ``-o NAME`` stores it, ``_`` holds it. Examples::

            %%lambda_invoke my-function -q prod -o resp
            {"instance": "i-123", "dry_run": false}

            %lambda_invoke my-function --payload '{"id": ${resp.payload["id"]}}' --raise

        ``--event NAME`` sends a saved test event of the function (a private one in
        ``.lambda_magic/events/FUNCTION/NAME.json``, else the shareable one the console and
        ``sam remote test-event`` keep)::

            %lambda_invoke my-function --event smoke-test

        ``--each`` invokes once per element of a JSON array (or ``$list``), ``--concurrency``
        at a time, with a progress bar; every input gets one entry of a ``LambdaResponses``,
        failed calls included, and Ctrl-C keeps what completed::

            %%lambda_invoke my-function --each --concurrency 32 -o results
            [{"id": 1}, {"id": 2}, {"id": 3}]

        ``--stream`` calls InvokeWithResponseStream: the chunks are shown as the function
        produces them, and the response has ``.chunks`` (``.payload`` decodes them joined).
        """
        args = parse_line(self.lambda_invoke, line)
        check_output_name(args.output, self.shell)
        if args.each or args.concurrency is not None:
            return self._each(args, cell)
        with usage_errors():
            request, settings = self._build(args, cell)
        return self._run(request, settings, args, cell)

    def _settings(self, args: Any) -> Any:
        from lambda_magic._settings import resolve_settings

        return resolve_settings(
            region=args.region,
            profile=args.profile,
            endpoint_url=args.endpoint_url,
            read_timeout=args.read_timeout,
            max_concurrency=args.concurrency,
        )

    def _build(self, args: Any, cell: str | None) -> tuple[Any, Any]:
        from lambda_magic._request import make_request
        from lambda_magic._stacks import physical_name

        settings = self._settings(args)
        fields = self._fields(args, settings)
        expanded = self._payload(args, cell)
        function, logical_id = physical_name(args.function, settings, stack_name=args.stack_name)
        request = make_request(
            function,
            expanded.data,
            substitutions=expanded.substitutions,
            template=expanded.template,
            logical_id=logical_id,
            stream=args.stream,
            **fields,
        )
        return request, settings

    def _fields(self, args: Any, settings: Any) -> dict[str, Any]:
        """``make_request``'s keywords from the line, checked (with the credentials' source)
        before any ``${}`` expression runs and before a ``STACK/LogicalId`` is looked up."""
        from lambda_magic._client import check_identity
        from lambda_magic._request import make_request
        from lambda_magic._stacks import parse_stack_reference

        check_identity(settings)  # an unknown profile or unreadable secret: no ${} runs either
        fields = {
            "invocation_type": args.invocation_type,
            "qualifier": args.qualifier,
            "client_context": self._client_context(args.client_context),
            "log": settings.log_tail and not args.no_log,
            "tenant_id": args.tenant_id,
            "durable_execution_name": args.durable_execution_name,
        }
        # A stack reference is checked by its own rules; any plain name stands in for it.
        stands_in = parse_stack_reference(args.function, args.stack_name) is not None
        make_request("function" if stands_in else args.function, None, **fields)
        return fields

    def _payload(self, args: Any, cell: str | None) -> ExpandedPayload:
        return expand_payload(self._payload_text(args, cell), self._ns)

    def _payload_text(self, args: Any, cell: str | None) -> str:
        text = cell if cell is not None else ""
        given = [what for what, value in (("--payload", args.payload), ("--event", args.event)) if value is not None]
        if len(given) + bool(text.strip()) > 1:
            got = " and ".join(given + ["the cell"] * bool(text.strip()))
            raise PayloadError(f"give the payload in the cell, with --payload or with --event, not both ({got})")
        if args.payload is not None:
            text = read_payload_file(args.payload) if args.payload.startswith("@") else args.payload
        if args.event is not None:
            from lambda_magic._events import load_event

            text = load_event(args.function, args.event, settings=self._settings(args)).text
        return text

    def _each(self, args: Any, cell: str | None) -> Any:
        """``--each``: one invocation per event, through ``_fanout.fan_out``."""
        from lambda_magic._fanout import cell_event, cell_events, fan_out
        from lambda_magic._stacks import physical_name

        if not args.each:
            raise UsageError(
                "--concurrency needs --each (one invocation per element of a JSON array): "
                "add --each, or leave out --concurrency"
            )
        if args.durable_execution_name:
            raise UsageError("--durable-execution-name names one execution: leave it out with --each")
        if args.stream:
            raise UsageError("--stream shows one call's chunks as they arrive: leave it out with --each")
        with usage_errors():
            settings = self._settings(args)
            fields = self._fields(args, settings)
            events, origin = cell_events(self._payload_text(args, cell), self._ns)
            function, logical_id = physical_name(args.function, settings, stack_name=args.stack_name)
            fields.pop("durable_execution_name")
            results = fan_out(
                function,
                events,
                settings,
                logical_id=logical_id,
                encode=cell_event,
                origin="magic",
                cell=cell or f"%%lambda_invoke {args.function} --each",
                progress=not args.quiet,
                **fields,
                **origin,
            )
        if args.output:
            self._ns[args.output] = results
        if not results.complete:
            _stop_after_interrupt(results, args.output, quiet=args.quiet)
        if not results.ok and (args.raise_ or settings.raise_on_error):
            stored = f" (results stored in {args.output})" if args.output else ""
            raise UsageError(f"{len(results.errors):,} of {len(results):,} calls did not succeed{stored}: see .errors")
        return None if args.quiet else results

    def _client_context(self, value: str | None) -> Any:
        if value is None or not value.startswith("$"):
            return value
        name = value[1:]
        if name not in self._ns:
            raise ParameterError(f"client context {value}: name {name!r} is not defined in the notebook")
        return self._ns[name]

    def _run(self, request: Any, settings: Any, args: Any, cell: str | None) -> Any:
        from lambda_magic._invoke import execute

        source = f"%%lambda_invoke {args.function}" if cell is None else None
        live = self._live(request, args)
        try:
            with usage_errors():
                response = execute(request, settings, origin="magic", cell=cell or source, on_chunk=live)
        finally:
            if live is not None:
                live.close()
        if args.output:
            self._ns[args.output] = response
        if response.function_error and (args.raise_ or settings.raise_on_error):
            stored = f" (response stored in {args.output})" if args.output else ""
            try:
                response.raise_for_error()
            except FunctionError as exc:
                raise UsageError(f"{exc}{stored}") from None
        return None if args.quiet else response

    def _live(self, request: Any, args: Any) -> Any:
        """The live display of a streamed call (None when not streaming or quiet)."""
        if not request.stream or args.quiet:
            return None
        from lambda_magic._stream_display import live_chunks

        return live_chunks(self.shell)

    @line_magic
    def lambda_config(self, line: str) -> None:
        """Show or change lambda_magic's session settings.

        ``%lambda_config`` lists every setting, its effective value and where it came from
        (option, session, project file, user file, default; secrets masked).
        ``%lambda_config region=eu-west-1 read_timeout=30`` sets session values;
        ``%lambda_config region=`` unsets one; ``%lambda_config --reset region profile``
        unsets the named ones, ``%lambda_config --reset`` all. Values are read with shell
        quoting: ``secret_key_path="~/my keys/secret"``.
        The same settings are traits of ``%config LambdaMagic``.
        """
        from lambda_magic._config_view import apply_config_line, settings_table

        with usage_errors():
            if line.strip():
                apply_config_line(line)
            else:
                print(settings_table())


def _stop_after_interrupt(results: Any, output: str | None, *, quiet: bool) -> None:
    """Show what completed, then fail the cell: a Ctrl-C must also stop "Run all"."""
    from IPython.display import display

    if not quiet:
        display(results)
    kept = f"results stored in {output}" if output else "every response is in lambda_magic.history"
    raise UsageError(f"{results.note} ({kept})")


#: IPython's numbered history names (_5, _i5, _ii, _iii) and Python's dunders.
_RESERVED_RE = re.compile(r"_+|_i+|_i?\d+|__\w*__")


def check_output_name(name: str | None, shell: Any) -> None:
    """``-o`` must name a variable the notebook can read back and the session survives."""
    if name is None:
        return
    if not name.isidentifier():
        raise UsageError(f"-o {name!r} is not a Python variable name: use letters, digits and _, e.g. -o resp")
    if keyword.iskeyword(name):
        raise UsageError(f"-o {name}: {name} is a Python keyword; choose another name, e.g. -o resp")
    if hasattr(builtins, name) or name in getattr(shell, "user_ns_hidden", {}) or _RESERVED_RE.fullmatch(name):
        raise UsageError(
            f"-o {name}: {name} is a Python builtin or IPython's own name; choose another name, e.g. -o resp"
        )
