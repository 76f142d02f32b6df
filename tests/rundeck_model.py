"""A model of how Rundeck imports a job definition and runs its inline script steps.

Rundeck itself cannot run here, so the tests run exported jobs through the rules below,
each written from the rundeck/rundeck source (read at commit 2f047102d8; paths are in that
repository) and cited where it is applied. The scripts themselves run for real: ``/bin/sh``
as the local node executor starts them, with whatever ``aws`` and ``python3`` the PATH has.

What is modelled: YAML import (snakeyaml's YAML 1.1 scalars, ``Option.fromMap``), option
values at run time (defaults, Key Storage for secure options), inline-script token
expansion (``@key@``, ``@@``), argument expansion, quoting and joining into one ``sh -c``
line, the ``RD_*`` environment, the Key Value Data log filter, and ``keepgoing: false``.
What is not: node dispatch over SSH, error handlers, job references, other log filters.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# --- import -----------------------------------------------------------------------------

# snakeyaml's YAML 1.1 float (org.yaml.snakeyaml.resolver.Resolver.FLOAT); JobYAMLFormat.groovy
# loads jobs with ``new Yaml(new SafeConstructor(...))``, so this resolver applies. PyYAML's
# own float needs a dot: it reads ``1e3`` as a string where Rundeck reads a float.
_SNAKEYAML_FLOAT = re.compile(
    r"^([-+]?(\.[0-9]+|[0-9_]+(\.[0-9_]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class SnakeYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with snakeyaml's float resolver added (booleans such as
    ``yes``/``on`` and the null forms are YAML 1.1 in both already)."""


SnakeYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _SNAKEYAML_FLOAT, list("-+0123456789."))

# SharedJobOptionConstraints.groovy: ``name(..., matches: '[a-zA-Z_0-9.-]+')``.
_OPTION_NAME = re.compile(r"[a-zA-Z_0-9.-]+")


@dataclass(frozen=True)
class Option:
    """A job option as imported."""

    name: str
    value: str | None
    required: bool
    secure: bool
    exposed: bool
    storage_path: str | None


@dataclass(frozen=True)
class Command:
    """An inline script step as imported."""

    script: str
    args: str | None
    log_filters: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Job:
    """A job as Rundeck keeps it after import."""

    name: str
    options: tuple[Option, ...]
    commands: tuple[Command, ...]
    keepgoing: bool
    raw: Mapping[str, Any]


class ImportError_(ValueError):
    """Rundeck would refuse the job definition."""


def import_job(text: str) -> Job:
    """Read job YAML as Rundeck does; one job."""
    data = yaml.load(text, Loader=SnakeYamlLoader)  # a SafeLoader subclass
    # JobYAMLFormat.groovy: "Yaml: Expected list data" / "Expected list of Maps".
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportError_("Yaml: Expected list of Maps")
    if len(data) != 1:
        raise ImportError_(f"expected one job, found {len(data)}")
    job = data[0]
    sequence = job.get("sequence") or {}
    return Job(
        name=groovy_string(job["name"]),
        options=tuple(_option(item) for item in job.get("options") or ()),
        commands=tuple(_command(item) for item in sequence.get("commands") or ()),
        keepgoing=bool(sequence.get("keepgoing")),
        raw=job,
    )


def _option(data: Mapping[str, Any]) -> Option:
    name = groovy_string(data.get("name", ""))
    if not _OPTION_NAME.fullmatch(name):
        raise ImportError_(f"option name {name!r} does not match [a-zA-Z_0-9.-]+")
    # Option.groovy fromMap: ``if(data.value){ data.defaultValue = data.remove('value') }``:
    # Groovy truth drops an empty default; other types become their string (a float 1000.0).
    value = data.get("value")
    return Option(
        name=name,
        value=groovy_string(value) if _groovy_truth(value) else None,
        required=_groovy_truth(data.get("required")),
        secure=_groovy_truth(data.get("secure")),
        # fromMap: ``if(data.secureInput && data.valueExposed)``.
        exposed=_groovy_truth(data.get("secure")) and _groovy_truth(data.get("valueExposed")),
        storage_path=groovy_string(data["storagePath"]) if data.get("storagePath") else None,
    )


