"""The interactive invoke form: ``%lambda_form`` and ``lambda_magic.form()``.

A ``VBox`` of controls, an Invoke button and an ``Output``, as in ipywidgets' own
``interactive``: children are assigned once, handlers hang on ``on_click`` and
``observe(names="value")``, the button is disabled while a call runs and re-enabled in
``finally``, and everything the call prints or displays goes inside ``with output:``.

The form builds the request with ``make_request`` and sends it with ``_invoke.execute``, the
magic's own path; choices come from ``_discovery``. This is the only module that imports
ipywidgets.

The payload is checked as it is typed without running any code (``_payload_check``);
expressions are evaluated once, when Invoke is clicked, exactly as the magic evaluates them.
"Copy as magic" writes the cell ``_magic_cell`` makes from the form's values.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from html import escape
from typing import Any

import ipywidgets as widgets
import traitlets

from lambda_magic import _discovery
from lambda_magic._exceptions import InvokeError, LambdaMagicError, PayloadError
from lambda_magic._form_bridge import FormBridge
from lambda_magic._form_events import EventsPanel, event_controls
from lambda_magic._magic_cell import magic_cell
from lambda_magic._payload import expand_payload
from lambda_magic._payload_check import check_template, format_template
from lambda_magic._request import InvokeRequest, make_request, parse_client_context
from lambda_magic._response import LambdaResponse
from lambda_magic._samples import sample_choices, sample_event
from lambda_magic._settings import Settings, resolve_settings
from lambda_magic._theme import THEME_CSS

__all__ = ["FormControls", "LambdaForm", "form"]

#: Invocation types as the form labels them (the runbook step's words), and the API's names.
INVOCATION_CHOICES = [("Request", "RequestResponse"), ("Event", "Event"), ("DryRun", "DryRun")]

ResultCallback = Callable[[LambdaResponse], Any]

#: Above this many characters the payload is sent to the kernel and checked when the box
#: loses focus, not on every keystroke (each keystroke would send the whole text).
LARGE_PAYLOAD = 256 * 1024


# --- the widgets ---------------------------------------------------------------------------


@dataclass
class FormControls:
    """The widgets of one form by role; set their ``value`` and ``click()`` their buttons."""

    function: widgets.Combobox
    refresh: widgets.Button
    details: widgets.HTML
    template: widgets.Dropdown
    format: widgets.Button
    payload: widgets.Textarea
    payload_status: widgets.HTML
    saved_events: widgets.Dropdown
    delete_event: widgets.Button
    event_name: widgets.Text
    event_shared: widgets.Checkbox
    save_event: widgets.Button
    events_status: widgets.HTML
    invocation_type: widgets.ToggleButtons
    qualifier: widgets.Combobox
    client_context: widgets.Textarea
    client_context_status: widgets.HTML
    log_tail: widgets.Checkbox
    region: widgets.Text
    profile: widgets.Text
    advanced: widgets.ToggleButton
    advanced_panel: widgets.VBox
    invoke: widgets.Button
    cancel: widgets.Button
    summary: widgets.HTML
    copy: widgets.Button
    elapsed: widgets.Label
    status: widgets.HTML
    magic: widgets.Textarea
    output: widgets.Output
    bridge: FormBridge
    style: widgets.HTML


_LABEL = {"description_width": "8.5em"}


class _PayloadBox(widgets.Textarea):  # type: ignore[misc]
    """The payload's Textarea, whose value the kernel does not echo back to the browser:
    ipywidgets echoes every update by default, which sent a 2.6 MB payload back on each
    edit (``bench/bench_form.py``)."""

    value = traitlets.Unicode(help="String value").tag(sync=True, echo_update=False)


def _build_controls(*, function: str, payload: str, log: bool, region: str, profile: str) -> FormControls:
    """Create every widget (nothing connected yet)."""
    return FormControls(
        function=widgets.Combobox(
            value=function,
            description="Function",
            ensure_option=False,
            placeholder="name, name:alias or ARN",
            continuous_update=False,
            style=_LABEL,
            layout=widgets.Layout(width="32em"),
        ),
        refresh=widgets.Button(description="Refresh", icon="refresh", tooltip="List the functions again"),
        details=widgets.HTML(),
        template=widgets.Dropdown(
            description="Template", options=[("Choose a sample event…", ""), *sample_choices()], style=_LABEL
        ),
        format=widgets.Button(description="Format", icon="indent", tooltip="Indent the JSON"),
        # Sent by the bridge, debounced and one check at a time (or on blur when large).
        payload=_PayloadBox(
            value=payload,
            description="Event payload",
            rows=8,
            style=_LABEL,
            layout=widgets.Layout(width="auto"),
            continuous_update=False,
            placeholder='{"key": "value"}  ($name and ${expr} allowed)',
        ),
        payload_status=widgets.HTML(),
        **event_controls(_LABEL),
        **_advanced_controls(log=log, region=region, profile=profile),
        invoke=widgets.Button(
            description="Invoke", button_style="primary", icon="play", tooltip="Invoke (Ctrl+Enter in the payload)"
        ),
        cancel=widgets.Button(
            description="Cancel", icon="stop", tooltip="Stop the running call", layout=widgets.Layout(display="none")
        ),
        summary=widgets.HTML(),
        copy=widgets.Button(description="Copy as magic", icon="copy"),
        elapsed=widgets.Label(),
        status=widgets.HTML(),
        magic=widgets.Textarea(
            rows=6, description="Magic cell", style=_LABEL, layout=widgets.Layout(width="auto", display="none")
        ),
        output=widgets.Output(),
        bridge=FormBridge(large_payload=LARGE_PAYLOAD),
        style=widgets.HTML(THEME_CSS + _FORM_CSS, layout=widgets.Layout(display="none")),
    )


def _advanced_controls(*, log: bool, region: str, profile: str) -> dict[str, Any]:
    """The runbook step's "Advanced" fields, in an Accordion that starts collapsed."""
    controls: dict[str, Any] = {
        "invocation_type": widgets.ToggleButtons(description="Invocation", options=INVOCATION_CHOICES, style=_LABEL),
        "qualifier": widgets.Combobox(
            description="Qualifier",
            placeholder="$LATEST, a version or an alias",
            ensure_option=False,
            continuous_update=False,
            style=_LABEL,
        ),
        "client_context": widgets.Textarea(
            description="Client context",
            rows=3,
            style=_LABEL,
            layout=widgets.Layout(width="auto"),
            placeholder='{"custom": {"key": "value"}}',
        ),
        "client_context_status": widgets.HTML(),
        "log_tail": widgets.Checkbox(value=log, description="Log tail (synchronous calls)", indent=False),
        "region": widgets.Text(
            value=region, description="Region", placeholder="default", style=_LABEL, continuous_update=False
        ),
        "profile": widgets.Text(
            value=profile, description="Profile", placeholder="default", style=_LABEL, continuous_update=False
        ),
    }
    controls["advanced_panel"] = widgets.VBox(list(controls.values()), layout=widgets.Layout(display="none"))
    # A real button (Tab reaches it, Enter and Space toggle it); the bridge adds aria-expanded.
    controls["advanced"] = widgets.ToggleButton(
        description="Advanced",
        icon="caret-right",
        tooltip="Invocation type, qualifier, client context, log tail, region, profile",
    )
    return controls


