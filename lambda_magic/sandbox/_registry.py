"""Functions, their published versions and their aliases: what the sandbox can invoke.

A ``FunctionVersion`` is immutable. ``$LATEST`` is replaced by a new object when its
configuration changes, so warm workers built for the old one can tell they are stale; a
published version freezes a copy of the code directory, as Lambda freezes a version's
deployment package.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lambda_magic.sandbox._code_store import CodeStore
from lambda_magic.sandbox._errors import ApiError, SandboxError, invalid_parameter, not_found

__all__ = [
    "ACCOUNT_ID",
    "LATEST",
    "REGION",
    "Alias",
    "Function",
    "FunctionVersion",
    "Registry",
    "Resolved",
    "function_arn",
    "layer_arn",
]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
LATEST = "$LATEST"

_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ALIAS_RE = re.compile(r"(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}")
# Accepts the forms Lambda accepts: name, name:qualifier, ACCOUNT:function:name[:qualifier]
# and the full ARN arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier].
_TARGET_RE = re.compile(
    r"(?:(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?P<account>\d{12}):function:)?"
    r"(?P<name>[A-Za-z0-9_.-]+)(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?"
)
_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def layer_arn(name: str, version: int = 1, *, region: str = REGION) -> str:
    """The ARN of version ``version`` of layer ``name`` in the sandbox's account and region."""
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:layer:{name}:{version}"


def function_arn(name: str, qualifier: str | None = None, *, region: str = REGION) -> str:
    """The ARN of function ``name`` in the sandbox's account and ``region``."""
    arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


@dataclass(frozen=True, eq=False)
class FunctionVersion:
    """One invocable configuration of a function: ``$LATEST`` or a published version."""

    name: str
    version: str
    handler: str
    code_dir: Path
    code_file: str | None = None  # set when the code is one .py file inside code_dir
    runtime: str = "python3.11"
    timeout: int = 3
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    description: str = ""
    deps_dir: Path | None = None  # the built requirements.txt, on sys.path after the code
    layers: tuple[Path, ...] = ()  # the layers' sys.path folders, in template order
    layer_arns: tuple[str, ...] = ()
    log_format: str = "Text"  # LoggingConfig: Text or JSON
    application_log_level: str | None = None
    system_log_level: str | None = None
    region: str = REGION
    code_sha256: str = ""
    code_size: int = 0
    last_modified: str = ""
    revision_id: str = ""

    @property
    def arn(self) -> str:
        """The version's qualified ARN (``...:function:NAME:VERSION``)."""
        return function_arn(self.name, self.version, region=self.region)

    @property
    def log_group(self) -> str:
        """The CloudWatch log group the function writes to."""
        return f"/aws/lambda/{self.name}"


@dataclass(frozen=True)
class Alias:
    """A named pointer to one version of a function."""

    function_name: str
    name: str
    function_version: str
    description: str = ""
    region: str = REGION
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def arn(self) -> str:
        """The alias ARN (``...:function:NAME:ALIAS``)."""
        return function_arn(self.function_name, self.name, region=self.region)


@dataclass(eq=False)
class Function:
    """A function: its ``$LATEST``, its published versions and its aliases."""

    latest: FunctionVersion
    reserved_concurrency: int | None = None
    versions: dict[str, FunctionVersion] = field(default_factory=dict)
    aliases: dict[str, Alias] = field(default_factory=dict)
    # The $LATEST revision each published version was made from (publish is idempotent).
    published_from: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The function's name."""
        return self.latest.name


@dataclass(frozen=True)
class Resolved:
    """What an invocation target resolved to."""

    function: Function
    version: FunctionVersion
    invoked_arn: str


