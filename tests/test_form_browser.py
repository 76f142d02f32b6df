"""The form in a real browser: JupyterLab on 127.0.0.1, headless Chromium driven by Playwright.

A notebook starts the sandbox and shows ``%lambda_form``; the browser chooses a function,
edits the payload, picks an alias under Advanced, clicks Invoke and reads the rendered
response, then does the same for a function that fails. Screenshots go to
``docs/form-success.png`` and ``docs/form-error.png``.

Needs Debian's Chromium at /usr/bin/chromium (Playwright's own browser download is not
used); skipped where it is not installed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[1] / "docs"
REPO = Path(__file__).resolve().parents[1]
STEP_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                                "(apt-get install chromium); the browser test needs it")

NOTEBOOK_CELLS = [
    "import lambda_magic\n"
    "from lambda_magic.sandbox import Sandbox\n"
    "sb = Sandbox(port=0)\n"
    "sb.start()\n"
    "lambda_magic.session_settings().update(endpoint_url=sb.endpoint_url, region=sb.region)\n"
    "%load_ext lambda_magic",
    "%lambda_form -o f",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_notebook(path: Path) -> None:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"cell-{index}", "metadata": {},
              "outputs": [], "source": source} for index, source in enumerate(NOTEBOOK_CELLS)]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def _lab_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "JUPYTER"))}
    env.update({
        "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"), "XDG_CONFIG_HOME": str(home / "xdg"),
        "AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    })
    # No "receive Jupyter news?" toast, no "Select Kernel" dialog over the page.
    for plugin, setting in (("apputils-extension/notification", '{"fetchNews": "false"}'),
                            ("notebook-extension/tracker", '{"autoStartDefaultKernel": true}')):
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
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on a free loopback port with a token; the URL of the demo notebook."""
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    _write_notebook(root / "form_demo.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={home / 'lab-settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}", "--LabApp.expose_app_in_browser=True",
        "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--allow-root",
    ]
    env = _lab_env(home)
    log = (home / "lab.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/api/status?token={token}", process,
                       time.monotonic() + 60)
        yield f"http://127.0.0.1:{port}/lab/tree/form_demo.ipynb?token={token}"
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
def page(lab: str) -> Iterator[Any]:
    """A headless Chromium page with the demo notebook open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True, timeout=STEP_TIMEOUT_MS)
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 1600})
            tab.set_default_timeout(STEP_TIMEOUT_MS)
            tab.goto(lab)
            yield tab
        finally:
            browser.close()


_KERNEL_READY = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    const kernel = session && session.kernel;
    return Boolean(kernel && kernel.connectionStatus === "connected" && kernel.status === "idle");
}"""


def _run_all_cells(page: Any) -> Any:
    """Run the notebook once its kernel is connected and idle; the form's box."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
    page.wait_for_function(_KERNEL_READY, polling=200)
    # Not awaited: the command's promise settles only when every cell has run.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    form = page.locator(".lambda-magic-form")
    form.wait_for(state="visible")
    return form


def _choose_function(page: Any, form: Any, name: str) -> None:
    box = form.locator(".lm-function input")
    box.fill(name)
    box.press("Enter")
    page.wait_for_timeout(100)
    form.locator(".lm-details").get_by_text("python3.11").wait_for()


def _set_payload(form: Any, text: str) -> None:
    form.locator(".lm-payload textarea").fill(text)


def _invoke_and_wait(form: Any, text: str) -> Any:
    button = form.locator("button.lm-invoke")
    button.click()
    output = form.locator(".lm-output")
    output.get_by_text(text).first.wait_for()
    return output


def test_invoke_an_alias_from_the_browser(page: Any) -> None:
    form = _run_all_cells(page)
    _choose_function(page, form, "health_check")
    _set_payload(form, '{"service": "web", "simulate": "degraded"}')
    form.get_by_text("Advanced").click()
    qualifier = form.locator(".lm-qualifier input")
    qualifier.wait_for(state="visible")
    options = qualifier.evaluate("el => Array.from(el.list.options).map(o => o.value)")
    assert options == ["$LATEST", "1", "2", "prod"]
    qualifier.fill("prod")
    qualifier.press("Enter")
    output = _invoke_and_wait(form, "health_check:prod")
    text = output.inner_text()
    assert "200 OK" in text and "version 1" in text and '"status": "degraded"' in text
    assert form.locator("button.lm-invoke").is_enabled()
    form.locator("button.lm-copy").click()
    magic = form.locator(".lm-magic textarea")
    magic.wait_for(state="visible")
    assert magic.input_value() == (
        '%%lambda_invoke health_check -q prod\n{"service": "web", "simulate": "degraded"}')
    DOCS.mkdir(exist_ok=True)
    form.screenshot(path=str(DOCS / "form-success.png"))


def test_running_call_disables_invoke_and_counts_seconds(page: Any) -> None:
    form = page.locator(".lambda-magic-form")
    _choose_function(page, form, "sleep")
    _set_payload(form, '{"seconds": 1.6}')
    button = form.locator("button.lm-invoke")
    button.click()
    # The label is updated from a helper thread while the kernel waits for the answer.
    form.locator(".lm-elapsed").get_by_text(re.compile(r"running… 1\.\d s")).wait_for()
    assert button.is_disabled()
    form.locator(".lm-elapsed").get_by_text(re.compile(r"^200 in \d+ ms$")).wait_for()
    assert button.is_enabled()


def test_invoke_error_is_one_line_in_the_output(page: Any) -> None:
    form = page.locator(".lambda-magic-form")
    box = form.locator(".lm-function input")
    box.fill("no_such_function")
    box.press("Enter")
    form.locator(".lm-details").get_by_text("not found").wait_for()
    output = _invoke_and_wait(form, "no_such_function not found in us-east-1")
    assert output.inner_text().strip().count("\n") == 0
    assert form.locator("button.lm-invoke").is_enabled()
    assert form.locator(".lm-elapsed").inner_text().startswith("failed after")


def test_function_error_from_the_browser(page: Any) -> None:
    form = page.locator(".lambda-magic-form")
    form.get_by_text("Advanced").click()  # collapse it again
    _choose_function(page, form, "fail")
    assert form.locator(".lm-qualifier input").input_value() == ""  # fail has no alias prod
    _set_payload(form, '{"mode": "raise", "message": "disk full on /var"}')
    output = _invoke_and_wait(form, "Unhandled function error")
    assert "ValueError: disk full on /var" in output.inner_text()
    assert form.locator("button.lm-invoke").is_enabled()
    form.screenshot(path=str(DOCS / "form-error.png"))
