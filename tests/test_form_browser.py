"""The form in a real browser: JupyterLab on 127.0.0.1, headless Chromium driven by Playwright.

A notebook starts the sandbox, shows ``%lambda_form``, a fan-out and ``%lambda_history``;
the browser drives every part of the form as a user would (mouse and keyboard), in
JupyterLab's Light and Dark themes: invoking an alias, a function error, an unknown
function, Cancel and the kernel's Interrupt on a slow call, the keyboard (Tab to Advanced,
keys that must not reach the notebook, Ctrl+Enter), the summary line, the client context
cleared on a function change, Copy as magic, saved test events, a large payload, and
axe-core's accessibility rules (no serious or critical violation in the form, a response,
a fan-out summary and the history table).

Screenshots go to a temporary folder; ``LAMBDA_MAGIC_UPDATE_DOCS=1`` copies them to
``docs/``. Needs Debian's Chromium at /usr/bin/chromium and npm (axe-core is installed into
a cache folder); skipped where they are missing, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
STEP_TIMEOUT_MS = 30_000
AXE_VERSION = "4.14.1"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def _require(present: bool, what: str) -> None:
    """Skip when a system package is missing, but never under CI=true: fail there."""
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: this test must run)")
    pytest.skip(what)


NOTEBOOK_CELLS = [
    "import lambda_magic\n"
    "from lambda_magic.sandbox import Sandbox\n"
    "sb = Sandbox(port=0)\n"
    "sb.start()\n"
    "lambda_magic.session_settings().update(endpoint_url=sb.endpoint_url, region=sb.region)\n"
    "%load_ext lambda_magic",
    "%lambda_form -o f",
    '%%lambda_invoke echo --each --concurrency 4\n[{"i": 1}, {"i": 2}, {"i": 3}]',
    "%lambda_history",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_notebook(path: Path) -> None:
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell-{index}",
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for index, source in enumerate(NOTEBOOK_CELLS)
    ]
    notebook = {
        "cells": cells,
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    }
    path.write_text(json.dumps(notebook), encoding="utf-8")


def _lab_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "JUPYTER"))}
    env.update(
        {
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
            "XDG_CONFIG_HOME": str(home / "xdg"),
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
    )
    # No "receive Jupyter news?" toast, no "Select Kernel" dialog over the page.
    for plugin, setting in (
        ("apputils-extension/notification", '{"fetchNews": "false"}'),
        ("notebook-extension/tracker", '{"autoStartDefaultKernel": true}'),
    ):
        path = home / "lab-settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(setting, encoding="utf-8")
    return env


def _wait_until_up(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}; see its log above")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"JupyterLab did not answer {url} in time")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a free loopback port with a token: the demo notebook's URL, its folder."""
    _require(CHROMIUM.exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    _write_notebook(root / "form_demo.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={home / 'lab-settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--allow-root",
    ]
    env = _lab_env(home)
    log = (home / "lab.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/api/status?token={token}", process, time.monotonic() + 60)
        yield f"http://127.0.0.1:{port}/lab/tree/form_demo.ipynb?token={token}", root
    finally:
        _stop(process)
        log.close()
        sys.stdout.write((home / "lab.log").read_text(errors="replace")[-3000:])  # shown on failure


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server we started (by its PID), then kill it if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core's browser bundle, installed once with npm into a cache folder (not the repo)."""
    cache = Path(os.environ.get("LAMBDA_MAGIC_TEST_CACHE") or Path.home() / ".cache" / "lambda_magic-tests")
    bundle = cache / f"axe-core-{AXE_VERSION}" / "node_modules" / "axe-core" / "axe.min.js"
    if not bundle.is_file():
        npm = shutil.which("npm")
        _require(npm is not None, "npm is not installed (apt-get install npm); the axe-core check needs it")
        assert npm is not None
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(bundle.parents[2]),
                f"axe-core@{AXE_VERSION}",
                "--no-audit",
                "--no-fund",
                "--silent",
            ],
            check=True,
            timeout=300,
        )
    return bundle


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where screenshots go; copied to docs/ afterwards only with LAMBDA_MAGIC_UPDATE_DOCS=1."""
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    if os.environ.get("LAMBDA_MAGIC_UPDATE_DOCS") == "1":
        for shot in sorted(folder.glob("*.png")):
            shutil.copyfile(shot, DOCS / shot.name)


@pytest.fixture(scope="module")
def notebook(lab: tuple[str, Path]) -> Iterator[Any]:
    """A headless Chromium page with the demo notebook open and every cell run."""
    from playwright.sync_api import sync_playwright

    url, _root = lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=STEP_TIMEOUT_MS
        )
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 1700})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.split("/lab")[0])
            tab = context.new_page()
            tab.set_default_timeout(STEP_TIMEOUT_MS)
            tab.goto(url)
            _run_all_cells(tab)
            yield tab
        finally:
            browser.close()


_KERNEL_READY = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    const kernel = session && session.kernel;
    return Boolean(kernel && kernel.connectionStatus === "connected" && kernel.status === "idle");
}"""