class Registry:
    """The sandbox's functions; safe to read from server threads while the owner adds."""

    def __init__(self, store: CodeStore, *, region: str = REGION) -> None:
        self._store = store
        self.region = region
        self._functions: dict[str, Function] = {}
        self._lock = threading.RLock()

    # -- defining -------------------------------------------------------------------------

    def add(
        self,
        name: str,
        *,
        handler: str,
        code: str | Path,
        reserved_concurrency: int | None = None,
        **config: Any,
    ) -> Function:
        """Define (or redefine) function ``name`` from a directory or a single ``.py`` file."""
        if not _NAME_RE.fullmatch(name):
            raise SandboxError(f"bad function name {name!r}: use 1-64 letters, digits, - or _")
        _check_concurrency(name, reserved_concurrency)
        code_dir, code_file = _code_location(name, handler, Path(code))
        latest = self._stamp(
            FunctionVersion(
                name=name,
                version=LATEST,
                handler=handler,
                code_dir=code_dir,
                code_file=code_file,
                region=self.region,
                **_checked_config(name, config),
            )
        )
        function = Function(latest=latest, reserved_concurrency=reserved_concurrency)
        with self._lock:
            self._functions[name] = function
        return function

    def _stamp(self, version: FunctionVersion) -> FunctionVersion:
        return _stamped(version, self._store)

    def update(self, name: str, **config: Any) -> FunctionVersion:
        """Change ``$LATEST``'s configuration (timeout, memory, environment, description)."""
        with self._lock:
            function = self.get(name)
            merged = {**_config_of(function.latest), **config}
            latest = replace(function.latest, **_checked_config(name, merged))
            function.latest = self._stamp(latest)
            return function.latest

    def publish(self, name: str, *, description: str = "") -> FunctionVersion:
        """Publish ``$LATEST`` as the next version, freezing a copy of its code."""
        with self._lock:
            function = self.get(name)
            latest = function.latest
            for number, revision in function.published_from.items():
                if revision == latest.revision_id:
                    return function.versions[number]  # unchanged: Lambda returns it again
            number = str(len(function.versions) + 1)
            frozen_dir = self._store.freeze(latest.code_dir, latest.code_file, latest.code_sha256)
            version = replace(
                latest,
                version=number,
                code_dir=frozen_dir,
                description=description or latest.description,
                revision_id=str(uuid.uuid4()),
            )
            function.versions[number] = version
            function.published_from[number] = latest.revision_id
            return version

    def create_alias(self, name: str, alias: str, version: str, *, description: str = "") -> Alias:
        """Point alias ``alias`` of function ``name`` at ``version`` (a number or $LATEST)."""
        if not _ALIAS_RE.fullmatch(alias):
            raise SandboxError(f"bad alias name {alias!r}: use letters, digits, - or _ (not only digits)")
        with self._lock:
            function = self.get(name)
            if version != LATEST and version not in function.versions:
                raise SandboxError(f"{name} has no version {version}: publish it first")
            made = Alias(
                function_name=name, name=alias, function_version=version, description=description, region=self.region
            )
            function.aliases[alias] = made
            return made

    # -- reading --------------------------------------------------------------------------

    def get(self, name: str) -> Function:
        """The function called ``name``; ``SandboxError`` if there is none."""
        function = self._functions.get(name)
        if function is None:
            known = ", ".join(sorted(self._functions)) or "none"
            raise SandboxError(f"no function {name!r} in the sandbox (defined: {known})")
        return function

    def functions(self) -> list[Function]:
        """All functions, sorted by name."""
        with self._lock:
            return [self._functions[name] for name in sorted(self._functions)]

    def find(self, target: str, qualifier: str | None = None) -> tuple[Function, str | None]:
        """The function a name or ARN designates and the qualifier it carries, else 404."""
        match = _TARGET_RE.fullmatch(target)
        if match is None:
            raise not_found(f"Function not found: {target}")
        _check_reachable(target, match["region"], match["account"], self.region)
        derived = match["qualifier"]
        if derived and qualifier and derived != qualifier:
            raise invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier."
            )
        function = self._functions.get(match["name"])
        if function is None:
            raise not_found(f"Function not found: {self.arn(match['name'])}")
        return function, derived or qualifier

    def arn(self, name: str, qualifier: str | None = None) -> str:
        """The ARN of function ``name`` in this registry's region."""
        return function_arn(name, qualifier, region=self.region)

    def resolve(self, target: str, qualifier: str | None = None) -> Resolved:
        """Resolve an Invoke target to the version that runs, like Lambda does, else 404."""
        function, qualifier = self.find(target, qualifier)
        version = self.version_of(function, qualifier)
        return Resolved(function, version, self.arn(function.name, qualifier))

    def version_of(self, function: Function, qualifier: str | None) -> FunctionVersion:
        """The version ``qualifier`` (number, alias, $LATEST or None) selects, else 404."""
        if qualifier in (None, "", LATEST):
            return function.latest
        assert qualifier is not None
        alias = function.aliases.get(qualifier)
        number = alias.function_version if alias else qualifier
        if number == LATEST:
            return function.latest
        version = function.versions.get(number)
        if version is None:
            what = "alias" if not qualifier.isdigit() else "version"
            raise not_found(
                f"Function not found: {self.arn(function.name, qualifier)} "
                f"({function.name} has no {what} {qualifier!r})"
            )
        return version


