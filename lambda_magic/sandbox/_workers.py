"""Worker processes: each one an execution environment running ``python -m awslambdaric``.

A worker owns its process, its Runtime API endpoint and its log buffer. It runs one
invocation at a time and keeps the handler module loaded between invocations (warm), as a
Lambda execution environment does. An overrunning worker is killed: its module state is
lost and the next invocation starts cold.

Workers must not outlive the sandbox, even if the sandbox's process is killed: every child
asks the kernel for SIGKILL when its parent goes (``PR_SET_PDEATHSIG``). The kernel ties that
signal to the *thread* that forked the child, not the process, so all workers are forked
from one ``Spawner`` thread that lives as long as the sandbox runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from lambda_magic.sandbox._invocation import Invocation, exit_error, timeout_error
from lambda_magic.sandbox._logs import LogBuffer, LogPump
from lambda_magic.sandbox._reaper import Reaper
from lambda_magic.sandbox._registry import FunctionVersion
from lambda_magic.sandbox._runtime_api import RuntimeApi
from lambda_magic.sandbox._worker_env import WorkerHost, worker_command, worker_environment

__all__ = ["INIT_TIMEOUT", "Run", "Spawner", "Worker"]

#: awslambdaric's entry point with generator handlers streamed (see the script).
# Lambda gives the init phase (runtime start + handler module import) 10 seconds.
INIT_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1
# Resolved once in the parent: the forked child must call nothing that could take a lock.
_prctl: Callable[..., int] | None = None
if sys.platform.startswith("linux"):
    _prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent(parent_pid: int) -> None:
    """In the forked child: get SIGKILL when the parent dies, or die now if it already has."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


