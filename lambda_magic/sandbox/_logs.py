"""Worker output: one thread reads every worker's pipe; Lambda's log lines and tail.

Each worker's stdout and stderr share one pipe (Lambda interleaves them too). A single
``LogPump`` thread keeps the pipes drained so a chatty handler never blocks on a full pipe.
When an invocation's answer arrives, everything the handler wrote before answering is
already in the pipe, so ``LogBuffer.take()`` drains the rest itself under the buffer's lock:
the invocation's output is complete without waiting for the pump.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
import selectors
import threading
from collections.abc import Callable

__all__ = [
    "LOG_TAIL_BYTES",
    "LogBuffer",
    "LogPump",
    "PlatformLog",
    "end_line",
    "report_line",
    "start_line",
    "tail_b64",
]

LOG_TAIL_BYTES = 4096
# Keep at most this much unread output per worker; only the tail is ever shown.
_KEEP_BYTES = 256 * 1024
_READ_SIZE = 65536


class LogBuffer:
    """The unread output of one worker, filled by the pump or by ``take()``."""

    def __init__(self, fd: int, on_eof: Callable[[], None]) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self._on_eof = on_eof
        self._data = bytearray()
        self._lock = threading.Lock()
        self._eof = False

    def pump(self) -> bool:
        """Read what the pipe holds; False once the worker closed it (it exited)."""
        with self._lock:
            self._drain()
            eof = self._eof
        if eof:
            self._on_eof()
        return not eof

    def take(self) -> bytes:
        """Everything written so far and not yet taken."""
        with self._lock:
            self._drain()
            data = bytes(self._data)
            self._data.clear()
        return data

    def close(self) -> None:
        """Close the pipe; later ``take()`` calls return what was already read."""
        with self._lock:
            if self.fd >= 0:
                self._drain()
                self._eof = True
                os.close(self.fd)
                self.fd = -1

    def _drain(self) -> None:
        while not self._eof:
            try:
                chunk = os.read(self.fd, _READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
                return
            self._data += chunk
            if len(self._data) > _KEEP_BYTES:
                del self._data[:-_KEEP_BYTES]


class _ExitWatch:
    """A process's pidfd in the pump's selector: readable once the process has exited."""

    def __init__(self, fd: int, on_exit: Callable[[], None]) -> None:
        self.fd = fd
        self.on_exit = on_exit


class LogPump:
    """One daemon thread that keeps every watched worker pipe drained.

    It also watches each worker's process (a pidfd): a worker whose child still holds its
    output pipe has exited all the same, and must be reported at once, not when the pipe
    finally closes.
    """

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: list[LogBuffer] = []
        self._pending_exits: list[_ExitWatch] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lambda-sandbox-logs", daemon=True)
        self._thread.start()

    def watch(self, buffer: LogBuffer) -> None:
        """Start draining ``buffer``'s pipe; its ``on_eof`` runs when the worker exits."""
        with self._lock:
            self._pending.append(buffer)
        os.write(self._wake_w, b"w")

    def watch_exit(self, pid: int, on_exit: Callable[[], None]) -> None:
        """Call ``on_exit`` (from the pump's thread) when process ``pid`` exits."""
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            on_exit()  # gone already
            return
        except (AttributeError, OSError):
            return  # no pidfd (Linux < 5.3): the pipe's end-of-file still tells
        with self._lock:
            self._pending_exits.append(_ExitWatch(fd, on_exit))
        os.write(self._wake_w, b"w")

    def close(self) -> None:
        """Stop the thread and close the pipes still watched (they get no ``on_eof``)."""
        with self._lock:
            self._closed = True
        os.write(self._wake_w, b"c")
        self._thread.join(timeout=2)
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, _ExitWatch):
                os.close(key.fd)
            elif key.data is not None:
                key.data.close()
        for buffer in self._pending:
            buffer.close()
        for watch in self._pending_exits:
            os.close(watch.fd)
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.data is None:
                    os.read(self._wake_r, 4096)
                elif isinstance(key.data, _ExitWatch):
                    self._selector.unregister(key.fd)
                    os.close(key.fd)
                    key.data.on_exit()
                elif not key.data.pump():
                    # Unregister before closing: a reused descriptor number must never be
                    # read as this worker's output.
                    self._selector.unregister(key.fd)
                    key.data.close()
            with self._lock:
                if self._closed:
                    return
                pending, self._pending = self._pending, []
                exits, self._pending_exits = self._pending_exits, []
            for buffer in pending:
                self._selector.register(buffer.fd, selectors.EVENT_READ, buffer)
            for watch in exits:
                self._selector.register(watch.fd, selectors.EVENT_READ, watch)


def start_line(request_id: str, version: str) -> bytes:
    """Lambda's first log line of an invocation."""
    return f"START RequestId: {request_id} Version: {version}\n".encode()


def end_line(request_id: str) -> bytes:
    """Lambda's line after the handler finished."""
    return f"END RequestId: {request_id}\n".encode()


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
) -> bytes:
    """Lambda's REPORT line; ``Init Duration`` only after a cold start."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        f"\tBilled Duration: {max(1, math.ceil(duration_ms))} ms"
        f"\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB"
    )
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    return (line + "\n").encode()


class PlatformLog:
    """Lambda's own lines for a function's LoggingConfig: text, or JSON records.

    In JSON format Lambda writes ``platform.start`` and ``platform.report`` records instead of
    START/END/REPORT lines, at INFO level: a ``SystemLogLevel`` of WARN or above drops them.
    """

    def __init__(self, log_format: str = "Text", system_level: str | None = None) -> None:
        self.json = log_format == "JSON"
        self.quiet = self.json and (system_level or "INFO") in ("WARN", "ERROR", "FATAL")

    def start(self, request_id: str, version: str) -> bytes:
        """The first line of an invocation."""
        if not self.json:
            return start_line(request_id, version)
        return self._record("platform.start", {"requestId": request_id, "version": version})

    def end(self, request_id: str) -> bytes:
        """The line after the handler finished (none in JSON format)."""
        return b"" if self.json else end_line(request_id)

    def report(
        self,
        request_id: str,
        *,
        duration_ms: float,
        memory_mb: int,
        max_memory_mb: int,
        init_ms: float | None,
        status: str = "success",
    ) -> bytes:
        """The REPORT line, or the ``platform.report`` record."""
        if not self.json:
            return report_line(
                request_id, duration_ms=duration_ms, memory_mb=memory_mb, max_memory_mb=max_memory_mb, init_ms=init_ms
            )
        metrics: dict[str, float] = {
            "durationMs": round(duration_ms, 2),
            "billedDurationMs": max(1, math.ceil(duration_ms)),
            "memorySizeMB": memory_mb,
            "maxMemoryUsedMB": max_memory_mb,
        }
        if init_ms is not None:
            metrics["initDurationMs"] = round(init_ms, 2)
        return self._record("platform.report", {"requestId": request_id, "metrics": metrics, "status": status})

    def _record(self, kind: str, record: dict[str, object]) -> bytes:
        if self.quiet:
            return b""
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        line = {"time": now.replace("+00:00", "Z"), "type": kind, "record": record}
        return (json.dumps(line) + "\n").encode()


def tail_b64(log: bytes) -> str:
    """``X-Amz-Log-Result``: base64 of the last 4 KB of the log."""
    return base64.b64encode(log[-LOG_TAIL_BYTES:]).decode("ascii")
