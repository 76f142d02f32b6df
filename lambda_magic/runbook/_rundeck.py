"""A ``Runbook`` (``_model``) as a Rundeck job definition (job YAML: a list with one job).

One inline ``script`` step (POSIX sh) per invocation, in input order (a fan-out's steps as
its events were listed, not as they finished). Each step checks that ``aws`` is the AWS CLI
v2, builds its payload with ``python3``, calls ``aws lambda invoke`` with the CLI's retries
off, retries a throttled call (429, the function did not run) a few times with backoff and
nothing else, and fails on a function error; ``keepgoing: false`` stops the job there.

Values reach a step the way Rundeck passes them on, so that each survives exactly:

- the runbook's parameters are job options (a string as text, anything else as JSON), read
  from the ``RD_OPTION_*`` environment variables
  Rundeck exports (an argument would be quoted by Rundeck only if it has a space or a shell
  character, and an empty one would vanish from the ``sh -c`` line);
- values taken from an earlier response (``${health.payload["service"]}``) are printed by
  that step as ``RUNDECK:DATA:name = <JSON>`` lines, captured by the bundled Key Value Data
  log filter attached to it, and read by the later step as ``${data.name}`` arguments: JSON
  is never empty (the filter drops an empty value) and ASCII only (Java's ``.`` stops at
  U+2028), and the text forces Rundeck's quoting (an array gets a space: ``[ 1]``);
- every ``@`` of a script is written ``@@``: Rundeck expands ``@word@`` tokens in inline
  scripts;
- every string of the YAML is quoted: Rundeck's YAML reader takes ``1e3`` for a float.

Credentials as the "AWS / Lambda / Invoke" step has them: ``aws_access_key`` (plain),
``aws_secret_key`` (secure, from Key Storage by path), ``aws_region``; the step hands them to
the CLI in its environment, and none of them is written here. Code that ran between the
steps (a condition, a loop, a computation: ``Runbook.code_between_steps``, or a computed
``${...}`` value) cannot be a job of steps: ``render_rundeck`` refuses it naming the cells, and
``as_script=True`` makes a job with one step running the Python export (``python_script``).
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from lambda_magic._request import encode_client_context
from lambda_magic.runbook._model import ExportError, Parameter, Runbook, Step, Value, python_script

__all__ = ["KEY_STORAGE_PATH", "THROTTLE_ATTEMPTS", "plan_job", "render_rundeck"]

#: Where the secret key option reads Key Storage unless ``--key-storage-path`` says.
KEY_STORAGE_PATH = "keys/aws/secret_key"
#: Attempts of a throttled call at most (waits of 1, 2, 4, 8 s between them).
THROTTLE_ATTEMPTS = 5
#: The Key Value Data log filter (``key-value-data``) as Rundeck configures it by default
#: (KeyValueDataLogFilterPlugin.groovy: PATTERN, INVALID_KEY_PATTERN).
KEY_VALUE_FILTER: dict[str, Any] = {
    "type": "key-value-data",
    "config": {
        "regex": r"^RUNDECK:DATA:\s*([^\s]+?)\s*=\s*(.+)$",
        "invalidKeyPattern": r"\s|\$|\{|\}|\\",
        "logData": "true",
        "replaceFilteredResult": "false",
    },
}
_CREDENTIAL_OPTIONS = ("aws_access_key", "aws_secret_key", "aws_region")


@dataclass(frozen=True)
class Data:
    """A value of a step's response that later steps use: Key Value Data ``name``."""

    name: str
    step: int
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class JobPlan:
    """The steps in input order, the job's options, and the data passed between steps."""

    steps: tuple[Step, ...]
    options: tuple[Parameter, ...]
    #: Each (step number, path into its response payload) that a later step reads.
    data: Mapping[tuple[int, tuple[str | int, ...]], Data]

    def exports(self, step: Step) -> list[Data]:
        """The data ``step`` prints for later steps."""
        return [item for item in self.data.values() if item.step == step.number]

    def data_of(self, value: Value) -> Data:
        """The data a response value reads."""
        return self.data[(value.step or 0, value.path or ())]