_KERNEL_EVAL = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({ code, silent: false, store_history: false });
    let text = "";
    future.onIOPub = (msg) => {
        if (msg.header.msg_type === "stream") text += msg.content.text;
        if (msg.header.msg_type === "error") text += msg.content.ename + ": " + msg.content.evalue;
    };
    await future.done;
    return text;
}"""


def _run_all_cells(page: Any) -> None:
    """Run the notebook once its kernel is connected and idle; wait for every output."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
    page.wait_for_function(_KERNEL_READY, polling=200)
    # Not awaited: the command's promise settles only when every cell has run.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.locator(".lambda-magic-form").wait_for(state="visible")
    page.locator(".lm-many").wait_for(state="visible")
    page.locator("table.lm-hist").wait_for(state="visible")
    page.wait_for_function(_KERNEL_READY, polling=200)


def _settle_frames(page: Any) -> None:
    """Wait for two animation frames: the events already dispatched, and what they drew, are done."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _kernel(page: Any, code: str) -> str:
    """Run ``code`` in the notebook's kernel (once it is idle); what it printed."""
    page.wait_for_function(_KERNEL_READY, polling=100)
    return str(page.evaluate(_KERNEL_EVAL, code))


@pytest.fixture(params=sorted(THEMES))
def theme(request: pytest.FixtureRequest, notebook: Any) -> str:
    """JupyterLab's Light or Dark theme, applied to the page."""
    name: str = request.param
    notebook.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', { theme })", THEMES[name])
    light = "true" if name == "light" else "false"
    notebook.wait_for_selector(f'body[data-jp-theme-light="{light}"]', state="attached")
    notebook.wait_for_timeout(300)  # the theme's stylesheet applies after the attribute
    return name


@pytest.fixture
def form(notebook: Any) -> Any:
    """The form, with Advanced collapsed, a plain synchronous call, no saved event chosen and
    no copy box shown (whatever another test left)."""
    box = notebook.locator(".lambda-magic-form")
    _kernel(
        notebook,
        "c = f.controls\n"
        "c.advanced.value = False; c.invocation_type.value = 'RequestResponse'\n"
        "c.client_context.value = c.qualifier.value = c.event_name.value = c.saved_events.value = ''\n"
        "c.event_shared.value = False; f.hide_magic()",
    )
    return box


def _choose_function(form: Any, name: str) -> None:
    box = form.locator(".lm-function input")
    box.fill(name)
    box.press("Enter")
    form.locator(".lm-details").get_by_text("python3.11").wait_for()


def _set_payload(form: Any, text: str) -> None:
    box = form.locator(".lm-payload textarea")
    box.fill(text)
    box.blur()


def _invoke_and_wait(form: Any, text: str) -> Any:
    form.locator("button.lm-invoke").click()
    output = form.locator(".lm-output")
    output.get_by_text(text).first.wait_for()
    return output


def _open_advanced(form: Any) -> None:
    toggle = form.locator("button.lm-advanced")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    form.locator(".lm-qualifier input").wait_for(state="visible")


# --- invoking -----------------------------------------------------------------------------


def test_invoke_an_alias_from_the_browser(form: Any, theme: str, shots: Path) -> None:
    _choose_function(form, "health_check")
    _set_payload(form, '{"service": "web", "simulate": "degraded"}')
    _open_advanced(form)
    qualifier = form.locator(".lm-qualifier input")
    options = qualifier.evaluate("el => Array.from(el.list.options).map(o => o.value)")
    assert options == ["$LATEST", "1", "2", "prod"]
    qualifier.fill("prod")
    qualifier.press("Enter")
    form.locator(".lm-summary").get_by_text("prod").wait_for()
    output = _invoke_and_wait(form, "health_check:prod")
    text = output.inner_text()
    assert "200 OK" in text and "version 1" in text and '"status": "degraded"' in text
    expect(form.locator("button.lm-invoke")).to_be_enabled()
    form.screenshot(path=str(shots / f"form-success-{theme}.png"))


