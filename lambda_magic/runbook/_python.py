"""A ``Runbook`` as a standalone Python script that replays it with ``lambda_magic.invoke``.

The script holds the steps as data (``STEPS``), the values the notebook pasted with
``${expr}`` as command-line options defaulting to the notebook's values (``PARAMETERS``),
and a short ``main`` that runs the steps in order and exits 1 at the first failure. The
payload templates are ``string.Template`` texts: ``${name}`` is a parameter, ``$$`` a dollar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambda_magic.runbook._export import Parameter, Runbook, Step

__all__ = ["render_python"]

_HEADER = '''\
#!/usr/bin/env python3
"""{name}: {count} AWS Lambda invocation{plural}, exported by lambda_magic from a notebook.

Runs the steps in order and stops at the first failure with exit status 1. AWS credentials
come from the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an
instance role...), never from this file. --help lists the values the notebook computed;
each defaults to what it was in the notebook. Exported on {created:%Y-%m-%d %H:%M} UTC.
"""

from __future__ import annotations

import argparse
import json
import sys
from string import Template

import lambda_magic

#: Seconds to wait for an answer: above Lambda's 900 s maximum function timeout.
READ_TIMEOUT = {read_timeout}

#: The region of the steps, by option name.
REGIONS = {regions}

#: Values the notebook pasted with ${{...}}: option name, default, the notebook's expression,
#: and how it is pasted: "text" goes into a JSON string (escaped), "json" is JSON.
PARAMETERS = {parameters}

STEPS = {steps}
'''

_MAIN = '''

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: --endpoint-url, the regions, and one option per parameter."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\\n\\n")[0])
    parser.add_argument("--endpoint-url", help="Lambda endpoint URL for every step (default: as recorded)")
    for name, region in REGIONS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=region,
                            help="AWS region (default: %(default)s)")
    for name, default, expression, kind in PARAMETERS:
        help_text = f"${{{expression}}} in the notebook, as {kind}".replace("%", "%%")
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=default,
                            type=json_text if kind == "json" else str,
                            help=help_text + " (default: %(default)s)")
    return parser.parse_args(argv)


def json_text(value: str) -> str:
    """Check that an option's value is JSON (argparse reports the ValueError)."""
    json.loads(value)
    return value


def pasted_values(args: argparse.Namespace) -> dict[str, str]:
    """Each parameter as pasted into the payload: text JSON-escaped, JSON as it is."""
    values = {}
    for name, _default, _expression, kind in PARAMETERS:
        value = getattr(args, name)
        values[name] = json.dumps(value)[1:-1] if kind == "text" else value
    return values


def run_step(number: int, step: dict, args: argparse.Namespace, values: dict[str, str]) -> bool:
    """Invoke one step; print its result; False when it failed."""
    label = f"step {number}/{len(STEPS)} {step['target']}"
    payload = None if step["payload"] is None else Template(step["payload"]).substitute(values)
    try:
        response = lambda_magic.invoke(
            step["function"], payload, invocation_type=step["invocation_type"],
            qualifier=step["qualifier"], client_context=step["client_context"], log=step["log"],
            tenant_id=step["tenant_id"], durable_execution_name=step["durable_execution_name"],
            region=getattr(args, step["region"]) if step["region"] else None,
            endpoint_url=args.endpoint_url or step["endpoint_url"],
            read_timeout=READ_TIMEOUT, raise_on_error=False,
        )
    except lambda_magic.LambdaMagicError as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        return False
    print(f"{label}: {response.status_code} in {response.elapsed * 1000:.0f} ms")
    if response.payload is not None:
        print(json.dumps(response.payload, indent=2, default=str))
    if not response.ok:
        print(f"{label} failed ({response.function_error}): {response.error}", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run every step in order; 1 at the first failure, 0 when all succeeded."""
    args = parse_args(argv)
    values = pasted_values(args)
    for number, step in enumerate(STEPS, start=1):
        if not run_step(number, step, args, values):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def render_python(runbook: Runbook, namespace: Mapping[str, Any] | None = None) -> str:
    """The script's text."""
    count = len(runbook.steps)
    return _HEADER.format(
        name=runbook.name.replace("\\", "/").replace('"""', "'''"),
        count=count,
        plural="s" if count != 1 else "",
        created=runbook.created,
        read_timeout=float(runbook.read_timeout),
        regions=_literal({name: region for name, region in runbook.regions}),
        parameters=_literal([_parameter(parameter) for parameter in runbook.parameters]),
        steps=_literal([_step(step, runbook) for step in runbook.steps]),
    ) + _MAIN


def _parameter(parameter: Parameter) -> tuple[str, str, str, str]:
    kind = "text" if parameter.in_string else "json"
    return (parameter.name, parameter.default, parameter.expression, kind)


def _step(step: Step, runbook: Runbook) -> dict[str, Any]:
    request = step.request
    return {
        "target": step.target,
        "function": request.logical_id or request.function_name,  # STACK/LogicalId re-resolved
        "qualifier": request.qualifier,
        "invocation_type": request.invocation_type,
        "client_context": request.client_context,
        "log": request.log,
        "tenant_id": request.tenant_id,
        "durable_execution_name": request.durable_execution_name,
        "region": runbook.region_option(step.region),
        "endpoint_url": step.endpoint_url,
        "payload": None if step.payload is None else _template(step.payload),
    }


def _template(payload: tuple[str | Parameter, ...]) -> str:
    return "".join(
        piece.replace("$", "$$") if isinstance(piece, str) else f"${{{piece.name}}}" for piece in payload
    )


def _literal(value: Any, level: int = 0) -> str:
    """Python source for plain data, one item per line (JSON values are valid Python)."""
    pad, inner = "    " * level, "    " * (level + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{key!r}: {_literal(item, level + 1)}," for key, item in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)) and value and any(isinstance(item, (dict, list, tuple)) for item in value):
        items = [f"{inner}{_literal(item, level + 1)}," for item in value]
        brackets = "[]" if isinstance(value, list) else "()"
        return brackets[0] + "\n" + "\n".join(items) + f"\n{pad}" + brackets[1]
    return repr(value)
