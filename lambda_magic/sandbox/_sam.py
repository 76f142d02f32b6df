"""Reading the Python functions of an AWS SAM (or plain CloudFormation) template.

CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!GetAtt``...) are read into their
long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``) by a PyYAML loader that knows them, and the
few places the sandbox needs a value (names, environment variables, timeouts) are resolved
best effort: parameters take their ``Default``, pseudo parameters the sandbox's region and
account, references to other resources their logical id.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lambda_magic.sandbox._errors import SandboxError
from lambda_magic.sandbox._registry import ACCOUNT_ID, REGION

__all__ = ["SamFunction", "SamLayer", "SamTemplate", "load_template"]

_SERVERLESS = "AWS::Serverless::Function"
_PLAIN = "AWS::Lambda::Function"
_LAYERS = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_NO_VALUE = object()


@dataclass
class SamFunction:
    """One Python function of a template, ready for ``Registry.add``."""

    name: str
    handler: str
    code: Path | None
    inline_code: str | None = None
    runtime: str = "python3.11"
    timeout: int = 3
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    description: str = ""
    reserved_concurrency: int | None = None
    alias: str | None = None  # AutoPublishAlias: publish version 1 and point this alias at it
    logical_id: str = ""  # the resource's key in the template
    layers: list[str] = field(default_factory=list)  # logical ids of the template's layers
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None


@dataclass
class SamLayer:
    """A layer of the template with local content."""

    logical_id: str
    name: str
    content: Path
    build: bool  # Metadata.BuildMethod python*: the content is sources plus requirements.txt

    def sys_path(self, deps_dir: Path | None) -> list[Path]:
        """Where its modules are, as Lambda's ``/opt/python`` would hold them."""
        python = self.content / "python"
        if python.is_dir() and not self.build:
            site = python / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
            return [path for path in (site, python) if path.is_dir()]
        return [self.content, *([deps_dir] if deps_dir else [])]


@dataclass
class SamTemplate:
    """The functions the sandbox can run, and the ones it skipped with the reason."""

    path: Path
    functions: list[SamFunction]
    skipped: dict[str, str]
    description: str = ""
    layers: dict[str, SamLayer] = field(default_factory=dict)


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that reads CloudFormation's ``!Tag`` short forms."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(
    path: str | Path, parameters: dict[str, str] | None = None, *, allow_outside: bool = False, region: str = REGION
) -> SamTemplate:
    """Read the Python functions of the template at ``path``.

    A function the sandbox cannot run is skipped with the reason, never failing the others:
    other runtimes, images, code or layers in S3, EFS, and code outside the template's folder
    (unless ``allow_outside``).
    """
    path = Path(path).expanduser().resolve()
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        detail = " ".join(str(getattr(err, "strerror", None) or err).split())[:200]
        raise SandboxError(f"cannot read SAM template {str(path)!r} ({detail}): check the path and the YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise SandboxError(
            f"{path.name} has no Resources section: give a SAM template (template.yaml of a SAM project)"
        )
    context = _Context(path, _parameter_values(document, parameters or {}, region), allow_outside)
    globals_ = (document.get("Globals") or {}).get("Function") or {}
    resources = {key: value for key, value in document["Resources"].items() if isinstance(value, dict)}
    layers, skipped = _layers(resources, context)
    functions = []
    for logical_id, resource in resources.items():
        if resource.get("Type") not in (_SERVERLESS, _PLAIN):
            continue
        try:
            function = _function(logical_id, resource, globals_, context)
            _check_layers(function, layers, skipped)
            functions.append(function)
        except _Skip as skip:
            skipped[logical_id] = str(skip)
        except (ValueError, TypeError, KeyError, AttributeError) as err:  # a value we cannot read
            skipped[logical_id] = f"cannot read its properties ({type(err).__name__}: {err})"
    return SamTemplate(path, functions, skipped, str(document.get("Description") or ""), layers)


def _layers(resources: dict[str, Any], ctx: _Context) -> tuple[dict[str, SamLayer], dict[str, str]]:
    """The template's layers with local content; the others, skipped with the reason."""
    layers, skipped = {}, {}
    for logical_id, resource in resources.items():
        if resource.get("Type") not in _LAYERS:
            continue
        props = resource.get("Properties") or {}
        location = ctx.resolve(props.get("ContentUri", props.get("Content")))
        build = str((resource.get("Metadata") or {}).get("BuildMethod", "")).startswith("python")
        try:
            content = ctx.local_path(location, "ContentUri")
        except _Skip as skip:
            skipped[logical_id] = str(skip)
            continue
        name = str(ctx.resolve(props.get("LayerName")) or logical_id)
        layers[logical_id] = SamLayer(logical_id, name, content, build)
    return layers, skipped


def _check_layers(function: SamFunction, layers: dict[str, SamLayer], skipped: dict[str, str]) -> None:
    """Skip a function whose layer the sandbox does not have (remote, or skipped itself)."""
    for ref in function.layers:
        if ref in skipped:
            raise _Skip(f"its layer {ref} was skipped: {skipped[ref]}")
        if ref not in layers:
            raise _Skip(f"layer {ref} is not a layer of this template with local content")


class _Skip(Exception):
    """A function the sandbox cannot run (not Python, an image, code in S3)."""