def test_function_error_from_the_browser(form: Any, theme: str, shots: Path) -> None:
    _choose_function(form, "fail")
    _set_payload(form, '{"mode": "raise", "message": "disk full on /var"}')
    output = _invoke_and_wait(form, "Unhandled function error")
    expect(output).to_contain_text("ValueError: disk full on /var")  # waits: the output may still be drawing
    expect(form.locator("button.lm-invoke")).to_be_enabled()
    form.screenshot(path=str(shots / f"form-error-{theme}.png"))


def test_invoke_error_is_one_line_in_the_output(form: Any) -> None:
    box = form.locator(".lm-function input")
    box.fill("no_such_function")
    box.press("Enter")
    form.locator(".lm-details").get_by_text("not found").wait_for()
    output = _invoke_and_wait(form, "no_such_function not found in us-east-1")
    assert output.inner_text().strip().count("\n") == 0
    expect(form.locator("button.lm-invoke")).to_be_enabled()
    assert form.locator(".lm-elapsed").inner_text().startswith("failed after")


def test_running_call_disables_invoke_and_counts_seconds(form: Any) -> None:
    _choose_function(form, "sleep")
    _set_payload(form, '{"seconds": 1.6}')
    button = form.locator("button.lm-invoke")
    button.click()
    # The label is updated from a helper thread while the kernel waits for the answer.
    form.locator(".lm-elapsed").get_by_text(re.compile(r"running… 1\.\d s")).wait_for()
    assert button.is_disabled()
    form.locator(".lm-elapsed").get_by_text(re.compile(r"^200 in \d+ ms$")).wait_for()
    expect(button).to_be_enabled()


# --- stopping a call: Cancel and the kernel's Interrupt ----------------------------------------


def _stop_a_slow_call(notebook: Any, form: Any, stop: Any) -> str:
    """Start a 2.8 s call, stop it once it runs; the form's elapsed label afterwards."""
    _choose_function(form, "sleep")
    _set_payload(form, '{"seconds": 2.8}')
    form.locator("button.lm-invoke").click()
    form.locator(".lm-elapsed").get_by_text(re.compile(r"running… 0\.[3-9] s")).wait_for()
    stopped = time.monotonic()
    stop()
    form.locator(".lm-output").get_by_text("interrupted while invoking sleep").wait_for()
    print(f"stopped {time.monotonic() - stopped:.2f} s after the click, seen in the browser")  # a figure, not a test
    label = form.locator(".lm-elapsed")
    label.get_by_text(re.compile(r"^failed after")).wait_for()
    assert "may still be running in Lambda" in form.locator(".lm-output").inner_text()
    expect(form.locator("button.lm-invoke")).to_be_enabled()
    expect(form.locator("button.lm-cancel")).to_be_hidden()
    entry = _kernel(notebook, "e = lambda_magic.history[-1]; print(e.origin, type(e.error).__name__)")
    assert entry.split() == ["form", "InterruptedInvocationError"]
    return str(label.inner_text())


def test_cancel_stops_a_slow_call(notebook: Any, form: Any) -> None:
    cancel = form.locator("button.lm-cancel")
    label = _stop_a_slow_call(notebook, form, cancel.click)
    print(f"Cancel: {label} (the call would have run 2.8 s)")  # the figure for the report


def test_kernel_interrupt_stops_a_form_call(notebook: Any, form: Any) -> None:
    def interrupt() -> None:
        notebook.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")

    label = _stop_a_slow_call(notebook, form, interrupt)
    print(f"Interrupt: {label} (the call would have run 2.8 s)")


# --- keyboard -----------------------------------------------------------------------------


def _cell_count(page: Any) -> int:
    return int(page.locator(".jp-Notebook .jp-Cell").count())


