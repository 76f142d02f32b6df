"""The ``%lambda_logs`` magic: a function's CloudWatch Logs in the notebook (``_logs``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from IPython.core import magic_arguments
from IPython.core.magic import Magics, line_magic, magics_class

from lambda_magic._invoke_magics import check_output_name
from lambda_magic._magic_line import parse_line, usage_errors

__all__ = ["LogsMagics"]


@magics_class
class LogsMagics(Magics):
    """Read Lambda functions' logs from CloudWatch Logs."""

    #: How ``--follow`` waits between polls (Ctrl-C arrives in it); tests replace it.
    poll_sleep: Callable[[float], None] = staticmethod(time.sleep)

    @magic_arguments.magic_arguments()
    @magic_arguments.argument("function", help="Function name, ARN, or STACK/LogicalId.")
    @magic_arguments.argument(
        "--request-id",
        dest="request_id",
        help="Only this invocation's log (any invocation, Event ones too), START to REPORT.",
    )
    @magic_arguments.argument("--since", help="How far back: 30s, 10m, 2h, 1d (default 10m; 1h with --request-id).")
    @magic_arguments.argument(
        "--follow",
        action="store_true",
        help="Keep printing new lines until Ctrl-C (with --request-id: until its REPORT line).",
    )
    @magic_arguments.argument(
        "--filter",
        dest="filter_pattern",
        help="A CloudWatch filter pattern (with --request-id: text the lines must contain).",
    )
    @magic_arguments.argument(
        "--stack-name", dest="stack_name", help="CloudFormation stack whose logical id FUNCTION is."
    )
    @magic_arguments.argument("-o", "--output", help="Store the lines (LogLines) in this variable.")
    @magic_arguments.argument("--region", help="AWS region.")
    @magic_arguments.argument("--profile", help="AWS profile.")
    @magic_arguments.argument("--endpoint-url", dest="endpoint_url", help="Endpoint URL (a sandbox).")
    @line_magic
    def lambda_logs(self, line: str) -> Any:
        """Show a Lambda function's log lines from CloudWatch Logs (FilterLogEvents).

        Lambda returns at most a 4 KB log tail, and none for Event calls; this reads the
        whole log of the function's log group (needs ``logs:FilterLogEvents``)::

            %lambda_logs my-function --since 30m --filter ERROR
            %lambda_logs my-function --request-id 8f5c... --follow
            %lambda_logs my-function --follow

        A response's own log is also ``response.logs()``.
        """
        args = parse_line(self.lambda_logs, line)
        check_output_name(args.output, self.shell)
        with usage_errors():
            settings, function, since = self._resolve(args)
            lines = (
                self._follow(args, settings, function, since)
                if args.follow
                else self._read(args, settings, function, since)
            )
        if args.output:
            assert self.shell is not None
            self.shell.user_ns[args.output] = lines
        return None if args.follow else lines

    def _resolve(self, args: Any) -> tuple[Any, str, float | None]:
        from lambda_magic._logs import parse_since
        from lambda_magic._settings import resolve_settings
        from lambda_magic._stacks import physical_name

        settings = resolve_settings(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)
        since = None if args.since is None else parse_since(args.since)
        function, _ = physical_name(args.function, settings, stack_name=args.stack_name)
        return settings, function, since

    def _read(self, args: Any, settings: Any, function: str, since: float | None) -> Any:
        from lambda_magic._logs import read_logs

        return read_logs(
            function, settings, request_id=args.request_id, since=since, filter_pattern=args.filter_pattern
        )

    def _follow(self, args: Any, settings: Any, function: str, since: float | None) -> Any:
        from lambda_magic._logs import LogLines, follow_logs, log_group_of

        seen: list[Any] = []

        def show(line: Any) -> None:
            seen.append(line)
            print(line, flush=True)

        try:
            follow_logs(
                function,
                settings,
                show,
                request_id=args.request_id,
                since=since,
                filter_pattern=args.filter_pattern,
                sleep=self.poll_sleep,
            )
        except KeyboardInterrupt:
            print(f"stopped following the logs of {function}", flush=True)
        return LogLines(seen, group=log_group_of(function, settings))
