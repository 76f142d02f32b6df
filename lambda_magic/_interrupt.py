"""The kernel's Interrupt for calls that do not run on the kernel's main thread.

A cell runs on the kernel's main thread, where the kernel's Interrupt (SIGINT) raises
``KeyboardInterrupt`` in the middle of the call. JupyterLab 4.4+ sends widget messages to a
kernel *subshell* (``commsOverSubshells``, one thread per comm target, ipykernel 7), so a
form's Invoke runs on another thread; the main thread sits idle with SIGINT ignored, and the
Interrupt did nothing: the call ran to its end (measured in JupyterLab 4.6 with
ipykernel 7.4). ``interrupt_event()`` gives such a call an ``Event`` that the Interrupt sets:
it asks the kernel's main event loop (the only thread allowed to) to install a SIGINT
handler for the duration, and restores the previous one after. On the main thread nothing
is installed: ``KeyboardInterrupt`` arrives there as it always did.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["interrupt_event"]

#: How long to wait for the main loop to install the handler (it is idle, so ~1 ms).
_INSTALL_TIMEOUT = 1.0


@contextmanager
def interrupt_event(kernel: Any = None) -> Iterator[threading.Event]:
    """An Event the kernel's Interrupt sets while the block runs (see the module's doc)."""
    cancel = threading.Event()
    loop = _main_loop(kernel)
    if threading.current_thread() is threading.main_thread() or loop is None:
        yield cancel
        return
    previous: list[Any] = []
    installed = threading.Event()

    def on_sigint(_signum: int, _frame: Any) -> None:
        cancel.set()

    def install() -> None:
        previous.append(signal.signal(signal.SIGINT, on_sigint))
        installed.set()

    def restore() -> None:
        if previous and signal.getsignal(signal.SIGINT) is on_sigint:
            signal.signal(signal.SIGINT, previous[0])

    loop.add_callback(install)
    # The main thread is idle while widgets are handled on a subshell; if a cell keeps it
    # busy, the handler comes after that cell (the Interrupt then stops the cell, as usual).
    installed.wait(_INSTALL_TIMEOUT)
    try:
        yield cancel
    finally:
        loop.add_callback(restore)


def _main_loop(kernel: Any) -> Any:
    """The kernel's main-thread event loop (tornado's ``IOLoop``), or None outside a kernel."""
    if kernel is None:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
    return getattr(kernel, "io_loop", None)
