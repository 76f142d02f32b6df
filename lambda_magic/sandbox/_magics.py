"""``%lambda_sandbox``: start, inspect and stop the session's local Lambda sandbox."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from lambda_magic._magic_line import parse_line

if TYPE_CHECKING:
    from lambda_magic.sandbox._sandbox import Sandbox

__all__ = ["SandboxMagics", "session_sandbox"]

SECRET_VARIABLE = "LAMBDA_MAGIC_SANDBOX_SECRET"
_SETTING_KEYS = ("endpoint_url", "region", "access_key", "secret_key_path")
# One sandbox per process, like the session settings it points at: reloading the extension
# must not orphan a running sandbox.
_session: dict[str, Sandbox] = {}
# The session settings ``start`` replaced, put back by ``stop``.
_replaced: dict[str, Any] = {}


def session_sandbox() -> Sandbox | None:
    """The sandbox ``%lambda_sandbox start`` started in this process, if it runs."""
    sandbox = _session.get("sandbox")
    return sandbox if sandbox is not None and sandbox.running else None


def _port(text: str) -> int:
    """A TCP port for argparse, 0 (any free one) to 65535."""
    import argparse

    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 0 to 65535, e.g. --port 9001")
    return int(text)


@magics_class
class SandboxMagics(Magics):
    """The ``%lambda_sandbox`` line magic."""

    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "action",
        nargs="?",
        default="status",
        choices=["start", "status", "stop"],
        help="start the sandbox, show what it runs (default), or stop it",
    )
    @magic_arguments.argument("--template", help="an AWS SAM template whose Python functions to add (start only)")
    @magic_arguments.argument(
        "--port", type=_port, default=None, help="port on 127.0.0.1 (start only; default: any free port)"
    )
    @magic_arguments.argument("--no-demo", action="store_true", help="leave out the demo functions (start only)")
    @magic_arguments.argument(
        "--pass-credentials",
        action="store_true",
        help="give handlers your own AWS credentials from the AWS chain "
        "(environment, profile); by default they get dummy ones",
    )
    @magic_arguments.argument(
        "--allow-outside", action="store_true", help="run template code from outside the template's folder"
    )
    @line_magic
    def lambda_sandbox(self, line: str) -> None:
        """Run Lambda functions locally, without Docker or AWS.

        ``%lambda_sandbox start`` serves a Lambda endpoint on 127.0.0.1 that runs Python
        handlers under the official runtime client, and points this session's settings at
        it: ``%%lambda_invoke echo`` then invokes the demo ``echo`` function. The demo
        functions are echo, fail, sleep, logger, health_check (alias prod) and
        restart_service; ``--template template.yaml`` adds a SAM template's functions, built
        like ``sam build`` (requirements.txt, layers). Handlers see only their code, layers,
        boto3 and Lambda's variables, with dummy AWS credentials unless ``--pass-credentials``;
        the region is this session's (``%lambda_config region=...``) or us-east-1.
        ``%lambda_sandbox status`` lists functions and warm workers; ``%lambda_sandbox stop``
        kills the workers and restores the settings ``start`` replaced.
        """
        args = parse_line(self.lambda_sandbox, line)
        given = [
            option
            for option, value in (
                ("--template", args.template),
                ("--port", args.port),
                ("--no-demo", args.no_demo or None),
            )
            if value is not None
        ]
        if args.action != "start" and given:
            raise UsageError(f"{given[0]} is for %lambda_sandbox start: leave it out of {args.action}")
        if args.action == "start":
            _start(
                template=args.template,
                port=args.port or 0,
                demo=not args.no_demo,
                pass_credentials=args.pass_credentials,
                allow_outside=args.allow_outside,
            )
        elif args.action == "status":
            print(_status_text())
        else:
            print(_stop())


def _start(*, template: str | None, port: int, demo: bool, pass_credentials: bool, allow_outside: bool) -> None:
    from lambda_magic._settings import session_settings
    from lambda_magic.sandbox._errors import SandboxError
    from lambda_magic.sandbox._sandbox import Sandbox

    running = session_sandbox()
    if running is not None:
        raise UsageError(f"the sandbox already runs at {running.endpoint_url}: %lambda_sandbox stop first")
    try:
        sandbox = Sandbox(
            port=port,
            template=template,
            demo=demo,
            progress=print,
            region=session_settings().values().get("region"),
            pass_credentials=pass_credentials,
            allow_outside=allow_outside,
        ).start()
    except SandboxError as err:
        raise UsageError(str(err)) from None
    _session["sandbox"] = sandbox
    _replaced.clear()
    _replaced.update({key: getattr(session_settings(), key) for key in _SETTING_KEYS})
    os.environ[SECRET_VARIABLE] = "sandbox"
    session_settings().update(
        endpoint_url=sandbox.endpoint_url,
        region=sandbox.region,
        access_key="sandbox",
        secret_key_path=f"env:{SECRET_VARIABLE}",
    )
    names = ", ".join(f["name"] for f in sandbox.status()["functions"]) or "none yet"
    print(f"sandbox running at {sandbox.endpoint_url}; this session now invokes it. Functions: {names}")


def _stop() -> str:
    from lambda_magic._settings import session_settings

    sandbox = _session.pop("sandbox", None)
    if sandbox is None or not sandbox.running:
        return "the sandbox is not running"
    url = sandbox.endpoint_url
    sandbox.stop()
    settings = session_settings()
    if settings.values().get("endpoint_url") != url:  # leave settings alone if the user re-pointed them
        return f"sandbox at {url} stopped; session settings left as you set them"
    settings.clear(*_SETTING_KEYS)
    before = {key: value for key, value in _replaced.items() if value is not None}
    settings.update(**before)
    if not before:
        return f"sandbox at {url} stopped; session settings cleared"
    return f"sandbox at {url} stopped; session settings restored to what they were before start"


def _status_text() -> str:
    sandbox = session_sandbox()
    if sandbox is None:
        return "the sandbox is not running: %lambda_sandbox start"
    status = sandbox.status()
    lines = [f"sandbox at {status['endpoint_url']} (region {status['region']})", "functions:"]
    lines += [_function_line(function) for function in status["functions"]]
    workers = status["workers"]
    lines.append(f"workers: {len(workers)}")
    lines += [
        f"  pid {w['pid']:<8} {w['function']}:{w['version']:<10} {w['state']:<8} "
        f"{w['invocations']} invocation(s), {w['max_memory_mb']} MB"
        for w in workers
    ]
    lines += [f"skipped {name}: {reason}" for name, reason in status["skipped"].items()]
    return "\n".join(lines)


def _function_line(function: dict[str, Any]) -> str:
    aliases = ", ".join(f"{alias}->{version}" for alias, version in function["aliases"].items())
    versions = ", ".join(function["versions"])
    line = f"  {function['name']:<20} {function['handler']:<26} versions: {versions}"
    return f"{line}; aliases: {aliases}" if aliases else line