def render_rundeck(
    runbook: Runbook,
    namespace: Mapping[str, Any] | None = None,
    *,
    key_storage_path: str = KEY_STORAGE_PATH,
    node_filter: str | None = None,
    as_script: bool = False,
) -> str:
    """The job YAML text; ``as_script`` runs the Python export as the job's one step."""
    path = _storage_path(key_storage_path)
    if as_script:
        options, commands = _script_job(runbook)
    else:
        plan = plan_job(runbook)
        options = [_option(parameter) for parameter in plan.options]
        commands = [_command(step, plan, runbook) for step in plan.steps]
    job: dict[str, Any] = {
        "name": runbook.name,
        "description": _description(runbook, as_script),
        "loglevel": "INFO",
        "executionEnabled": True,
        "options": _credential_options(runbook, path) + options,
        "sequence": {"keepgoing": False, "strategy": "node-first", "commands": commands},
    }
    if node_filter is not None:
        job["nodefilters"] = _node_filters(node_filter)
        job["nodesSelectedByDefault"] = True
    return _dump([job])


def _storage_path(path: str) -> str:
    path = str(path).strip().strip("/")
    if not path.startswith("keys/") or any(not part for part in path.split("/")):
        raise ExportError(
            f"--key-storage-path {path!r} is not a Key Storage path: write keys/..., e.g. {KEY_STORAGE_PATH}"
        )
    return path


def _node_filters(expression: str) -> dict[str, Any]:
    if not str(expression).strip():
        raise ExportError("--node-filter is empty: give a node filter such as 'name: runner-1' or 'tags: aws'")
    return {
        "dispatch": {"threadcount": "1", "keepgoing": False, "excludePrecedence": True, "rankOrder": "ascending"},
        "filter": str(expression).strip(),
    }


# --- what a job can express -------------------------------------------------------------


def plan_job(runbook: Runbook) -> JobPlan:
    """The job's steps, options and data; raises ``ExportError`` naming the cells with code
    a job of steps cannot run (and the steps whose payload computes a value)."""
    steps, numbers = in_input_order(runbook.steps)
    options = tuple(parameter for parameter in runbook.parameters if parameter.origin != "setting")
    places = [cell.label for cell in runbook.code_between_steps]
    taken = {parameter.name for parameter in runbook.parameters} | set(_CREDENTIAL_OPTIONS)
    data: dict[tuple[int, tuple[str | int, ...]], Data] = {}
    for step in steps:
        for value in _values(step):
            if option_path(value, options) is not None:
                continue
            if value.source != "response" or value.step is None or value.path is None:
                places.append(step.entry.where)
                continue
            key = (numbers[value.step], value.path)
            if key not in data:
                data[key] = Data(_claim(_slug(value.expression), taken), *key)
    if places:
        raise ExportError(
            f"a Rundeck job cannot run the code in {', '.join(_in_order(places))} (conditions, "
            "loops or computations between the steps): export with --as-script to run the Python "
            "export as the job's step"
        )
    clash = [parameter.variable for parameter in options if parameter.name in _CREDENTIAL_OPTIONS]
    if clash:
        raise ExportError(f"the notebook variable {clash[0]!r} has the name of a credential option: rename it")
    steps = tuple(replace(step, payload=_renumbered(step.payload, numbers)) for step in steps)
    return JobPlan(steps, options, data)