def _check_reachable(target: str, region: str | None, account: str | None, here: str) -> None:
    """Refuse an ARN of another region or account with the error Lambda answers."""
    if region and region != here:
        raise not_found(f"Functions from '{region}' are not reachable in this region ('{here}')")
    if account and account != ACCOUNT_ID:
        raise ApiError(
            "AccessDeniedException",
            403,
            f"User: arn:aws:iam::{ACCOUNT_ID}:user/sandbox is not authorized to perform: "
            f"lambda:InvokeFunction on resource: {target} because no resource-based policy "
            "allows the lambda:InvokeFunction action",
        )


def _check_concurrency(name: str, reserved: int | None) -> None:
    if reserved is not None and (not isinstance(reserved, int) or reserved < 0):
        raise SandboxError(f"{name}: reserved_concurrency must be an integer >= 0 or None")


def _checked_config(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validate the configuration keywords against Lambda's limits."""
    allowed = {
        "runtime",
        "timeout",
        "memory",
        "environment",
        "description",
        "deps_dir",
        "layers",
        "layer_arns",
        "log_format",
        "application_log_level",
        "system_log_level",
    }
    unknown = set(config) - allowed
    if unknown:
        raise SandboxError(f"{name}: unknown setting(s) {', '.join(sorted(unknown))}")
    out = dict(config)
    runtime = out.get("runtime", "python3.11")
    if not re.fullmatch(r"python3\.\d+", str(runtime)):
        raise SandboxError(f"{name}: runtime {runtime!r} is not Python; the sandbox runs python3.x")
    timeout = out.get("timeout", 3)
    if not isinstance(timeout, int) or not 1 <= timeout <= 900:
        raise SandboxError(f"{name}: timeout must be whole seconds from 1 to 900")
    memory = out.get("memory", 128)
    if not isinstance(memory, int) or not 128 <= memory <= 10240:
        raise SandboxError(f"{name}: memory must be MB from 128 to 10240")
    env = out.get("environment") or {}
    out["environment"] = {str(key): str(value) for key, value in env.items()}
    out["layers"] = tuple(Path(layer) for layer in out.get("layers") or ())
    out["layer_arns"] = tuple(out.get("layer_arns") or ())
    if out.get("log_format", "Text") not in ("Text", "JSON"):
        raise SandboxError(f"{name}: log_format must be Text or JSON")
    for key in ("application_log_level", "system_log_level"):
        level = out.get(key)
        if level is not None and str(level).upper() not in _LOG_LEVELS:
            raise SandboxError(f"{name}: {key} must be one of {', '.join(_LOG_LEVELS)}")
        out[key] = None if level is None else str(level).upper()
    return out


def _config_of(version: FunctionVersion) -> dict[str, Any]:
    return {
        "runtime": version.runtime,
        "timeout": version.timeout,
        "memory": version.memory,
        "environment": version.environment,
        "description": version.description,
        "deps_dir": version.deps_dir,
        "layers": version.layers,
        "layer_arns": version.layer_arns,
        "log_format": version.log_format,
        "application_log_level": version.application_log_level,
        "system_log_level": version.system_log_level,
    }


def _code_location(name: str, handler: str, code: Path) -> tuple[Path, str | None]:
    """The directory to run from and, for single-file code, the file's name."""
    module, _, func = handler.rpartition(".")
    if not module or not func:
        raise SandboxError(f"{name}: handler {handler!r} must look like 'module.function'")
    code = code.expanduser().resolve()
    if code.is_file():
        if code.suffix != ".py" or module != code.stem:
            raise SandboxError(f"{name}: handler module {module!r} must match the code file {code.name!r}")
        return code.parent, code.name
    if not code.is_dir():
        raise SandboxError(f"{name}: code {str(code)!r} is neither a directory nor a .py file")
    return code, None


def _stamped(version: FunctionVersion, store: CodeStore) -> FunctionVersion:
    """``version`` with its code digest, size, modification time and a new revision."""
    digest, size = store.digest(version.code_dir, version.code_file)
    return replace(
        version,
        code_sha256=digest,
        code_size=size,
        last_modified=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        revision_id=str(uuid.uuid4()),
    )