def _command(data: Mapping[str, Any]) -> Command:
    if "script" not in data:
        raise ImportError_(f"the model runs inline script steps only, not {sorted(data)}")
    # CommandExec.groovy setConfigurationFromMap: ``adhocLocalString = data.script.toString()``.
    plugins = data.get("plugins") or {}
    return Command(
        script=groovy_string(data["script"]),
        args=groovy_string(data["args"]) if data.get("args") is not None else None,
        log_filters=tuple(plugins.get("LogFilter") or ()),
    )


def _groovy_truth(value: Any) -> bool:
    return value not in (None, "", 0, False) and value != [] and value != {}


def groovy_string(value: Any) -> str:
    """``toString()`` of what snakeyaml produced (Java's Double.toString for floats)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {True: "Infinity", False: "-Infinity"}.get(value > 0, "NaN") if value == value else "NaN"
        if value == 0 or 1e-3 <= abs(value) < 1e7:
            text = repr(value)
            return text if "." in text else f"{text}.0"
        mantissa, exponent = f"{value:e}".split("e")
        return f"{float(mantissa)!r}E{int(exponent)}"
    return str(value)


# --- run time: values -----------------------------------------------------------------------


def option_values(job: Job, given: Mapping[str, str], key_storage: Mapping[str, str]) -> dict[str, str]:
    """The options' values for one execution: what was given, else the default; a secure
    option with a storage path is read from Key Storage (ExecutionService.groovy
    loadSecureOptionStorageDefaults); a required option without a value is refused."""
    values: dict[str, str] = {}
    for option in job.options:
        if option.name in given:
            values[option.name] = given[option.name]
        elif option.secure and option.storage_path:
            if option.storage_path in key_storage:
                values[option.name] = key_storage[option.storage_path]
        elif option.value is not None:
            values[option.name] = option.value
        if option.required and not values.get(option.name):
            raise ValueError(f"Option '{option.name}' is required")
    return values


def data_context(job: Job, values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The groups scripts see. ExecutionService.groovy createContext: exposed secure option
    values are added to ``option`` (``optsmap.putAll(extraParamsExposed)``) and also kept as
    ``secureOption``; a secure option that is not exposed reaches no script."""
    hidden = {option.name for option in job.options if option.secure and not option.exposed}
    exposed = {option.name for option in job.options if option.exposed}
    return {
        "option": {name: value for name, value in values.items() if name not in hidden},
        "secureOption": {name: value for name, value in values.items() if name in exposed},
        "job": {"name": job.name, "execid": "1", "project": "model", "username": "admin"},
        "data": {},
    }


