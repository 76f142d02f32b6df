"""What a worker process starts with: its command line, ``sys.path`` and environment.

Lambda's Python runtime gives a handler its code, its layers and the runtime (the interface
client and boto3) on ``sys.path``, and an environment of documented variables only; the
sandbox does the same, so "works in the sandbox" does not depend on the notebook's packages
or variables. Credentials are dummy ones unless the owner passes their own on purpose: a
handler's AWS calls then fail with AWS's invalid-token error instead of acting as the user.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lambda_magic.sandbox._registry import FunctionVersion

__all__ = [
    "DUMMY_CREDENTIALS",
    "WorkerHost",
    "host_credentials",
    "worker_command",
    "worker_environment",
    "worker_sys_path",
]

BOOTSTRAP = Path(__file__).parent / "_bootstrap" / "bootstrap.py"
#: Lambda's value of these unreserved variables; the template's Environment may override them.
_LAMBDA_DEFAULTS = {
    "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}
#: Shaped like the temporary credentials Lambda hands out; AWS answers them with
#: UnrecognizedClientException ("The security token included in the request is invalid").
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAXSANDBOXDUMMYKEY",
    "AWS_SECRET_ACCESS_KEY": "sandbox/dummy/secret/not/a/real/key/0000",
    "AWS_SESSION_TOKEN": "lambda-magic-sandbox-dummy-session-token",
}


@dataclass(frozen=True)
class WorkerHost:
    """What all workers of one sandbox share."""

    runtime_dir: Path
    region: str
    # Never in a repr: with pass_credentials these are the owner's own.
    credentials: dict[str, str] = field(default_factory=lambda: dict(DUMMY_CREDENTIALS), repr=False)


def worker_sys_path(spec: FunctionVersion, host: WorkerHost) -> list[str]:
    """The folders before the standard library: code, dependencies, layers, runtime."""
    paths = [spec.code_dir]
    if spec.deps_dir is not None:
        paths.append(spec.deps_dir)
    paths += spec.layers
    paths.append(host.runtime_dir)
    return [str(path) for path in paths]


def worker_command(spec: FunctionVersion, host: WorkerHost) -> list[str]:
    """``python -I -S _bootstrap/bootstrap.py HANDLER PATH...`` (see there)."""
    return [sys.executable, "-I", "-S", str(BOOTSTRAP), spec.handler, *worker_sys_path(spec, host)]


def worker_environment(spec: FunctionVersion, host: WorkerHost, runtime_api: str) -> dict[str, str]:
    """Lambda's defaults, then the function's variables, then the reserved ones."""
    env = dict(_LAMBDA_DEFAULTS)
    library_path = [str(spec.code_dir / "lib")]
    if os.environ.get("LD_LIBRARY_PATH"):  # the interpreter itself may need it to start
        library_path.append(os.environ["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(library_path)
    env.update(spec.environment)
    env.update(_reserved(spec, host, runtime_api))
    return env


def _reserved(spec: FunctionVersion, host: WorkerHost, runtime_api: str) -> dict[str, str]:
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{spec.version}]{os.urandom(16).hex()}"
    reserved = {
        "_HANDLER": spec.handler,
        "AWS_REGION": host.region,
        "AWS_DEFAULT_REGION": host.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": str(host.runtime_dir),
        **host.credentials,
    }
    if spec.log_format == "JSON":  # awslambdaric reads these to format application logs
        reserved["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if spec.application_log_level:
            reserved["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    return reserved


def host_credentials() -> dict[str, str]:
    """The owner's own credentials (their AWS chain, resolved now), for ``pass_credentials``."""
    import boto3

    from lambda_magic.sandbox._errors import SandboxError

    found = boto3.Session().get_credentials()
    if found is None:
        raise SandboxError(
            "pass_credentials: no AWS credentials found in this environment; configure some or leave the option out"
        )
    frozen = found.get_frozen_credentials()
    credentials = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        credentials["AWS_SESSION_TOKEN"] = frozen.token
    return credentials
