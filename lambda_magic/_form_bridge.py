"""The form's browser side: keys, the Advanced disclosure, the clipboard and Cancel.

Plain ipywidgets cannot hold a key inside the form, set ``aria-expanded``, write to the
clipboard or act while the kernel is busy, so one small anywidget does these in the browser
for the whole form (it finds the form's element from its own and listens there):

- keys typed in the form stop at the form, so JupyterLab's notebook shortcuts ("b", arrows,
  Ctrl+Enter) never see them; Ctrl/Cmd+Enter clicks Invoke instead (after sending the payload);
- the payload goes to the kernel debounced (``debounce_ms`` after the last keystroke), never
  while the kernel's previous check is unanswered (``checked`` counts the answers); above
  ``large_payload`` characters only when the box loses focus;
- the Advanced toggle carries ``aria-expanded`` and ``aria-controls``;
- "Copy as magic" writes the cell to the clipboard in the click itself (browsers allow it
  only there) and tells the kernel whether it could; the kernel sends only the magic's first
  line (``magic_head``), the payload is read from the box, so a large payload is not sent twice;
- rendering tells the kernel the form is shown ("shown"): only then does it list the
  functions, so building a form sends no request;
- Cancel interrupts the kernel through the Jupyter server's REST API (the toolbar's own
  request). While a call runs, the thread that handles widget messages (the kernel's main
  thread, or in JupyterLab 4.4+ the widgets' subshell) is busy in it and reads no further
  widget message, so a Python click handler could never run; the interrupt stops the call
  as it stops a ``%%lambda_invoke`` cell (``_interrupt`` catches it for a subshell).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

__all__ = ["FormBridge"]

_ESM = r"""
function xsrf() {
  const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function pageConfig() {
  const node = document.getElementById("jupyter-config-data");
  try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
}

async function interruptKernel(kernelId) {
  // Same request as the toolbar's Interrupt button.
  const config = pageConfig();
  const base = (config.baseUrl || "/").replace(/\/?$/, "/");
  const headers = { "X-XSRFToken": xsrf() };
  if (config.token) headers.Authorization = "token " + config.token;
  const response = await fetch(base + "api/kernels/" + kernelId + "/interrupt",
                               { method: "POST", headers, credentials: "same-origin" });
  return response.ok;
}

function render({ model, el }) {
  el.classList.add("lm-bridge");
  let root = null;

  function syncDisclosure() {
    const toggle = root && root.querySelector("button.lm-advanced");
    const panel = root && root.querySelector(".lm-advanced-panel");
    if (!toggle) return;
    toggle.setAttribute("aria-expanded", model.get("advanced_open") ? "true" : "false");
    if (panel) {
      panel.id = panel.id || "lm-advanced-" + model.get("form_id");
      toggle.setAttribute("aria-controls", panel.id);
    }
  }

  // sent: the text the kernel last received from this box; inFlight: since when a check
  // is unanswered (0: none). A stuck answer (a kernel busy for long) expires after 10 s.
  const pending = { timer: null, inFlight: 0, dirty: false, sent: null };

  function payloadBox() { return root && root.querySelector(".lm-payload textarea"); }

  function sendPayload() {
    // ipywidgets' Textarea sends its value on "change"; one check in flight at a time.
    const box = payloadBox();
    if (!box || box.value === pending.sent) return;
    if (pending.inFlight && Date.now() - pending.inFlight < 10000) { pending.dirty = true; return; }
    pending.inFlight = Date.now();
    pending.dirty = false;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function onChange(event) {
    // Every "change" of the box (ours, or the browser's on blur) sends its text.
    if (!event.target.closest(".lm-payload")) return;
    clearTimeout(pending.timer);
    pending.sent = event.target.value;
  }

  function onChecked() {
    pending.inFlight = 0;
    if (pending.dirty) sendPayload();
  }

  function onInput(event) {
    if (!event.target.closest(".lm-payload")) return;
    clearTimeout(pending.timer);
    if (event.target.value.length > model.get("large_payload")) return;  // on blur instead
    pending.timer = setTimeout(sendPayload, model.get("debounce_ms"));
  }

  function onKeyCapture(event) {
    // Capture phase: widget views stop keydown at their own element.
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      clearTimeout(pending.timer);
      const box = payloadBox();
      if (box && box.value !== pending.sent) box.dispatchEvent(new Event("change", { bubbles: true }));
      const invoke = root.querySelector("button.lm-invoke");
      if (invoke && !invoke.disabled) invoke.click();
    }
  }

  function onKeydown(event) {
    event.stopPropagation();  // the form's keys are the form's, not the notebook's
  }

  async function onClick(event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("lm-cancel") && model.get("running")) {
      let ok = false;
      try { ok = await interruptKernel(model.get("kernel_id")); } catch (e) { ok = false; }
      if (!ok) model.send({ event: "cancel-failed" });
    } else if (button.classList.contains("lm-copy")) {
      const fallback = root.querySelector(".lm-magic");
      if (fallback && fallback.offsetParent !== null) {  // the box is shown: this click hides it
        model.send({ event: "hide-magic" });
        return;
      }
      const box = payloadBox();
      const text = model.get("magic_head") + "\n" + (box ? box.value.trim() : "");
      let copied = false;
      try { await navigator.clipboard.writeText(text); copied = true; } catch (e) {}
      model.send({ event: "copied", ok: copied });
    }
  }

  function attach() {
    root = el.closest(".lambda-magic-form");
    if (!root) { requestAnimationFrame(attach); return; }
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.addEventListener("keydown", onKeyCapture, true);
    root.addEventListener("keydown", onKeydown);
    root.addEventListener("input", onInput);
    root.addEventListener("change", onChange, true);
    root.addEventListener("click", onClick);
    new MutationObserver(syncDisclosure).observe(root, { childList: true, subtree: true });
    syncDisclosure();
  }
  model.on("change:advanced_open", syncDisclosure);
  model.on("change:checked", onChecked);
  attach();
  model.send({ event: "shown" });  // the kernel loads the function list now, not before
  return () => {
    if (root) {
      root.removeEventListener("keydown", onKeyCapture, true);
      root.removeEventListener("keydown", onKeydown);
      root.removeEventListener("input", onInput);
      root.removeEventListener("change", onChange, true);
      root.removeEventListener("click", onClick);
    }
  };
}
export default { render };
"""


class FormBridge(anywidget.AnyWidget):  # type: ignore[misc]
    """An invisible widget that gives the form keyboard, clipboard and Cancel behaviour.

    ``magic_head`` is the first line of the cell "Copy as magic" writes (the payload box
    gives the rest); ``running`` is true while a call runs (Cancel acts only then);
    ``kernel_id`` is the kernel Cancel interrupts; ``checked`` counts the kernel's payload
    checks, ``debounce_ms`` and ``large_payload`` say when the browser sends the payload.
    """

    _esm = _ESM
    magic_head = traitlets.Unicode("").tag(sync=True)
    checked = traitlets.Int(0).tag(sync=True)
    debounce_ms = traitlets.Int(300).tag(sync=True)
    large_payload = traitlets.Int(256 * 1024).tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    advanced_open = traitlets.Bool(False).tag(sync=True)
    kernel_id = traitlets.Unicode("").tag(sync=True)
    form_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(kernel_id=_kernel_id(), **kwargs)
        self.form_id = self.model_id[:12]
        self.layout.display = "none"  # nothing to see: it only listens

    def on_event(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Call ``callback(message)`` for each browser event ("shown", "copied", "hide-magic", "cancel-failed")."""
        self.on_msg(lambda _widget, content, _buffers: callback(content))


def _kernel_id() -> str:
    """The running kernel's id, from its connection file's name (``kernel-ID.json``)."""
    try:
        from ipykernel.connect import get_connection_file

        name = get_connection_file().rsplit("/", 1)[-1]
    except Exception:  # no kernel (a terminal, a test shell): Cancel has nothing to interrupt
        return ""
    return name.removeprefix("kernel-").removesuffix(".json")
