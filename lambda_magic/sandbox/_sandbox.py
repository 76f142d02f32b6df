"""``Sandbox``: a local, Docker-free Lambda that unmodified boto3 can invoke.

The pieces, one module each: the registry of functions (``_registry``), the Lambda API
server (``_server``), the pools of workers (``_pool``) running ``awslambdaric`` processes
(``_workers``) against their Runtime APIs (``_runtime_api``), and the log pump (``_logs``).
"""

from __future__ import annotations

import atexit
import importlib.util
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from lambda_magic.sandbox._build import Progress, default_cache_dir, install_requirements, requirements_of
from lambda_magic.sandbox._code_store import CodeStore
from lambda_magic.sandbox._errors import SandboxError
from lambda_magic.sandbox._invoker import Invoker, LogSink
from lambda_magic.sandbox._logs import LogPump
from lambda_magic.sandbox._logs_api import LogStore
from lambda_magic.sandbox._pool import Pools
from lambda_magic.sandbox._reaper import Reaper
from lambda_magic.sandbox._registry import LATEST, REGION, Function, FunctionVersion, Registry
from lambda_magic.sandbox._runtime_dir import build_runtime_dir
from lambda_magic.sandbox._sam import SamFunction, SamTemplate, load_template
from lambda_magic.sandbox._sam_build import build_function
from lambda_magic.sandbox._server import ApiServer
from lambda_magic.sandbox._stacks_api import Stack, StackSet
from lambda_magic.sandbox._worker_env import WorkerHost, host_credentials
from lambda_magic.sandbox._workers import Spawner, Worker

__all__ = ["DEMO_DIR", "Sandbox", "worker_cap"]

DEMO_DIR = Path(__file__).parent / "demo"
_RUNNING: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def worker_cap(endpoint_url: str) -> int | None:
    """``max_workers`` of the sandbox running in this process at ``endpoint_url``, else None."""
    wanted = endpoint_url.rstrip("/")
    for sandbox in list(_RUNNING):
        parts = sandbox._parts
        if parts is not None and f"http://127.0.0.1:{parts.server.port}" == wanted:
            return sandbox.max_workers
    return None