def _layout(c: FormControls) -> widgets.VBox:
    """Arrange the controls; the children are set here once."""
    box = widgets.VBox(
        [
            widgets.HBox([c.function, c.refresh]),
            c.details,
            c.status,
            widgets.HBox([c.template, c.format]),
            c.payload,
            c.payload_status,
            widgets.HBox([c.saved_events, c.delete_event]),
            widgets.HBox([c.event_name, c.event_shared, c.save_event]),
            c.events_status,
            c.advanced,
            c.advanced_panel,
            widgets.HBox([c.invoke, c.cancel, c.summary, c.copy, c.elapsed]),
            c.magic,
            c.output,
            c.bridge,
            c.style,
        ]
    )
    box.add_class("lambda-magic-form")
    for role in fields(c):  # stable CSS hooks (lm-function, lm-invoke...) for styling and browser tests
        getattr(c, role.name).add_class(f"lm-{role.name.replace('_', '-')}")
    return box


#: Labels and rows start at one x; the qualifier's hint fits; the payload box has an edge.
_FORM_CSS = (
    "<style>.lambda-magic-form .widget-label{text-align:left}"
    ".lambda-magic-form .lm-qualifier input{min-width:18em}"
    ".lambda-magic-form .lm-invocation-type{display:flex;align-items:center}"
    ".lambda-magic-form textarea{border:1px solid var(--lm-edge)}"
    ".lambda-magic-form .lm-summary{color:var(--lm-note);font-size:12px;margin:0 6px}</style>"
)