@dataclass
class _Context:
    template: Path
    parameters: dict[str, Any]
    allow_outside: bool = False

    def local_path(self, location: Any, what: str) -> Path:
        """A code location as a path inside the template's folder, else the reason to skip."""
        if not isinstance(location, str) or location.startswith("s3://"):
            raise _Skip(f"its {what} is in S3: point it at a local folder")
        folder = self.template.parent
        path = (folder / location).resolve()
        if not self.allow_outside and not path.is_relative_to(folder):
            raise _Skip(
                f"its {what} {location} is outside the template's folder (allow_outside / --allow-outside runs it)"
            )
        if not path.exists():
            raise _Skip(f"its {what} {location} does not exist")
        return path

    def resolve(self, value: Any) -> Any:
        """The value of an intrinsic function, as far as a local run can know it."""
        if not (isinstance(value, dict) and len(value) == 1):
            return value
        ((key, arg),) = value.items()
        if key == "Ref":
            return self.parameters.get(arg, arg)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            return str(arg[0]).join(str(self.resolve(part)) for part in arg[1])
        if key == "Fn::GetAtt":
            return ".".join(str(part) for part in arg) if isinstance(arg, list) else str(arg)
        if key == "Fn::Select" and isinstance(arg, list) and len(arg) == 2:
            items = self.resolve(arg[1])
            return self.resolve(items[int(arg[0])]) if isinstance(items, list) else items
        if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            return self.resolve(arg[1])  # conditions are not evaluated: take the "true" branch
        return value

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})

        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return str(self.resolve(variables[name]))
            if name in self.parameters:
                return str(self.parameters[name])
            return name.replace(".", "-")  # ${Resource.Attr}: a readable stand-in

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, str(text))


def _parameter_values(document: dict[str, Any], overrides: dict[str, str], region: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": "sandbox",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": _NO_VALUE,
    }
    for name, spec in (document.get("Parameters") or {}).items():
        if isinstance(spec, dict) and "Default" in spec:
            values[name] = spec["Default"]
    values.update(overrides)
    return values


def _merged(globals_: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """Resource properties over ``Globals.Function``; environment variables merge."""
    merged = {**globals_, **props}
    if "Layers" in globals_ and "Layers" in props:  # SAM adds list globals before the resource's
        merged["Layers"] = [*globals_["Layers"], *props["Layers"]]
    variables = {
        **((globals_.get("Environment") or {}).get("Variables") or {}),
        **((props.get("Environment") or {}).get("Variables") or {}),
    }
    if variables:
        merged["Environment"] = {"Variables": variables}
    return merged


def _function(logical_id: str, resource: dict[str, Any], globals_: dict[str, Any], ctx: _Context) -> SamFunction:
    serverless = resource["Type"] == _SERVERLESS
    props = _merged(globals_ if serverless else {}, resource.get("Properties") or {})
    if props.get("PackageType") == "Image":
        raise _Skip("container image functions need Docker")
    if props.get("FileSystemConfigs"):
        raise _Skip("EFS file systems are not emulated")
    runtime = str(ctx.resolve(props.get("Runtime", "python3.11")))
    if not runtime.startswith("python3"):
        raise _Skip(f"runtime {runtime} is not Python")
    handler = ctx.resolve(props.get("Handler"))
    if not handler:
        raise _Skip("no Handler")
    code, inline = _code(props, serverless, ctx)
    variables = (props.get("Environment") or {}).get("Variables") or {}
    environment = {
        str(key): _text(ctx.resolve(value)) for key, value in variables.items() if ctx.resolve(value) is not _NO_VALUE
    }
    reserved = ctx.resolve(props.get("ReservedConcurrentExecutions"))
    logging = props.get("LoggingConfig") or {}
    return SamFunction(
        name=str(ctx.resolve(props.get("FunctionName")) or logical_id),
        handler=str(handler),
        code=code,
        inline_code=inline,
        runtime=runtime,
        timeout=int(ctx.resolve(props.get("Timeout", 3))),
        memory=int(ctx.resolve(props.get("MemorySize", 128))),
        environment=environment,
        description=str(ctx.resolve(props.get("Description", ""))),
        reserved_concurrency=None if reserved is None else int(reserved),
        alias=str(ctx.resolve(props["AutoPublishAlias"])) if props.get("AutoPublishAlias") and serverless else None,
        logical_id=logical_id,
        layers=[str(ctx.resolve(layer)) for layer in props.get("Layers") or []],
        log_format=str(ctx.resolve(logging.get("LogFormat", "Text"))),
        application_log_level=_optional(ctx.resolve(logging.get("ApplicationLogLevel"))),
        system_log_level=_optional(ctx.resolve(logging.get("SystemLogLevel"))),
    )


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _code(props: dict[str, Any], serverless: bool, ctx: _Context) -> tuple[Path | None, str | None]:
    """Where the code is: a local directory, or inline source."""
    if serverless and props.get("InlineCode"):
        return None, str(ctx.resolve(props["InlineCode"]))
    location = ctx.resolve(props.get("CodeUri" if serverless else "Code", "."))
    if isinstance(location, dict) and "ZipFile" in location:
        return None, str(ctx.resolve(location["ZipFile"]))
    return ctx.local_path(location, "CodeUri" if serverless else "Code"), None


def _text(value: Any) -> str:
    """An environment value as CloudFormation passes it: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
