"""``python -m lambda_magic.sandbox``: serve the sandbox until Ctrl-C or SIGTERM.

``python -m lambda_magic.sandbox build --template T`` builds the template's functions and
layers (their ``requirements.txt``) ahead of time, into the cache ``start`` uses.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from lambda_magic.sandbox._errors import SandboxError
from lambda_magic.sandbox._sandbox import Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambda_magic.sandbox",
        description="A local, Docker-free Lambda endpoint on 127.0.0.1 that runs Python handlers under awslambdaric.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "build"],
        help="serve (default), or build the template's dependencies and exit",
    )
    parser.add_argument("--template", help="an AWS SAM template whose Python functions to serve")
    parser.add_argument(
        "--allow-outside", action="store_true", help="run code from outside the template's folder (CodeUri: ../x)"
    )
    parser.add_argument(
        "--pass-credentials", action="store_true", help="give handlers your own AWS credentials (default: dummy ones)"
    )
    parser.add_argument(
        "--cache-dir", help="where built dependencies are kept (default: ~/.cache/lambda_magic/sandbox)"
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    parser.add_argument("--no-demo", action="store_true", help="leave out the demo functions")
    parser.add_argument("--quiet", action="store_true", help="do not print invocation logs")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Start, print the endpoint, serve until interrupted, stop."""
    args = _parser().parse_args(argv)
    if args.command == "build":
        return _build(args)
    try:
        sandbox = Sandbox(
            port=args.port,
            template=args.template,
            demo=not args.no_demo,
            log_stream=None if args.quiet else sys.stdout,
            allow_outside=args.allow_outside,
            cache_dir=args.cache_dir,
            pass_credentials=args.pass_credentials,
        )
        sandbox.start()
    except SandboxError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        _print_banner(sandbox)
        while not stop.wait(0.5):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


def _build(args: argparse.Namespace) -> int:
    """Build every function and layer of the template; 1 if any function cannot run."""
    if not args.template:
        print("error: build needs --template template.yaml", file=sys.stderr)
        return 2
    try:
        sandbox = Sandbox(
            template=args.template,
            demo=False,
            allow_outside=args.allow_outside,
            cache_dir=args.cache_dir,
            progress=print,
        )
    except SandboxError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    status = sandbox.status()
    print(f"built {len(status['functions'])} function(s)")
    for name, reason in status["skipped"].items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    return 1 if status["skipped"] else 0


def _print_banner(sandbox: Sandbox) -> None:
    status = sandbox.status()
    print(f"lambda_magic sandbox listening on {sandbox.endpoint_url} (region {sandbox.region})")
    for function in status["functions"]:
        aliases = ", ".join(f"{a}->{v}" for a, v in function["aliases"].items())
        extra = f"  aliases: {aliases}" if aliases else ""
        print(f"  {function['name']:<20} {function['handler']:<28}{extra}".rstrip())
    for name, reason in status["skipped"].items():
        print(f"  skipped {name}: {reason}")
    print(
        f"try: aws lambda invoke --endpoint-url {sandbox.endpoint_url} --region {sandbox.region}"
        " --function-name echo out.json",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