class Sandbox:
    """A Lambda-compatible endpoint on 127.0.0.1 that runs Python handlers locally.

    >>> with Sandbox() as sb:                                     # doctest: +SKIP
    ...     client = boto3.client("lambda", endpoint_url=sb.endpoint_url, region_name=sb.region,
    ...                           aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    ...     client.invoke(FunctionName="echo", Payload=b'{"hello": 1}')

    ``port=0`` picks a free port. ``template`` loads the Python functions of a SAM template;
    ``demo`` registers the bundled demo functions. ``max_workers`` caps the workers (warm
    environments) of each function; more concurrent calls wait for one. ``log_stream``, if
    given, receives every invocation's log as it finishes. ``region`` (default us-east-1) is
    the region it answers for: its ARNs, ``AWS::Region`` and the workers' ``AWS_REGION``.

    Handlers see Lambda's environment only: their code, dependencies and layers, the runtime
    (awslambdaric, boto3), Lambda's variables and dummy AWS credentials.
    ``pass_credentials=True`` gives them the owner's own credentials instead, resolved at
    ``start()`` from the usual AWS chain.

    Dependencies (``requirements.txt``) are installed into ``cache_dir`` (default
    ``~/.cache/lambda_magic/sandbox``), keyed by their hash, and published versions' frozen
    code is kept there too, keyed by its digest; ``progress`` receives one line
    per build and the warning about skipped functions (default: standard error).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        template: str | Path | None = None,
        demo: bool = True,
        max_workers: int = 8,
        log_stream: TextIO | None = None,
        stack_name: str | None = None,
        pass_credentials: bool = False,
        allow_outside: bool = False,
        cache_dir: str | Path | None = None,
        progress: Progress | None = None,
        region: str | None = None,
    ) -> None:
        if max_workers < 1:
            raise SandboxError("max_workers must be at least 1")
        self._port = port
        #: The region the sandbox answers for: ARNs, AWS::Region, the workers' AWS_REGION.
        self.region = region or REGION
        self._pass_credentials = pass_credentials
        self._cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._progress = progress if progress is not None else _to_stderr
        self._max_workers = max_workers
        self._log_stream = log_stream
        self._workdir = tempfile.TemporaryDirectory(prefix="lambda-sandbox-")
        self.registry = Registry(CodeStore(self._cache_dir / "code"), region=self.region)
        self._lock = threading.Lock()
        self._parts: _Running | None = None
        self._skipped: dict[str, str] = {}
        #: Each loaded template as a CloudFormation stack; every invocation's log as events.
        self.stacks = StackSet()
        self.log_store = LogStore()
        if demo:
            self._add_demo()
        if template is not None:
            self.load_template(template, stack_name=stack_name, allow_outside=allow_outside)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Serve in background threads and return at once; a no-op if already running."""
        with self._lock:
            if self._parts is None:
                _require_runtime()
                if self._skipped:
                    self._progress(_skipped_warning(self._skipped))
                self._parts = _Running.start(
                    self._port,
                    self.registry,
                    self._max_workers,
                    self._log_sink if self._log_stream else None,
                    stacks=self.stacks,
                    log_store=self.log_store,
                    host=self._worker_host(),
                )
                _RUNNING.add(self)
        return self

    def stop(self) -> None:
        """Stop the server and kill every worker; safe to call twice."""
        with self._lock:
            parts, self._parts = self._parts, None
            _RUNNING.discard(self)
        if parts is not None:
            parts.stop()

    def _worker_host(self) -> WorkerHost:
        runtime_dir = build_runtime_dir(Path(self._workdir.name) / "runtime")
        if self._pass_credentials:
            return WorkerHost(runtime_dir, self.region, host_credentials())
        return WorkerHost(runtime_dir, self.region)

    @property
    def max_workers(self) -> int:
        """The most workers (calls running at once) of each function; more calls wait."""
        return self._max_workers

    @property
    def running(self) -> bool:
        """Whether the sandbox is serving."""
        return self._parts is not None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``boto3.client("lambda", endpoint_url=...)``."""
        return f"http://127.0.0.1:{self._running().server.port}"

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.endpoint_url if self.running else "stopped"
        return f"<Sandbox {where} {len(self.registry.functions())} functions>"

    def _running(self) -> _Running:
        parts = self._parts
        if parts is None:
            raise SandboxError("the sandbox is not running: call start() first")
        return parts

    # -- functions ------------------------------------------------------------------------

    def add_function(
        self,
        name: str,
        *,
        code: str | Path,
        handler: str | None = None,
        runtime: str = "python3.11",
        timeout: int = 3,
        memory: int = 128,
        environment: dict[str, str] | None = None,
        description: str = "",
        reserved_concurrency: int | None = None,
        publish: bool = False,
        log_format: str = "Text",
    ) -> str:
        """Define function ``name`` from a directory or a ``.py`` file; returns its version.

        ``handler`` is ``"module.function"`` (for a single file it defaults to
        ``"<file stem>.handler"``). A ``requirements.txt`` in a code directory is installed
        (cached) as ``sam build`` would. Redefining a function replaces it with its versions
        and aliases. ``publish=True`` also publishes version 1 and returns ``"1"``.
        ``log_format="JSON"`` is LoggingConfig's JSON format.
        """
        if handler is None:
            if Path(code).suffix != ".py":
                raise SandboxError(f"{name}: give handler='module.function' for a code directory")
            handler = f"{Path(code).stem}.handler"
        requirements = requirements_of(Path(code)) if Path(code).is_dir() else None
        deps = (
            None
            if requirements is None
            else install_requirements(requirements, owner=name, cache_dir=self._cache_dir, progress=self._progress)
        )
        self._define(
            name,
            handler=handler,
            code=code,
            runtime=runtime,
            timeout=timeout,
            memory=memory,
            environment=environment,
            description=description,
            reserved_concurrency=reserved_concurrency,
            deps_dir=deps,
            log_format=log_format,
        )
        return self.publish_version(name) if publish else LATEST

    def _define(self, name: str, **definition: Any) -> None:
        self.registry.add(name, **definition)
        if self._parts is not None:
            self._parts.pools.pool(name).drop_idle()

    def update_function(self, name: str, **config: Any) -> None:
        """Change ``$LATEST``'s ``timeout``, ``memory``, ``environment`` or ``description``."""
        self.registry.update(name, **config)

    def publish_version(self, name: str, *, description: str = "") -> str:
        """Publish ``$LATEST`` (code copied, configuration frozen); returns the version."""
        return self.registry.publish(name, description=description).version

    def create_alias(self, name: str, alias: str, version: str, *, description: str = "") -> None:
        """Point ``alias`` at ``version`` of function ``name``."""
        self.registry.create_alias(name, alias, version, description=description)

    def load_template(
        self,
        path: str | Path,
        *,
        parameters: dict[str, str] | None = None,
        stack_name: str | None = None,
        allow_outside: bool = False,
    ) -> list[str]:
        """Add the Python functions of a SAM template, built as ``sam build`` would.

        Functions it cannot run (other runtimes, images, code or layers in S3, EFS, code
        outside the template's folder unless ``allow_outside``, dependencies pip cannot
        install) are skipped with the reason in ``status()["skipped"]``; the others run. The
        template is also served as a CloudFormation stack named ``stack_name`` (default: the
        template's folder name). Returns the names of the functions added.
        """
        template = load_template(path, parameters, allow_outside=allow_outside, region=self.region)
        self._skipped.update(template.skipped)
        added = [function for function in template.functions if self._add_sam_function(function, template)]
        self.stacks.add(
            Stack(
                stack_name or template.path.parent.name,
                {f.logical_id: f.name for f in added},
                description=template.description,
            )
        )
        return [function.name for function in added]

    def _add_sam_function(self, function: SamFunction, template: SamTemplate) -> bool:
        """Build and define one function; False (and the reason kept) if it cannot run."""
        try:
            definition = build_function(
                function,
                template,
                workdir=Path(self._workdir.name),
                cache_dir=self._cache_dir,
                progress=self._progress,
                region=self.region,
            )
            self._define(function.name, **definition)
        except SandboxError as err:
            self._skipped[function.logical_id] = str(err)
            return False
        if function.alias:
            self.create_alias(function.name, function.alias, self.publish_version(function.name))
        return True

    def _add_demo(self) -> None:
        """The bundled demo functions; health_check gets versions 1 and 2 and alias prod -> 1."""
        self.load_template(DEMO_DIR / "template.yaml")
        self.publish_version("health_check", description="release 1.0.0")
        self.update_function(
            "health_check", environment={"RELEASE": "2.0.0", "HEALTH_CHECKS": "http,database,latency,disk"}
        )
        self.publish_version("health_check", description="release 2.0.0: adds a disk check")
        self.create_alias("health_check", "prod", "1", description="what production runs")

    # -- looking inside -------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The endpoint, the functions and the live workers, as plain data."""
        parts = self._parts
        return {
            "running": parts is not None,
            "endpoint_url": self.endpoint_url if parts else None,
            "region": self.region,
            "functions": [_describe(function) for function in self.registry.functions()],
            "workers": parts.pools.describe() if parts else [],
            "skipped": dict(self._skipped),
        }

    def logs(self, name: str, *, last: int = 1) -> str:
        """The logs of the function's last ``last`` invocations (at most 20 are kept)."""
        self.registry.get(name)
        recent = self._running().invoker.recent_logs(name)
        return b"".join(recent[-last:]).decode("utf-8", "replace")

    def _log_sink(self, name: str, log: bytes) -> None:
        stream = self._log_stream
        if stream is not None:
            # The runtime joins a traceback's lines with \r (one CloudWatch event); a terminal
            # would draw them over each other.
            stream.write(log.decode("utf-8", "replace").replace("\r", "\n"))
            stream.flush()


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _skipped_warning(skipped: dict[str, str]) -> str:
    reasons = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
    return f"sandbox: skipped {len(skipped)} function(s) it cannot run ({reasons})"