class Spawner:
    """The one thread that forks every worker of a sandbox (see the module docstring)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[dict[str, Any], Future[subprocess.Popen[bytes]]] | None]
        self._jobs = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lambda-sandbox-spawner", daemon=True)
        self._thread.start()

    def spawn(self, **popen_args: Any) -> subprocess.Popen[bytes]:
        """Start a process from the spawner thread and return it."""
        if self._closed:
            raise RuntimeError("the sandbox is stopping")
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((popen_args, future))
        return future.result()

    def close(self) -> None:
        """Stop the thread (after the workers are gone); later spawns fail."""
        self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout=2)
        while True:  # a spawn that slipped in after the sentinel must not wait forever
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[1].set_exception(RuntimeError("the sandbox is stopping"))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            popen_args, future = job
            try:
                preexec = functools.partial(_die_with_parent, os.getpid())
                future.set_result(subprocess.Popen(preexec_fn=preexec, **popen_args))
            except BaseException as exc:  # handed to the caller, who raises it
                future.set_exception(exc)


@dataclass
class Run:
    """What one invocation did inside a worker, for the log and the REPORT line."""

    init_output: bytes
    output: bytes
    duration_ms: float
    init_ms: float | None
    max_memory_mb: int
    timed_out: bool
    log_stream: str = ""  # the environment's CloudWatch stream, as Lambda names it


class Worker:
    """One execution environment for one function version (a ``RuntimeBackend``)."""

    def __init__(
        self, spec: FunctionVersion, *, spawner: Spawner, pump: LogPump, host: WorkerHost, reaper: Reaper
    ) -> None:
        self.spec = spec
        self.host = host
        self._reaper = reaper
        self._spawned = threading.Event()
        self.state = "starting"  # starting -> idle <-> busy -> dead
        self.invocations = 0
        self.init_ms: float | None = None
        self.max_memory_mb = 0
        self._ready = False
        self._init_output = b""  # what the runtime wrote before its first poll
        self._current: Invocation | None = None
        self._slot: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._api = RuntimeApi(self)
        self._api.start()
        self._spawned_at = time.perf_counter()
        self._exited = False
        self.proc, self.log = self._spawn(spawner)
        reaper.track(self.proc.pid)
        self._spawned.set()
        pump.watch(self.log)
        pump.watch_exit(self.proc.pid, self._on_exit)

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.proc.pid

    def _spawn(self, spawner: Spawner) -> tuple[subprocess.Popen[bytes], LogBuffer]:
        read_fd, write_fd = os.pipe()
        env = worker_environment(self.spec, self.host, self._api.address)
        self.log_stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        try:
            proc = spawner.spawn(
                args=worker_command(self.spec, self.host),
                cwd=self.spec.code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                # Own session: a Ctrl-C in the terminal or a kernel interrupt reaches the
                # sandbox's owner, not its workers; killpg() also ends the handler's children.
                start_new_session=True,
            )
        except BaseException:
            os.close(read_fd)
            self._api.close()
            raise
        finally:
            os.close(write_fd)
        return proc, LogBuffer(read_fd, self._on_exit)

    # -- RuntimeBackend: called from this worker's Runtime API threads --------------------

    def owner_pid(self) -> int | None:
        """The worker's process id, the only process its Runtime API serves."""
        return self.proc.pid if self._spawned.wait(INIT_TIMEOUT) else None

    def next_invocation(self) -> Invocation | None:
        """Hand the worker its next event, blocking until there is one."""
        if not self._ready:
            self._ready = True
            self.init_ms = (time.perf_counter() - self._spawned_at) * 1000
            # Taken before the event is handed over: what follows is the handler's output
            # (taken after, a fast handler's first lines were logged before START).
            self._init_output = self.log.take()
        invocation = self._slot.get()
        if invocation is not None:
            invocation.dispatch()
        return invocation

    def answer(self, request_id: str, body: bytes, *, is_error: bool) -> bool:
        """Record the runtime's answer to the running invocation."""
        invocation = self._current
        if invocation is None or invocation.request_id != request_id:
            return False
        invocation.finish(body, is_error=is_error)
        return True

    def chunk(self, request_id: str, body: bytes) -> bool:
        """Record one item the running invocation's generator handler produced."""
        invocation = self._current
        if invocation is None or invocation.request_id != request_id:
            return False
        return invocation.add_chunk(body)

    def init_failed(self, body: bytes) -> None:
        """The handler could not be loaded: the pending invocation gets the init error.

        The runtime exits next; the worker is dead already, so it never goes back to the
        idle pool and the next invocation starts (and fails) a fresh one, as on Lambda.
        """
        self.init_ms = (time.perf_counter() - self._spawned_at) * 1000
        with self._lock:
            self.state = "dead"
        invocation = self._current
        if invocation is not None:
            invocation.finish(body, is_error=True)

    # -- the owner's side ----------------------------------------------------------------

    def run(self, invocation: Invocation) -> Run:
        """Run ``invocation`` to its end: answered, timed out (worker killed) or died."""
        cold = not self._ready
        pending = b"" if cold else self.log.take()  # written after the previous answer
        with self._lock:
            dead = self.state == "dead"
            if not dead:
                self.state, self._current = "busy", invocation
        if dead:  # it died between invocations
            invocation.finish(exit_error(invocation.request_id, self.proc.poll()), is_error=True)
            return Run(b"", pending, 0.0, None, self.max_memory_mb, timed_out=False, log_stream=self.log_stream)
        self.invocations += 1
        self._slot.put(invocation)
        init_output = self._await_init(invocation) if cold else b""
        timed_out = self._await_answer(invocation)
        output = pending + self.log.take()
        self._current = None
        if self.state == "busy":
            self.state = "idle"
        started = invocation.dispatched_at or invocation.answered_at
        return Run(
            init_output=init_output,
            output=output,
            duration_ms=(invocation.answered_at - started) * 1000,
            init_ms=self.init_ms if cold else None,
            max_memory_mb=self.max_memory_mb,
            timed_out=timed_out,
            log_stream=self.log_stream,
        )

    def _await_init(self, invocation: Invocation) -> bytes:
        """Wait for the runtime's first poll; kill a worker whose init overruns."""
        if not invocation.dispatched.wait(INIT_TIMEOUT):
            body = timeout_error(invocation.request_id, INIT_TIMEOUT)
            if invocation.finish(body, is_error=True):
                self.init_ms = INIT_TIMEOUT * 1000
                self.kill()
        return self._init_output if self._ready else self.log.take()

    def _await_answer(self, invocation: Invocation) -> bool:
        """Wait for the answer until the function's timeout; True if it timed out."""
        elapsed = time.perf_counter() - invocation.dispatched_at if invocation.dispatched_at else 0
        if invocation.done.wait(max(0.0, invocation.timeout - elapsed)):
            self._read_memory()
            return False
        body = timeout_error(invocation.request_id, invocation.timeout)
        if not invocation.finish(body, is_error=True):
            return False  # the answer won the race
        self._read_memory()
        self.kill()
        return True

    def kill(self, *, wait: bool = False) -> None:
        """Kill the worker (and anything it started); idempotent."""
        with self._lock:
            self.state = "dead"
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._slot.put(None)  # frees a Runtime API thread blocked in next_invocation
        self._api.close()
        if wait:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
                self._reaper.forget(self.proc.pid)

    def _on_exit(self) -> None:
        """From the log pump, at exit or EOF: the process ended; fail what it was running."""
        with self._lock:
            if self._exited:
                return
            self._exited = True
            self.state = "dead"
            invocation = self._current
        # Its children may hold the pipe; the group is ended while the leader is not yet
        # reaped, so the group id cannot have been reused. One that closed its output but
        # lives on is unusable and ends with them.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        returncode = self.proc.wait()
        self._reaper.forget(self.proc.pid)
        if invocation is not None:
            invocation.finish(exit_error(invocation.request_id, returncode), is_error=True)
        self._slot.put(None)
        self._api.close()

    def _read_memory(self) -> None:
        """Peak resident memory (VmHWM) in MB, as Lambda's "Max Memory Used"."""
        try:
            with open(f"/proc/{self.proc.pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        kilobytes = int(line.split()[1])
                        self.max_memory_mb = max(self.max_memory_mb, -(-kilobytes // 1024))
                        return
        except (OSError, ValueError):
            pass  # gone already: keep the last reading

    def describe(self) -> dict[str, Any]:
        """The worker as plain data, for ``Sandbox.status()``."""
        return {
            "function": self.spec.name,
            "version": self.spec.version,
            "pid": self.pid,
            "state": self.state,
            "invocations": self.invocations,
            "init_ms": None if self.init_ms is None else round(self.init_ms, 2),
            "max_memory_mb": self.max_memory_mb,
        }