def option_path(value: Value, options: Iterable[Parameter]) -> tuple[Parameter, tuple[str | int, ...]] | None:
    """The option a ``${...}`` site reads (a parameter's variable, or a notebook value's
    name), and the constant keys into it (``items[0]``)."""
    options = list(options)
    if value.source == "parameter":
        return next((option, ()) for option in options if option.name == value.parameter)
    try:
        tree = ast.parse(value.expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    keys: list[str | int] = []
    while isinstance(tree, ast.Subscript) and isinstance(tree.slice, ast.Constant):
        key = tree.slice.value
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            return None
        keys.insert(0, key)
        tree = tree.value
    if not isinstance(tree, ast.Name):
        return None
    found = [option for option in options if option.variable == tree.id]
    return (found[-1], tuple(keys)) if found else None


def _values(step: Step) -> list[Value]:
    return [piece for piece in step.payload or () if isinstance(piece, Value)]


def _renumbered(payload: tuple[str | Value, ...] | None, numbers: Mapping[int, int]) -> tuple[str | Value, ...] | None:
    if payload is None:
        return None
    return tuple(
        replace(piece, step=numbers[piece.step]) if isinstance(piece, Value) and piece.step is not None else piece
        for piece in payload
    )


def _in_order(places: list[str]) -> list[str]:
    """Unique labels, ``In [9]`` before ``In [10]``."""
    return sorted(set(places), key=lambda place: (len(place), place))


def _slug(expression: str) -> str:
    """A data key from an expression's words: ``restart.payload["service"]`` becomes
    ``restart_payload_service`` (no space, ``$``, braces or backslash: Rundeck's invalid key
    characters)."""
    name = "_".join(re.findall(r"[A-Za-z0-9]+", expression))[:60].strip("_")
    return name or "value"


def _claim(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def in_input_order(steps: Iterable[Step]) -> tuple[tuple[Step, ...], dict[int, int]]:
    """The steps with each fan-out's invocations in the order of its events (the history
    has them in the order they finished), renumbered from 1; and old number -> new."""
    steps = list(steps)
    group_start: dict[Any, int] = {}
    keys: list[tuple[int, int, int]] = []
    for position, step in enumerate(steps):
        index = fan_out_index(step)
        group = (step.entry.execution_count, step.entry.source, step.entry.function) if index is not None else position
        start = group_start.setdefault(group, position)
        keys.append((start, index or 0, position))
    order = sorted(range(len(steps)), key=keys.__getitem__)
    numbers = {steps[old].number: new for new, old in enumerate(order, start=1)}
    return tuple(replace(steps[old], number=numbers[steps[old].number]) for old in order), numbers


def fan_out_index(step: Step) -> int | None:
    """The position of a fan-out invocation's event, from what its request recorded:
    ``name[i]`` for ``--each $name``, or its event within the one ``${...}`` list."""
    subs = step.request.substitutions
    if len(subs) != 1 or step.request.payload is None:
        return None
    expression, value = subs[0]
    match = re.fullmatch(r"\s*[A-Za-z_]\w*\[(\d+)\]\s*", expression)
    if match:
        return int(match.group(1))
    if isinstance(value, list):
        try:
            return value.index(json.loads(step.request.payload))
        except ValueError:
            return None
    return None


# --- the job's parts --------------------------------------------------------------------


def _description(runbook: Runbook, as_script: bool) -> str:
    count = len(runbook.steps)
    what = (
        "One step runs the Python export of the notebook (its code, conditions and loops "
        "included): it needs python3 with lambda_magic installed on the node."
        if as_script
        else "Each step invokes one function in the notebook's order and fails when the function "
        "fails; the job stops there. The steps need the AWS CLI v2 (aws) and python3 on the "
        "node: python3 builds each payload and reads the values later steps use from a "
        "response (printed as RUNDECK:DATA lines for the Key Value Data log filter)."
    )
    return (
        f"{count} AWS Lambda invocation{'s' if count != 1 else ''}, exported by lambda_magic from a "
        f"notebook on {runbook.created:%Y-%m-%d %H:%M} UTC. {what}\n"
        "Credentials: aws_access_key and aws_secret_key (read from Key Storage), or, left "
        "empty, the node's own (instance role, profile). Options reach the step as RD_OPTION_* "
        "environment variables: on a node reached over SSH the server must accept them "
        "(AcceptEnv RD_*). The caller needs lambda:InvokeFunction on each function."
    )


def _credential_options(runbook: Runbook, storage_path: str) -> list[dict[str, Any]]:
    region = str(runbook.region.value) if runbook.region is not None and runbook.region.value else ""
    options: list[dict[str, Any]] = [
        {
            "name": "aws_access_key",
            "description": "AWS access key ID (empty: the node's own credentials)",
            "required": False,
        },
        {
            "name": "aws_secret_key",
            "description": f"AWS secret access key, read from Key Storage ({storage_path})",
            "secure": True,
            "valueExposed": True,
            "storagePath": storage_path,
            "required": False,
        },
        {"name": "aws_region", "description": "AWS region of the Lambda functions", "required": bool(region)},
    ]
    if region:
        options[2]["value"] = region
    return options


def _option(parameter: Parameter) -> dict[str, Any]:
    kind = "text" if parameter.type == "string" else f"JSON {parameter.type}"
    where = f"assigned in In [{parameter.cell}]" if parameter.cell is not None else "a notebook value"
    option: dict[str, Any] = {
        "name": parameter.name,
        "description": f"{parameter.variable} ({kind}; {where})",
        "required": False,
    }
    if parameter.default != "":  # Rundeck drops an empty default at import: the step reads unset as ""
        option["value"] = parameter.default
    return option


def environment_variable(option: str) -> str:
    """The variable Rundeck exports an option as (DataContextUtils.generateEnvVarName)."""
    return "RD_OPTION_" + re.sub(r"[^a-zA-Z0-9_]", "_", option.upper())


def _command(step: Step, plan: JobPlan, runbook: Runbook) -> dict[str, Any]:
    where = f" from {step.entry.where}" if step.entry.where.startswith("In [") else ""
    command: dict[str, Any] = {
        "description": f"{step.number}. {step.entry.target} ({step.request.invocation_type}){where}",
        "script": _escape_tokens(step_script(step, plan, runbook)),
    }
    data = _data_inputs(step, plan)
    if data:
        command["args"] = " ".join(f"${{data.{item.name}}}" for item in data)
    if plan.exports(step):
        command["plugins"] = {"LogFilter": [KEY_VALUE_FILTER]}
    return command


def _data_inputs(step: Step, plan: JobPlan) -> list[Data]:
    """The data the step reads, one argument per ``${...}`` site, in payload order."""
    return [plan.data_of(value) for value in _values(step) if value.source == "response"]


def _escape_tokens(script: str) -> str:
    """Rundeck replaces ``@key@`` in an inline script, and reads ``@@`` as one ``@``
    (ReplaceTokenReader): every ``@`` is doubled."""
    return script.replace("@", "@@")


# --- the step's script -------------------------------------------------------------------

_HEAD = """\
#!/bin/sh
# Step {number}: {target} ({kind}), exported by lambda_magic.
# Options arrive as RD_OPTION_* variables; values from earlier steps as arguments.
set -eu
step={label}
"""

_CLI_CHECK = """\
case "$(aws --version 2>&1)" in
  aws-cli/2.*) ;;
  *) echo "$step: needs the AWS CLI v2 on the node, not: $(aws --version 2>&1 | head -n 1)" >&2; exit 1 ;;
esac
"""

_CREDENTIALS = """\
if [ -n "${RD_OPTION_AWS_ACCESS_KEY:-}" ]; then
  if [ -z "${RD_OPTION_AWS_SECRET_KEY:-}" ]; then
    echo "$step: aws_access_key is set but aws_secret_key is empty: store the secret key in Key Storage" >&2
    exit 1
  fi
  export AWS_ACCESS_KEY_ID="$RD_OPTION_AWS_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$RD_OPTION_AWS_SECRET_KEY"
  unset AWS_SESSION_TOKEN AWS_PROFILE
fi
if [ -n "${RD_OPTION_AWS_REGION:-}" ]; then
  export AWS_REGION="$RD_OPTION_AWS_REGION" AWS_DEFAULT_REGION="$RD_OPTION_AWS_REGION"
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"""

# A function named by its stack and logical id (as the notebook named it) is looked up on
# each run: generated names change with every deployment.
_LOOKUP = """\
function=$(aws cloudformation describe-stack-resource --stack-name {stack} --logical-resource-id {logical}{endpoint} \\
  --query StackResourceDetail.PhysicalResourceId --output text) || {{
  echo "$step: cannot find {logical} in stack {stack} (needs cloudformation:DescribeStackResource)" >&2
  exit 1
}}
"""

# Only a throttled call (429) is sent again: Lambda refused it, the function did not run.
# Anything else (a timeout, a 5xx, a dropped connection) may have run it: never again.
_INVOKE = """\
attempt=1
until AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard aws lambda invoke \\
  {arguments} \\
  --query '[FunctionError, LogResult]' --output text "$dir/response" >"$dir/result" 2>"$dir/error"; do
  if grep -q '(TooManyRequestsException)' "$dir/error" && [ "$attempt" -lt {attempts} ]; then
    wait=$((1 << (attempt - 1)))
    echo "$step: throttled (429), attempt $attempt of {attempts}; trying again in $wait s" >&2
    sleep "$wait"
    attempt=$((attempt + 1))
    continue
  fi
  cat "$dir/error" >&2
  echo "$step: the call failed (see above); it is not repeated, since it may have run" >&2
  exit 1
done
cat "$dir/response"
echo
set -- $(cat "$dir/result")
if [ "${{2:-None}}" != None ]; then
  echo '--- log tail ---'
  printf '%s' "$2" | base64 -d 2>/dev/null || true
fi
if [ "$1" != None ]; then
  echo "$step: $1 function error, its payload is above" >&2
  exit 1
fi
"""

_PAYLOAD = """\
python3 - "$dir/payload" "$@" <<'LAMBDA_MAGIC_PAYLOAD'
import json, os, sys

PIECES = {pieces}

def pasted(value, in_string):
    # As the notebook pasted it: its JSON, or inside a JSON string its escaped text.
    if not in_string:
        return json.dumps(value, allow_nan=False)
    return json.dumps(value if isinstance(value, str) else json.dumps(value, allow_nan=False))[1:-1]

def option(name, variable, is_text, in_string, path):
    # Unset when the option is empty (Rundeck drops an empty default): the empty string.
    text = os.environ.get(variable, "")
    try:
        value = text if is_text else json.loads(text)
    except ValueError:
        sys.exit(f"{label}: option {{name}} is not JSON: {{text[:60]!r}}")
    try:
        for key in path:
            value = value[key]
    except (KeyError, IndexError, TypeError):
        sys.exit(f"{label}: option {{name}} has no {{''.join(f'[{{key!r}}]' for key in path)}}")
    return pasted(value, in_string)

data = iter(sys.argv[2:])
out = []
for piece in PIECES:
    if isinstance(piece, str):
        out.append(piece)
    elif piece[0] == "option":
        out.append(option(*piece[1:]))
    else:
        out.append(pasted(json.loads(next(data)), piece[1]))
with open(sys.argv[1], "w", encoding="utf-8") as file:
    file.write("".join(out))
LAMBDA_MAGIC_PAYLOAD
"""

_DATA = """\
python3 - "$dir/response" <<'LAMBDA_MAGIC_DATA'
import json, sys

EXPORTS = {exports}

try:
    with open(sys.argv[1], encoding="utf-8") as file:
        payload = json.load(file)
except ValueError:
    sys.exit("{label}: the response is not JSON, and later steps read values from it")
for name, path in EXPORTS:
    value = payload
    try:
        for key in path:
            value = value[key]
    except (KeyError, IndexError, TypeError):
        sys.exit(f"{label}: the response has no {{''.join(f'[{{key!r}}]' for key in path)}}, which {{name}} reads")
    text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(", ", ": "))
    if text.startswith("["):
        text = "[ " + text[1:]
    print(f"RUNDECK:DATA:{{name}} = {{text}}")
LAMBDA_MAGIC_DATA
"""


def step_script(step: Step, plan: JobPlan, runbook: Runbook) -> str:
    """The step's sh script (before its ``@`` are doubled for Rundeck)."""
    target = step.request.logical_id or step.entry.target  # STACK/LogicalId as the notebook named it
    label = f"step {step.number} ({target})"
    parts = [
        _HEAD.format(number=step.number, target=target, kind=step.request.invocation_type, label=_sh_quote(label)),
        _CLI_CHECK,
        _CREDENTIALS,
    ]
    arguments = _cli_arguments(step, runbook)
    if step.request.logical_id:  # STACK/LogicalId: the physical name is looked up when it runs
        stack, _, logical = step.request.logical_id.partition("/")
        endpoint = f" --endpoint-url {_sh_quote(step.endpoint_url)}" if step.endpoint_url else ""
        parts.append(_LOOKUP.format(stack=_sh_quote(stack), logical=_sh_quote(logical), endpoint=endpoint))
        arguments[1] = '"$function"'
    if step.payload is not None:
        parts.append(_PAYLOAD.format(pieces=_pieces(step, plan), label=label))
        arguments += ["--payload", '"fileb://$dir/payload"']
    parts.append(_INVOKE.format(arguments=" \\\n  ".join(_pairs(arguments)), attempts=THROTTLE_ATTEMPTS))
    exports = [(item.name, list(item.path)) for item in plan.exports(step)]
    if exports:
        parts.append(_DATA.format(exports=repr(exports), label=label))
    return "".join(parts)


def _pieces(step: Step, plan: JobPlan) -> str:
    """The payload template as Python data: text, ("option", name, variable, is_text,
    in_string, path), or ("data", in_string) for the next argument."""
    pieces: list[Any] = []
    for piece in step.payload or ():
        if isinstance(piece, str):
            pieces.append(piece)
        elif (found := option_path(piece, plan.options)) is not None:
            option, path = found
            pieces.append(
                (
                    "option",
                    option.name,
                    environment_variable(option.name),
                    option.type == "string",
                    piece.in_string,
                    list(path),
                )
            )
        else:
            pieces.append(("data", piece.in_string))
    return repr(pieces)


def _cli_arguments(step: Step, runbook: Runbook) -> list[str]:
    """``aws lambda invoke`` flags and values (the payload is added by the caller)."""
    request = step.request
    params = request.to_api_params()
    args = ["--function-name", request.function_name]
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
    args += [
        "--cli-binary-format",
        "raw-in-base64-out",
        "--cli-read-timeout",
        str(runbook.read_timeout),
        "--cli-connect-timeout",
        str(runbook.connect_timeout),
    ]
    if step.endpoint_url:
        args += ["--endpoint-url", step.endpoint_url]
    return args


def _pairs(args: list[str]) -> list[str]:
    """``--flag value`` pairs, one per line; values quoted, the payload file as it is."""
    return [
        f"{flag} {value if value in _RAW_VALUES else _sh_quote(value)}"
        for flag, value in zip(args[::2], args[1::2], strict=True)
    ]


#: Values the script itself provides, written as they are: the payload file, a looked-up name.
_RAW_VALUES = frozenset({'"fileb://$dir/payload"', '"$function"'})


def _sh_quote(value: str) -> str:
    return shlex.quote(value)


# --- --as-script ----------------------------------------------------------------------------


def _script_job(runbook: Runbook) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The options and the one step of a job running the Python export: each option is
    passed to the script's own option of that name (region: aws_region); the endpoint is
    the script's default (the recorded one)."""
    parameters = [parameter for parameter in runbook.parameters if parameter.origin != "setting"]
    flags = [(parameter.name, environment_variable(parameter.name)) for parameter in parameters]
    if runbook.region is not None:
        flags.append(("region", "RD_OPTION_AWS_REGION"))
    count = len(runbook.steps)
    command = {
        "description": f"Run the notebook's code: {count} invocation{'s' if count != 1 else ''} and what links them",
        "script": _escape_tokens(_as_script(python_script(runbook), flags)),
    }
    return [_option(parameter) for parameter in parameters], [command]


def _as_script(script: str, flags: list[tuple[str, str]]) -> str:
    end = "LAMBDA_MAGIC_RUNBOOK"
    while end in script.splitlines():
        end += "_"
    arguments = "".join(f' \\\n  "--{name.replace("_", "-")}=${{{variable}:-}}"' for name, variable in flags)
    return (
        "#!/bin/sh\n"
        "# The notebook's runbook as a Python script, run with python3 (exported by lambda_magic).\n"
        "set -eu\n"
        "step='runbook script'\n"
        "if ! python3 -c 'import lambda_magic' 2>/dev/null; then\n"
        '  echo "$step: needs python3 with lambda_magic on the node: pip install lambda_magic" >&2\n'
        "  exit 1\n"
        "fi\n"
        + _CREDENTIALS
        + f"cat >\"$dir/runbook.py\" <<'{end}'\n{script.rstrip(chr(10))}\n{end}\n"
        + f'python3 "$dir/runbook.py"{arguments}\n'
    )


# --- YAML -------------------------------------------------------------------------------------


def _dump(jobs: list[dict[str, Any]]) -> str:
    import yaml

    return yaml.dump(jobs, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=1 << 16)


def _dumper() -> Any:
    """A safe dumper that quotes every string value (Rundeck's YAML 1.1 reader takes ``1e3``,
    ``on`` or ``0x10`` unquoted for numbers and booleans); scripts as literal ``|`` blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def represent_mapping(self, tag: str, mapping: Any, flow_style: Any = None) -> Any:
            node = super().represent_mapping(tag, mapping, flow_style)
            for key, _value in node.value:
                key.style = None  # keys are plain names
            return node

    def text(dumper: Any, value: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else '"')

    Dumper.add_representer(str, text)
    return Dumper