def _active_cell(page: Any) -> int:
    return int(page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"))


def test_tab_reaches_advanced_and_it_is_a_disclosure(form: Any) -> None:
    toggle = form.locator("button.lm-advanced")
    form.locator(".lm-payload textarea").focus()
    for _ in range(12):  # Tab from the payload reaches the toggle (no trap, no skip)
        form.page.keyboard.press("Tab")
        if toggle.evaluate("el => el === document.activeElement"):
            break
    assert toggle.evaluate("el => el === document.activeElement")
    assert toggle.get_attribute("aria-expanded") == "false"
    panel_id = toggle.get_attribute("aria-controls")
    form.page.keyboard.press("Enter")
    form.locator(".lm-qualifier input").wait_for(state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert form.locator(f"#{panel_id}").is_visible()
    form.page.keyboard.press("Space")
    form.locator(".lm-qualifier input").wait_for(state="hidden")
    assert toggle.get_attribute("aria-expanded") == "false"


def test_keys_in_the_form_never_reach_the_notebook(notebook: Any, form: Any) -> None:
    form.locator("button.lm-format").focus()  # focus in a cell makes it the active one
    cells, active = _cell_count(notebook), _active_cell(notebook)
    for key in ("b", "a", "d", "x", "ArrowDown", "ArrowUp", "j", "k"):
        notebook.keyboard.press(key)
    form.locator(".lm-template select").focus()
    notebook.keyboard.press("ArrowDown")
    notebook.keyboard.press("ArrowUp")
    _settle_frames(notebook)  # every key's handlers, and the renders they caused, have run
    assert (_cell_count(notebook), _active_cell(notebook)) == (cells, active)


def test_ctrl_enter_in_the_payload_invokes(form: Any) -> None:
    _choose_function(form, "echo")
    box = form.locator(".lm-payload textarea")
    box.fill('{"sent": "with ctrl+enter"}')
    box.press("Control+Enter")  # no blur: the bridge sends the payload first
    output = form.locator(".lm-output")
    output.get_by_text("with ctrl+enter").first.wait_for()
    assert box.input_value() == '{"sent": "with ctrl+enter"}'  # no newline typed


# --- what will happen --------------------------------------------------------------------------


def test_summary_says_what_hidden_settings_do(notebook: Any, form: Any) -> None:
    _choose_function(form, "echo")
    summary = form.locator(".lm-summary")
    assert summary.inner_text().strip() == ""
    _open_advanced(form)
    form.locator(".lm-invocation-type").get_by_text("Event", exact=True).click()
    form.locator(".lm-client-context textarea").fill('{"custom": {"k": "v"}}')
    form.locator(".lm-client-context textarea").blur()
    form.locator("button.lm-advanced").click()  # collapse: the summary still tells
    summary.get_by_text("Event · client context set").wait_for()
    _choose_function(form, "health_check")
    summary.get_by_text("client context cleared (it was set for echo)").wait_for()
    assert "client context set" not in summary.inner_text()


# --- copy as magic -----------------------------------------------------------------------------


def test_copy_as_magic_writes_the_clipboard(notebook: Any, form: Any) -> None:
    _choose_function(form, "echo")
    _set_payload(form, '{"copy": true}')
    form.locator("button.lm-copy").click()
    form.locator(".lm-elapsed").get_by_text("copied to the clipboard").wait_for()
    assert notebook.evaluate("() => navigator.clipboard.readText()") == '%%lambda_invoke echo\n{"copy": true}'
    assert not form.locator(".lm-magic textarea").is_visible()  # the box is only the fallback


def test_copy_as_magic_falls_back_to_a_box_that_toggles(notebook: Any, form: Any) -> None:
    _choose_function(form, "echo")
    _set_payload(form, '{"copy": "refused"}')
    notebook.evaluate(
        "() => { window.__lmClipboard = navigator.clipboard.writeText;"
        " navigator.clipboard.writeText = () => Promise.reject(new Error('denied')); }"
    )
    try:
        magic = form.locator(".lm-magic textarea")
        magic.wait_for(state="hidden")  # the fixture hid it: wait until the page shows that
        form.locator("button.lm-copy").click()
        magic.wait_for(state="visible")
        assert magic.input_value() == '%%lambda_invoke echo\n{"copy": "refused"}'
        assert "clipboard refused" in form.locator(".lm-elapsed").inner_text()
        form.locator("button.lm-copy").click()
        magic.wait_for(state="hidden")
    finally:
        notebook.evaluate("() => { navigator.clipboard.writeText = window.__lmClipboard; }")


# --- saved test events ---------------------------------------------------------------------------


def test_saved_event_from_the_browser(notebook: Any, form: Any, lab: tuple[str, Path]) -> None:
    _choose_function(form, "echo")
    _set_payload(form, '{"saved": "in the browser"}')
    form.locator(".lm-event-name input").fill("browser-event")
    form.locator(".lm-event-shared input").check()
    form.locator("button.lm-save-event").click()
    form.locator(".lm-events-status").get_by_text("saved browser-event (shared) for echo").wait_for()
    shown = _kernel(
        notebook,
        "import boto3, json\n"
        "c = boto3.client('schemas', endpoint_url=sb.endpoint_url, region_name=sb.region)\n"
        "d = json.loads(c.describe_schema(RegistryName='lambda-testevent-schemas', "
        "SchemaName='_echo-schema')['Content'])\n"
        "print(json.dumps(d['components']['examples']['browser-event']['value']))",
    )
    assert json.loads(shown) == {"saved": "in the browser"}
    sent = _kernel(
        notebook, "%lambda_invoke echo --event browser-event -o r --quiet\nprint(json.dumps(r.payload['event']))"
    )
    assert json.loads(sent) == {"saved": "in the browser"}
    _set_payload(form, "{}")
    events = form.locator(".lm-saved-events select")
    events.select_option(index=0)
    events.select_option(label="browser-event (shared)")
    notebook.wait_for_function("() => document.querySelector('.lm-payload textarea').value.includes('browser')")
    form.locator("button.lm-delete-event").click()
    form.locator(".lm-events-status").get_by_text("deleted browser-event (shared)").wait_for()


# --- large payloads ------------------------------------------------------------------------------


def test_typing_sends_the_payload_debounced(notebook: Any, form: Any) -> None:
    _choose_function(form, "echo")
    _set_payload(form, "")
    before = int(_kernel(notebook, "print(f.controls.bridge.checked)"))
    box = form.locator(".lm-payload textarea")
    box.press_sequentially('{"typed": "one key at a time"}', delay=15)
    form.locator(".lm-payload-status").get_by_text("not valid JSON").wait_for(state="detached")
    deadline = time.monotonic() + 10  # until the debounced last edit reaches the kernel
    while True:
        after = _kernel(notebook, "print(f.controls.bridge.checked, f.controls.payload.value)")
        checks, text = after.split(" ", 1)
        if text.strip() == '{"typed": "one key at a time"}' or time.monotonic() > deadline:
            break
    assert text.strip() == '{"typed": "one key at a time"}'
    assert int(checks) - before <= 3  # 31 keystrokes, not 31 checks


def test_large_payload_is_checked_on_blur_with_a_hint(notebook: Any, form: Any) -> None:
    _choose_function(form, "echo")
    big = json.dumps({"rows": ["x" * 100] * 3000})  # ~300 KB
    box = form.locator(".lm-payload textarea")
    box.fill(big)
    box.blur()
    form.locator(".lm-payload-status").get_by_text("large payload").wait_for()
    assert "$name" in form.locator(".lm-payload-status").inner_text()
    assert int(_kernel(notebook, "print(len(f.controls.payload.value))")) == len(big)
    _set_payload(form, "{}")


# --- accessibility ---------------------------------------------------------------------------------

_AXE_RUN = """async (selector) => {
    const results = await axe.run(document.querySelectorAll(selector), { resultTypes: ["violations"] });
    return results.violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + " (" + v.impact + "): " + v.help + " -- "
                  + v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + n.failureSummary).join(" | "));
}"""

_AXE_TARGETS = {
    "form": ".lambda-magic-form",
    "response display": ".lambda-magic-form .lm-output .lm-resp",
    "fan-out summary": ".lm-many",
    "history table": "table.lm-hist",
}


def test_no_serious_accessibility_violations(notebook: Any, form: Any, theme: str, axe_script: Path) -> None:
    _choose_function(form, "health_check")
    _set_payload(form, '{"service": "web"}')
    _open_advanced(form)  # every control visible
    _invoke_and_wait(form, "200 OK")
    if not notebook.evaluate("() => typeof window.axe !== 'undefined'"):
        notebook.add_script_tag(path=str(axe_script))
    found = {}
    for name, selector in _AXE_TARGETS.items():
        assert notebook.locator(selector).count() > 0, f"no {name} on the page"
        found[name] = notebook.evaluate(_AXE_RUN, selector)
    assert found == {name: [] for name in _AXE_TARGETS}, f"axe-core in the {theme} theme"