def environment(context: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """DataContextUtils.generateEnvVarsFromContext: every ``group.key`` as ``RD_GROUP_KEY``
    (generateEnvVarName: upper case, anything but ``[a-zA-Z0-9_]`` as ``_``)."""
    return {
        "RD_" + re.sub(r"[^a-zA-Z0-9_]", "_", f"{group}.{key}".upper()): value
        for group, entries in context.items()
        if group != "data"
        for key, value in entries.items()
    }


# --- run time: the script and its arguments ----------------------------------------------------

# CLIUtils.java: UNIX_SHELL_CHARS and WS_CHARS.
_UNIX_SHELL_CHARS = "\"';{}()&$\\|*?><`"
_WS_CHARS = "\n\r\t"
# SharedDataContextUtils.java: PROPERTY_REF_REGEX.
_PROPERTY_REF = re.compile(r"\$\{([^\s.]+)\.([^\s}]+)\}")
# DataContextUtils.java: the pattern replaceMissingOptionsWithBlank blanks.
_MISSING_OPTION = re.compile(r"^\$\{option\.[^}\s]+?\}$")
# Java's Character.isWhitespace, which ends a would-be token (ReplaceTokenReader).
_JAVA_WHITESPACE = frozenset(" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")


def flatten(context: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """DataContextUtils.flattenDataContext: ``group.key`` -> value."""
    return {f"{group}.{key}": value for group, entries in context.items() for key, value in entries.items()}


def expand_tokens(script: str, tokens: Mapping[str, str]) -> str:
    """ReplaceTokenReader.java as DataContextUtils.replaceTokensInScript uses it (on by default:
    ScriptFileNodeStepExecutor reads ``execution.script.tokenexpansion.enabled``, true when
    unset): ``@group.key@`` becomes its value, an unknown one nothing (blankIfMissing), ``@@``
    one ``@``; a whitespace character before the closing ``@`` leaves the text as it was."""
    out: list[str] = []
    i, n = 0, len(script)
    while i < n:
        if script[i] != "@":
            out.append(script[i])
            i += 1
            continue
        if i + 1 < n and script[i + 1] == "@":
            out.append("@")
            i += 2
            continue
        j, key = i + 1, []
        while j < n and script[j] != "@" and script[j] not in _JAVA_WHITESPACE:
            key.append(script[j])
            j += 1
        if j < n and script[j] == "@":
            out.append(tokens.get("".join(key), ""))
            i = j + 1
        else:  # ended by whitespace (kept) or by the end of the script
            end = min(j + 1, n)
            out.append(script[i:end])
            i = end
    return "".join(out)


def burst(args: str) -> list[str]:
    """OptsUtil.burst / QuotedStringTokenizer.java: split on whitespace runs; single or double
    quotes group (a doubled quote inside is one quote character)."""
    tokens: list[str] = []
    i, n = 0, len(args)
    while i < n:
        while i < n and args[i] <= " ":
            i += 1
        if i >= n:
            break
        token: list[str] = []
        quote = args[i] if args[i] in "'\"" else None
        i += 1 if quote else 0
        while i < n:
            c = args[i]
            if quote:
                if c == quote and i + 1 < n and args[i + 1] == quote:
                    token.append(quote)
                    i += 2
                elif c == quote:
                    quote = None
                    i += 1
                else:
                    token.append(c)
                    i += 1
            elif c <= " ":
                break
            else:
                token.append(c)
                i += 1
        tokens.append("".join(token))
    return tokens


def expand_references(text: str, context: Mapping[str, Mapping[str, str]]) -> str:
    """DataContextUtils.replaceDataReferencesInString with replaceMissingOptionsWithBlank:
    ``${group.key}`` becomes its value; a missing ``${option.x}`` nothing, any other
    missing reference stays as written."""

    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1), {}).get(match.group(2))
        if found is not None:
            return found
        return "" if _MISSING_OPTION.match(match.group(0)) else match.group(0)

    return _PROPERTY_REF.sub(value, text)


def needs_quoting(arg: str) -> bool:
    """ScriptExecUtil.needsQuoting: the argument is a whole ``${...}`` reference
    (DataContextUtils.stringContainsPropertyReferencePredicate), or has a space or a ``'``."""
    return ("${" in arg and _PROPERTY_REF.fullmatch(arg) is not None) or " " in arg or "'" in arg