def _describe(function: Function) -> dict[str, Any]:
    latest = function.latest
    return {
        "name": function.name,
        "handler": latest.handler,
        "runtime": latest.runtime,
        "timeout": latest.timeout,
        "memory": latest.memory,
        "code": str(latest.code_dir),
        "description": latest.description,
        "versions": [LATEST, *sorted(function.versions, key=int)],
        "aliases": {name: alias.function_version for name, alias in function.aliases.items()},
        "reserved_concurrency": function.reserved_concurrency,
    }


def _require_runtime() -> None:
    """Refuse to start where awslambdaric cannot run, in one line."""
    if not sys.platform.startswith("linux"):
        raise SandboxError(
            "the sandbox runs handlers under awslambdaric, which ships Linux wheels only: "
            "start it on Linux (WSL or a Linux container work)"
        )
    if importlib.util.find_spec("awslambdaric") is None:
        raise SandboxError("the sandbox needs awslambdaric: pip install awslambdaric")


class _Running:
    """What exists only while the sandbox serves."""

    def __init__(
        self,
        port: int,
        registry: Registry,
        max_workers: int,
        log_sink: LogSink | None,
        *,
        stacks: StackSet,
        log_store: LogStore,
        host: WorkerHost,
    ) -> None:
        self.host = host
        self.pump = LogPump()
        self.spawner = Spawner()
        self.reaper = Reaper()
        self.pools = Pools(max_workers, self._make_worker)
        self.invoker = Invoker(self.pools, log_sink=log_sink, log_recorder=log_store.record)
        try:
            self.server = ApiServer(port, registry, self.invoker, stacks=stacks, log_store=log_store)
        except OSError as err:
            self.pump.close()
            self.spawner.close()
            self.reaper.close()
            raise SandboxError(
                f"cannot listen on 127.0.0.1:{port} ({err.strerror}): choose another port, or 0 for any free one"
            ) from None

    @classmethod
    def start(
        cls,
        port: int,
        registry: Registry,
        max_workers: int,
        log_sink: LogSink | None,
        *,
        stacks: StackSet,
        log_store: LogStore,
        host: WorkerHost,
    ) -> _Running:
        running = cls(port, registry, max_workers, log_sink, stacks=stacks, log_store=log_store, host=host)
        running.server.start()
        return running

    def _make_worker(self, spec: FunctionVersion) -> Worker:
        return Worker(spec, spawner=self.spawner, pump=self.pump, host=self.host, reaper=self.reaper)

    def stop(self) -> None:
        # Stop taking requests first, then end the workers; the pump and the spawner go
        # last so a dying worker's invocation is still answered.
        self.server.stop()
        self.invoker.close()
        workers = self.pools.close()
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.kill(wait=True)
        self.pump.close()
        self.spawner.close()
        self.reaper.close()


def _stop_all() -> None:
    for sandbox in list(_RUNNING):
        sandbox.stop()


atexit.register(_stop_all)