def _note(text: str, *, error: bool = False) -> str:
    """An escaped one-line note for an HTML widget, in the theme's colours."""
    color = "var(--lm-bad)" if error else "var(--lm-note)"
    return f'<span style="color:{color};font-size:12px">{escape(text)}</span>'


class _Ticker:
    """Shows how long a call has run in a Label, updated from a helper thread."""

    def __init__(self, label: widgets.Label, interval: float = 0.1) -> None:
        self.label = label
        self.interval = interval
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lambda-form-ticker", daemon=True)

    @property
    def elapsed(self) -> float:
        """Seconds since the ticker started."""
        return time.perf_counter() - self.started

    def __enter__(self) -> _Ticker:
        self.label.value = "running… 0.0 s"
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.label.value = f"running… {self.elapsed:.1f} s"


_LARGE_HINT = "large payload: checked when the box loses focus; a notebook variable sent as $name is faster to edit"


# --- the form ------------------------------------------------------------------------------


class LambdaForm:
    """An invoke form: pick a function, edit the event, set options, click Invoke.

    ``result`` is the last ``LambdaResponse`` (function errors included), ``error`` the last
    ``LambdaMagicError`` (None after a call that came back), ``history`` every response of
    this form. ``controls`` holds the widgets, ``widget`` the displayed box.
    """

    def __init__(
        self,
        function: str | None = None,
        *,
        payload: str = "",
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        self.result: LambdaResponse | None = None
        self.error: LambdaMagicError | None = None
        self.history: list[LambdaResponse] = []
        self._details: _discovery.FunctionDetails | None = None  # GetFunctionConfiguration's answer
        self.endpoint_url = endpoint_url
        self._namespace = _user_namespace() if namespace is None else namespace
        self._callbacks: list[ResultCallback] = []
        self._running = False
        self._notice = ""
        self._chosen = function or ""
        self._payload_ok = True
        self._log_default = _log_default()
        self.controls = _build_controls(
            function=function or "", payload=payload, log=self._log_default, region=region or "", profile=profile or ""
        )
        self.widget = _layout(self.controls)
        self._connect()
        self.events = EventsPanel(self, _note)
        self._loaded = False  # the function list and details load when the form is first shown
        self.controls.status.value = _note("loading the function list… (Refresh lists it if this stays)")
        self._check_payload()
        self._check_client_context()

    def _connect(self) -> None:
        c = self.controls
        c.refresh.on_click(lambda _button: self.refresh())
        c.invoke.on_click(lambda _button: self.invoke())
        c.format.on_click(lambda _button: self.format_payload())
        c.function.observe(lambda _change: self._on_function(), names="value")
        c.payload.observe(lambda _change: self._check_payload(), names="value")
        c.advanced.observe(lambda _change: self._show_advanced(), names="value")
        c.bridge.on_event(self._on_browser_event)
        c.client_context.observe(lambda _change: self._check_client_context(), names="value")
        c.template.observe(self._on_template, names="value")
        for scope in (c.region, c.profile):
            scope.observe(lambda _change: self.refresh(), names="value")
        for field in (c.invocation_type, c.qualifier, c.log_tail, c.client_context):
            field.observe(lambda _change: self._update_state(), names="value")

    # --- public ---

    @property
    def function(self) -> str:
        """The function name as typed or chosen."""
        return self.controls.function.value.strip()

    def settings(self) -> Settings:
        """The settings a call from this form uses: its region/profile/endpoint over the rest."""
        c = self.controls
        return resolve_settings(
            region=c.region.value.strip() or None,
            profile=c.profile.value.strip() or None,
            endpoint_url=self.endpoint_url,
        )

    def request(self) -> InvokeRequest:
        """Build the request from the form's fields, evaluating ``${expr}`` now."""
        c = self.controls
        expanded = expand_payload(c.payload.value, self._namespace)
        return make_request(
            self.function,
            expanded.data,
            invocation_type=c.invocation_type.value,
            qualifier=c.qualifier.value.strip() or None,
            client_context=c.client_context.value.strip() or None,
            log=c.log_tail.value,
            substitutions=expanded.substitutions,
            template=expanded.template,
        )

    def invoke(self) -> LambdaResponse | None:
        """Send the form's request (what Invoke does); the response, or None after an error.

        The call runs in the kernel's main thread, like a magic cell's, so the kernel's
        Interrupt (and Cancel, which asks the server for it) stops it the same way.
        """
        c = self.controls
        self._set_running(True)
        try:
            with c.output:
                c.output.clear_output()
                return self._invoke_once()
        finally:
            self._set_running(False)

    def on_result(self, callback: ResultCallback) -> ResultCallback:
        """Call ``callback(response)`` after every response of this form (usable as decorator)."""
        self._callbacks.append(callback)
        return callback

    def magic_text(self) -> str:
        """The ``%%lambda_invoke`` cell equivalent to the form's current state."""
        return self._magic_head() + "\n" + self.controls.payload.value.strip()

    def _magic_head(self) -> str:
        """The magic's first line (the browser adds the payload box's text when copying)."""
        c = self.controls
        return magic_cell(
            self.function,
            "",
            invocation_type=c.invocation_type.value,
            qualifier=c.qualifier.value.strip() or None,
            client_context=c.client_context.value,
            log=c.log_tail.value,
            region=c.region.value.strip() or None,
            profile=c.profile.value.strip() or None,
            endpoint_url=self.endpoint_url,
        ).split("\n", 1)[0]

    def show_magic(self) -> str:
        """Show (and return) the equivalent cell under the buttons, ready to copy."""
        magic = self.controls.magic
        magic.value = self.magic_text()
        magic.rows = min(12, magic.value.count("\n") + 2)
        magic.layout.display = None
        return magic.value

    def hide_magic(self) -> None:
        """Hide the equivalent cell again."""
        self.controls.magic.layout.display = "none"

    def format_payload(self) -> None:
        """Indent the payload JSON in place (templates kept); a note if it is not JSON."""
        c = self.controls
        try:
            c.payload.value = format_template(c.payload.value)
        except PayloadError as error:
            c.payload_status.value = _note(str(error), error=True)
            self._payload_ok = False
            self._update_state()

    def load(self) -> None:
        """List the functions and describe the chosen one, once: when the browser first shows
        the form (it says so), never in the constructor. ``refresh()`` lists them again."""
        if not self._loaded:
            self.refresh()

    def refresh(self) -> None:
        """List the functions again (all pages), then the chosen function's details."""
        self._loaded = True
        c = self.controls
        c.status.value = ""
        try:
            settings = self.settings()
            _discovery.forget(settings)
            c.function.options = _discovery.list_functions(settings)
        except LambdaMagicError as error:
            c.status.value = _note(f"cannot list functions: {error}", error=True)
        self._describe()

    # --- handlers ---

    def _invoke_once(self) -> LambdaResponse | None:
        from IPython.display import display

        label = self.controls.elapsed
        with _Ticker(label) as ticker:
            try:
                response = self._send()
            except KeyboardInterrupt:  # outside the call (the engine maps one inside it)
                response = InvokeError("interrupted before the call was sent; nothing was sent", function=self.function)
        # Only now: the ticker's thread has stopped writing to the label.
        if isinstance(response, LambdaMagicError):
            self.error = response
            label.value = f"failed after {ticker.elapsed:.1f} s"
            print(str(response), file=sys.stderr)
            return None
        label.value = f"{response.status_code} in {response.elapsed * 1000:.0f} ms"
        response.code_sha256 = _discovery.code_sha256_for(self._details, response)  # as the console shows it
        self.error, self.result = None, response
        self.history.append(response)
        display(response)
        self._notify(response)
        return response

    def _send(self) -> LambdaResponse | LambdaMagicError:
        """Build and send the request the magic's way; the response, or the error."""
        from lambda_magic._interrupt import interrupt_event
        from lambda_magic._invoke import execute

        try:
            # Off the main thread (a JupyterLab subshell) the Interrupt sets ``cancel``;
            # on it, the Interrupt is a KeyboardInterrupt in the call, as in a cell.
            with interrupt_event() as cancel:
                # The history's ``cell`` is the payload as written (a magic's body), so an
                # export finds the ${expr} sites in it.
                return execute(
                    self.request(), self.settings(), origin="form", cell=self.controls.payload.value, cancel=cancel
                )
        except LambdaMagicError as error:
            return error

    def _notify(self, response: LambdaResponse) -> None:
        for callback in list(self._callbacks):
            try:
                callback(response)
            except Exception:
                traceback.print_exc()  # into the form's output: a callback bug must not break it

    def _describe(self) -> None:
        """Show the chosen function's configuration and offer its qualifiers."""
        c = self.controls
        c.details.value = ""
        self._details = None
        c.qualifier.options = [_discovery.LATEST]
        if self.function:
            try:
                settings = self.settings()
                details = self._details = _discovery.function_details(self.function, settings)
                c.details.value = _note(details.summary()) if details else ""
                c.qualifier.options = _discovery.list_qualifiers(self.function, settings)
                if c.qualifier.value.strip() not in ("", *c.qualifier.options):
                    c.qualifier.value = ""  # that function's qualifier, not this one's
            except LambdaMagicError as error:
                c.details.value = c.details.value or _note(str(error), error=True)
        self.events.refresh()
        self._update_state()

    def _check_payload(self) -> None:
        c = self.controls
        large = len(c.payload.value) > LARGE_PAYLOAD
        try:
            check_template(c.payload.value, self._namespace)
            c.payload_status.value = _note(_LARGE_HINT) if large else ""
            self._payload_ok = True
        except PayloadError as error:
            c.payload_status.value = _note(str(error), error=True)
            self._payload_ok = False
        self._update_state()
        c.bridge.checked += 1  # the browser may send the next edit

    def _check_client_context(self) -> None:
        c = self.controls
        try:
            parse_client_context(c.client_context.value.strip() or None)
            c.client_context_status.value = ""
        except LambdaMagicError as error:
            c.client_context_status.value = _note(str(error), error=True)
            c.advanced.value = True  # never hide why Invoke is disabled
        self._update_state()

    def _on_function(self) -> None:
        """A client context was written for one function: clear it, and say so."""
        c = self.controls
        previous, self._chosen = self._chosen, self.function
        self._notice = ""
        if c.client_context.value.strip() and previous and previous != self.function:
            c.client_context.value = ""
            self._notice = f"client context cleared (it was set for {previous})"
        self._describe()

    def _show_advanced(self) -> None:
        c = self.controls
        c.advanced_panel.layout.display = None if c.advanced.value else "none"
        c.advanced.icon = "caret-down" if c.advanced.value else "caret-right"
        c.bridge.advanced_open = c.advanced.value

    def _on_copied(self, ok: bool) -> None:
        """ "Copy as magic" was clicked and the browser tried the clipboard in the click; a
        refusal shows the box as the fallback. The browser decides, from what the page
        shows, whether a click copies or hides the box: one message per click, no race."""
        c = self.controls
        if ok:
            self.hide_magic()
            c.elapsed.value = "copied to the clipboard"
        else:
            self.show_magic()  # the fallback: select and copy it by hand
            c.elapsed.value = "the clipboard refused: copy it from the box"

    def _on_browser_event(self, message: dict[str, Any]) -> None:
        c = self.controls
        if message.get("event") == "shown":
            self.load()
        elif message.get("event") == "copied":
            self._on_copied(bool(message.get("ok")))
        elif message.get("event") == "hide-magic":
            self.hide_magic()
        elif message.get("event") == "cancel-failed":
            c.elapsed.value = "Cancel could not reach the server: use the kernel's Interrupt"

    def _set_running(self, running: bool) -> None:
        c = self.controls
        self._running = running
        c.bridge.running = running
        c.cancel.layout.display = None if running else "none"
        self._update_state()

    def _on_template(self, change: dict[str, Any]) -> None:
        """Load the chosen sample event, then reset the menu so it can be chosen again."""
        if change["new"]:
            self.controls.payload.value = sample_event(change["new"])
            self.controls.template.value = ""

    def _update_state(self) -> None:
        c = self.controls
        invalid = not self._payload_ok or bool(c.client_context_status.value)
        c.invoke.disabled = self._running or invalid or not self.function
        c.summary.value = _note(" · ".join(self.what_will_happen()))
        c.bridge.magic_head = self._magic_head()
        if c.magic.layout.display != "none":
            c.magic.value = self.magic_text()

    def what_will_happen(self) -> list[str]:
        """What differs from a plain synchronous call, in a few words each (empty if nothing).

        Shown next to Invoke, so settings hidden under a collapsed Advanced still show.
        """
        c = self.controls
        words = [] if c.invocation_type.value == "RequestResponse" else [c.invocation_type.value]
        words += [c.qualifier.value.strip()] if c.qualifier.value.strip() else []
        words += ["client context set"] if c.client_context.value.strip() else []
        sync = c.invocation_type.value == "RequestResponse"
        words += ["no log tail"] if sync and c.log_tail.value != self._log_default else []
        words += [value for value in (c.region.value.strip(), c.profile.value.strip()) if value]
        return words + ([self._notice] if self._notice else [])

    # --- display ---

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # ipywidgets' own bundle starts with repr() of every child's state: with a 2.6 MB
        # payload, 140 ms spent formatting text nobody sees. The same bundle, our repr.
        return {
            "text/plain": repr(self),
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.widget.model_id,
            },
        }

    def __repr__(self) -> str:
        return f"<LambdaForm {self.function or '(no function)'} {len(self.history)} responses>"


def form(
    function: str | None = None,
    *,
    payload: str = "",
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    namespace: Mapping[str, Any] | None = None,
) -> LambdaForm:
    """An invoke form; it displays itself as a notebook cell's result.

    ``function`` and ``payload`` pre-fill the form; ``region``, ``profile`` and
    ``endpoint_url`` override the settings for its calls. ``$name`` and ``${expr}`` in the
    payload are resolved in ``namespace`` (the notebook's, by default) when Invoke is clicked.
    """
    return LambdaForm(
        function, payload=payload, region=region, profile=profile, endpoint_url=endpoint_url, namespace=namespace
    )


def _user_namespace() -> Mapping[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _log_default() -> bool:
    """The log-tail setting, for the checkbox's initial state (True if it cannot be read)."""
    try:
        return resolve_settings().log_tail
    except LambdaMagicError:
        return True