def quote_unix_shell_arg(arg: str) -> str:
    """CLIUtils.quoteUnixShellArg: as it is unless it has a shell character, a space, a tab,
    CR or LF (an empty argument stays empty); else in single quotes, ``'`` as ``'"'"'``."""
    if not any(c in _UNIX_SHELL_CHARS or c in _WS_CHARS or c == " " for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def command_line(script_path: str, args: str | None, context: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What the local node executor starts for a script step with arguments.

    ScriptFileNodeStepExecutor bursts ``args``; ScriptExecUtil.createScriptArgList adds the
    script path (never quoted) and each argument, quoted when needs_quoting; ExecArgList's
    CommandVisitor expands each argument then quotes it; LocalNodeExecutor hands the list to
    ExecTaskParameterGeneratorImpl, which joins it with spaces into ``/bin/sh -c``. So an
    argument that expands to nothing disappears and the later ones shift.
    """
    words = [script_path]
    for token in burst(args or ""):
        expanded = expand_references(token, context)
        words.append(quote_unix_shell_arg(expanded) if needs_quoting(token) else expanded)
    return ["/bin/sh", "-c", " ".join(words)]


# --- log filter -------------------------------------------------------------------------------

# java.util.regex's ``.`` matches no line terminator: \n, \r, \u0085, \u2028, \u2029.
_JAVA_LINE_TERMINATORS = "\r\u0085\u2028\u2029"


def key_value_data(config: Mapping[str, Any], lines: list[str]) -> dict[str, str]:
    """KeyValueDataLogFilterPlugin.groovy: each normal-level log line (the step's stdout) that
    ``matches()`` the regex (two groups: key, value) sets data ``key``; invalid key characters
    become ``_`` (replaceFilteredResult false). Lines with a Java line terminator inside never
    match ``(.+)$``."""
    pattern = re.compile(str(config.get("regex", r"^RUNDECK:DATA:\s*([^\s]+?)\s*=\s*(.+)$")), re.ASCII)
    invalid = re.compile(str(config.get("invalidKeyPattern", r"\s|\$|\{|\}|\\")))
    found: dict[str, str] = {}
    for line in lines:
        if not line or any(c in line for c in _JAVA_LINE_TERMINATORS):
            continue
        match = pattern.fullmatch(line)
        if match and match.group(1):
            found[invalid.sub("_", match.group(1))] = match.group(2)
    return found


# --- running a job ------------------------------------------------------------------------------


@dataclass
class StepRun:
    """One step as it ran: the ``sh -c`` line, exit status and output."""

    line: str
    returncode: int
    stdout: str
    stderr: str


@dataclass
class JobRun:
    """A job execution: the steps that ran (it stops at the first failure) and the data."""

    steps: list[StepRun] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every step ran and succeeded."""
        return all(step.returncode == 0 for step in self.steps)

    @property
    def returncodes(self) -> list[int]:
        return [step.returncode for step in self.steps]


def run_job(
    text: str,
    *,
    options: Mapping[str, str] | None = None,
    key_storage: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> JobRun:
    """Import ``text`` and run its steps on this machine as Rundeck's local executor would."""
    job = import_job(text)
    context = data_context(job, option_values(job, options or {}, key_storage or {}))
    run = JobRun()
    with tempfile.TemporaryDirectory(prefix="rundeck-model-") as work:
        for number, command in enumerate(job.commands, start=1):
            step = _run_step(command, number, context, Path(work), env, timeout)
            run.steps.append(step)
            if command.log_filters:
                for log_filter in command.log_filters:
                    if log_filter.get("type") == "key-value-data":
                        context["data"].update(key_value_data(log_filter.get("config") or {}, _log_lines(step.stdout)))
            if step.returncode != 0 and not job.keepgoing:
                break
    run.data = dict(context["data"])
    return run


def _run_step(
    command: Command,
    number: int,
    context: dict[str, dict[str, str]],
    work: Path,
    env: Mapping[str, str] | None,
    timeout: float,
) -> StepRun:
    path = work / f"{number}-dispatch-script.tmp.sh"
    path.write_text(expand_tokens(command.script, flatten(context)), encoding="utf-8")
    path.chmod(0o700)
    argv = command_line(str(path), command.args, context)
    # LocalNodeExecutor: the RD_* variables merged into the server's environment (mergeEnv).
    process_env = {**(env if env is not None else os.environ), **environment(context)}
    done = subprocess.run(argv, capture_output=True, text=True, env=process_env, timeout=timeout, cwd=work)
    return StepRun(argv[2], done.returncode, done.stdout, done.stderr)


def _log_lines(output: str) -> list[str]:
    """Rundeck logs a step's output line by line (LF; a CR before it is dropped)."""
    return [line.removesuffix("\r") for line in output.split("\n")]
