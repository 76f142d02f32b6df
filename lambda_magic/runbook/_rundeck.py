"""A ``Runbook`` as a Rundeck job definition (job YAML: a list with one job).

Each step is an inline ``script`` step (POSIX sh) that runs ``aws lambda invoke`` (AWS CLI
v2) with every field of the recorded request. Values the notebook pasted with ``${expr}``
become job options; the step passes them as script arguments (``args: ${option.NAME} ...``):
Rundeck quotes each substituted value there, whereas it would paste it unquoted into a
command line, and only knows ``@option.NAME@`` inside a script body. The script pastes them
into the payload, JSON-escaped where they stand inside a JSON string.

The AWS CLI exits 0 when the function fails, so the script checks the ``FunctionError`` the
CLI prints: anything but ``None`` fails the step, and ``keepgoing: false`` stops the job
there. ``AWS_MAX_ATTEMPTS=1`` switches the CLI's retries off, so no step runs a function
twice, and the read timeout is above Lambda's 900 s maximum. Credentials come from the
node's environment; none are written here.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from lambda_magic._request import encode_client_context
from lambda_magic.runbook._export import Parameter, Runbook, Step

__all__ = ["cli_arguments", "render_rundeck", "shell_variable", "step_script"]

_PRELUDE = """\
set -eu
# JSON-escape text pasted into a JSON string (backslash and double quote).
json_text() { printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g'; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"""

_CHECK = """\
cat "$out"
echo
set -- $result
if [ "${{2:-None}}" != None ]; then
  echo '--- log tail ---'
  printf '%s' "$2" | base64 -d 2>/dev/null || true
fi
if [ "$1" != None ]; then
  echo {failed} >&2
  exit 1
fi
"""


def render_rundeck(runbook: Runbook, namespace: Mapping[str, Any] | None = None) -> str:
    """The job YAML text."""
    import yaml

    job = {
        "name": runbook.name,
        "description": _description(runbook),
        "loglevel": "INFO",
        "executionEnabled": True,
        "options": _options(runbook),
        "sequence": {
            "keepgoing": False,
            "strategy": "node-first",
            "commands": [_command(step, runbook) for step in runbook.steps],
        },
    }
    return yaml.dump([job], Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=1 << 16)


def _dumper() -> Any:
    """A safe dumper writing multi-line text (the scripts) as literal ``|`` blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def _description(runbook: Runbook) -> str:
    count = len(runbook.steps)
    return (
        f"{count} AWS Lambda invocation{'s' if count != 1 else ''}, exported by lambda_magic from a "
        f"notebook on {runbook.created:%Y-%m-%d %H:%M} UTC. The steps run in order; a step fails "
        "when its function fails, and the job stops there.\n"
        "Needs the AWS CLI v2 on the node and AWS credentials in its environment (an instance "
        "or task role, AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): none are stored "
        "in this job. The caller needs lambda:InvokeFunction on each function."
    )


def _options(runbook: Runbook) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = [
        {"name": name, "description": "AWS region of the Lambda functions", "value": region,
         "required": True}
        for name, region in runbook.regions
    ]
    for parameter in runbook.parameters:
        kind = "text, pasted into a JSON string" if parameter.in_string else "JSON"
        default = parameter.default
        options.append({
            "name": parameter.name,
            "description": f"${{{parameter.expression}}} in the notebook ({kind})",
            "value": default,
            "required": default != "",
        })
    return options


def _command(step: Step, runbook: Runbook) -> dict[str, str]:
    where = f" from {step.entry.where}" if step.entry.where.startswith("In [") else ""
    command = {
        "description": f"{step.number}. {step.target} ({step.request.invocation_type}){where}",
        "script": step_script(step, runbook),
    }
    names = _arguments(step, runbook)
    if names:
        command["args"] = " ".join(f"${{option.{name}}}" for name in names)
    return command


def _arguments(step: Step, runbook: Runbook) -> list[str]:
    """The options the step takes as arguments, in order: its region, then its values."""
    names = []
    region = runbook.region_option(step.region)
    if region:
        names.append(region)
    for piece in step.payload or ():
        if isinstance(piece, Parameter) and piece.name not in names:
            names.append(piece.name)
    return names


def step_script(step: Step, runbook: Runbook) -> str:
    """The step's sh script: arguments to variables, the call, the FunctionError check."""
    names = _arguments(step, runbook)
    lines = [
        "#!/bin/sh",
        f"# Step {step.number}: {step.target} ({step.request.invocation_type}), exported by lambda_magic.",
        "# The AWS CLI exits 0 when the function fails: the FunctionError it prints decides.",
        _PRELUDE.rstrip("\n"),
    ]
    text_values = {piece.name for piece in step.payload or () if isinstance(piece, Parameter) and piece.in_string}
    for position, name in enumerate(names, start=1):
        value = f'$(json_text "${position}")' if name in text_values else f'"${position}"'
        lines.append(f"{shell_variable(name)}={value}")
    if step.request.logical_id:
        lines.append(stack_lookup(step, runbook))
    args = " \\\n  ".join(_pairs(cli_arguments(step, runbook)))
    lines.append(f"result=$(AWS_MAX_ATTEMPTS=1 aws lambda invoke \\\n  {args} \\\n"
                 "  --query '[FunctionError, LogResult]' --output text \"$out\")")
    failed = (shlex.quote(f"step {step.number} ({step.target}) failed: ") + '"$1"'
              + shlex.quote(" function error, its payload is above"))
    lines.append(_CHECK.format(failed=failed).rstrip("\n"))
    return "\n".join(lines) + "\n"


def _pairs(args: list[str]) -> list[str]:
    """``--flag value`` pairs, shell-quoted, one per line; the payload keeps its variables."""
    pairs = []
    for flag, value in zip(args[::2], args[1::2], strict=True):
        pairs.append(f"{flag} {value if flag in _VERBATIM else shlex.quote(value)}")
    return pairs


_VERBATIM = frozenset({"--payload", "--region", "--function-name"})


def stack_lookup(step: Step, runbook: Runbook) -> str:
    """``function=...``: the physical name of the step's ``STACK/LogicalId``, looked up when
    the step runs (a redeployed stack's generated name changes; the logical id does not)."""
    stack, _, logical_id = (step.request.logical_id or "").partition("/")
    words = ["aws", "cloudformation", "describe-stack-resource", "--stack-name", shlex.quote(stack),
             "--logical-resource-id", shlex.quote(logical_id),
             "--query", "StackResourceDetail.PhysicalResourceId", "--output", "text"]
    region = runbook.region_option(step.region)
    if region:
        words += ["--region", f'"${shell_variable(region)}"']
    if step.endpoint_url:
        words += ["--endpoint-url", shlex.quote(step.endpoint_url)]
    return f"function=$({' '.join(words)})"


def cli_arguments(step: Step, runbook: Runbook) -> list[str]:
    """The ``aws lambda invoke`` flags and values for ``step`` (payload and region as
    shell words using the script's variables; everything else unquoted)."""
    request = step.request
    params = request.to_api_params()
    name = '"$function"' if request.logical_id else shlex.quote(request.function_name)
    args = ["--function-name", name]
    if request.qualifier:
        args += ["--qualifier", request.qualifier]
    args += ["--invocation-type", request.invocation_type]
    context = encode_client_context(request.client_context)
    if context:
        args += ["--client-context", context]
    args += ["--log-type", params["LogType"]]
    for flag, key in (("--tenant-id", "TenantId"), ("--durable-execution-name", "DurableExecutionName")):
        if key in params:
            args += [flag, params[key]]
    args += ["--cli-binary-format", "raw-in-base64-out"]
    if step.payload is not None:
        args += ["--payload", _payload_word(step.payload)]
    args += ["--cli-read-timeout", str(runbook.read_timeout),
             "--cli-connect-timeout", str(runbook.connect_timeout)]
    region = runbook.region_option(step.region)
    if region:
        args += ["--region", f'"${shell_variable(region)}"']
    if step.endpoint_url:
        args += ["--endpoint-url", step.endpoint_url]
    return args


def shell_variable(name: str) -> str:
    """The script's variable for an option (prefixed: an option named PATH must not clobber it)."""
    return f"opt_{name}"


def _payload_word(payload: tuple[str | Parameter, ...]) -> str:
    """One shell word: literal text single-quoted, each value as a double-quoted variable."""
    words = []
    for piece in payload:
        if isinstance(piece, Parameter):
            words.append(f'"${shell_variable(piece.name)}"')
        elif piece:
            words.append(shlex.quote(piece))
    return "".join(words) or "''"
