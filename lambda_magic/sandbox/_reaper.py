"""The reaper: a tiny process that ends every worker's process group when the sandbox dies.

Workers get SIGKILL when the sandbox's process dies (``PR_SET_PDEATHSIG``), but what a
handler started (a subprocess, a server) is the worker's child, not the sandbox's, and the
kernel would hand it to PID 1. So the sandbox starts this script once, with
``python -I -S _reaper.py``, and tells it on a pipe which process groups exist (``+PGID``)
and which are gone (``-PGID``). When the pipe closes, because the sandbox stopped or was
killed (even with ``kill -9``: the kernel closes its descriptors), the reaper kills every
group it still knows and exits. It imports nothing outside the standard library.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from typing import IO

__all__ = ["Reaper", "main"]


class Reaper:
    """The sandbox's side: start the reaper process and tell it about process groups."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C aimed at the sandbox's owner must not stop it
        )
        assert self._proc.stdin is not None
        self._pipe: IO[bytes] = self._proc.stdin
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        """The reaper's process id."""
        return self._proc.pid

    def track(self, pgid: int) -> None:
        """Kill group ``pgid`` if the sandbox dies before ``forget(pgid)``."""
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        """Group ``pgid`` is gone (its leader reaped): its number may be reused."""
        self._send(f"-{pgid}\n")

    def close(self) -> None:
        """Close the pipe (the reaper kills what is left and exits) and wait for it."""
        with self._lock, contextlib.suppress(OSError):
            self._pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)

    def _send(self, line: str) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._pipe.write(line.encode())
            self._pipe.flush()


def main() -> None:
    """Read ``+PGID``/``-PGID`` lines until end of file, then kill the groups left."""
    groups: set[int] = set()
    for line in sys.stdin.buffer:
        text = line.strip().decode()
        if text[:1] == "+":
            groups.add(int(text[1:]))
        elif text[:1] == "-":
            groups.discard(int(text[1:]))
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)


if __name__ == "__main__":
    main()
