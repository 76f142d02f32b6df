"""The kernel's Interrupt for a form call that runs off the main thread, as in JupyterLab
4.4+ (widget messages go to a kernel subshell thread). The kernel's main thread runs an
event loop, as ipykernel's does; the form's call runs on another thread; SIGINT goes to the
process, as the Interrupt button sends it."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from lambda_magic import InterruptedInvocationError, history, session_settings
from lambda_magic._form import LambdaForm, form
from lambda_magic._interrupt import interrupt_event


class _Kernel:
    """What ipykernel's Kernel offers the form: ``io_loop.add_callback`` (thread-safe)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.io_loop = SimpleNamespace(add_callback=loop.call_soon_threadsafe)


def _on_a_subshell(work: Any, *, interrupt_after: float | None) -> Any:
    """Run ``work(kernel)`` on another thread while this (main) thread runs the kernel's loop;
    SIGINT to the process after ``interrupt_after`` seconds. ``work``'s result."""
    loop = asyncio.new_event_loop()
    try:
        kernel = _Kernel(loop)
        if interrupt_after is not None:
            loop.call_later(interrupt_after, os.kill, os.getpid(), signal.SIGINT)
        return loop.run_until_complete(asyncio.wait_for(loop.run_in_executor(None, work, kernel), 30))
    finally:
        loop.close()


@pytest.fixture
def sleep_form(aws_env: None, demo_sandbox: Any) -> LambdaForm:
    session_settings().update(endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region)
    return form("sleep", payload='{"seconds": 2.5}', namespace={})


def test_interrupt_stops_a_form_call_on_a_subshell_thread(sleep_form: LambdaForm, monkeypatch: Any) -> None:
    import lambda_magic._interrupt as interrupt

    before = signal.getsignal(signal.SIGINT)

    def click(kernel: Any) -> Any:
        monkeypatch.setattr(interrupt, "_main_loop", lambda _kernel: kernel.io_loop)
        assert threading.current_thread() is not threading.main_thread()
        return sleep_form.invoke()

    assert _on_a_subshell(click, interrupt_after=0.5) is None  # the sleep would answer after 2.5 s
    assert isinstance(sleep_form.error, InterruptedInvocationError)
    assert str(sleep_form.error).startswith("interrupted while invoking sleep: the invocation may still be")
    assert history[-1].origin == "form" and str(history[-1].error) == str(sleep_form.error)
    assert len([entry for entry in history if entry.function == "sleep"]) == 1  # the late answer is dropped
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_without_an_interrupt_the_subshell_call_answers(sleep_form: LambdaForm, monkeypatch: Any) -> None:
    import lambda_magic._interrupt as interrupt

    sleep_form.controls.payload.value = '{"seconds": 0.2}'

    def click(kernel: Any) -> Any:
        monkeypatch.setattr(interrupt, "_main_loop", lambda _kernel: kernel.io_loop)
        return sleep_form.invoke()

    response = _on_a_subshell(click, interrupt_after=None)
    assert response is not None and response.payload["slept"] == 0.2


def test_the_handler_is_installed_only_off_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGINT)
    loop = asyncio.new_event_loop()
    try:
        with interrupt_event(_Kernel(loop)) as cancel:  # on the main thread: nothing to install
            assert signal.getsignal(signal.SIGINT) is before
            assert not cancel.is_set()
    finally:
        loop.close()


def test_outside_a_kernel_there_is_no_loop_to_ask() -> None:
    seen: list[bool] = []

    def off_main() -> None:
        with interrupt_event(SimpleNamespace()) as cancel:
            seen.append(cancel.is_set())

    thread = threading.Thread(target=off_main)
    thread.start()
    thread.join(5)
    assert seen == [False]
