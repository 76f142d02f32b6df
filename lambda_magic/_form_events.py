"""The form's saved test events: choose one to load it, save the payload under a name,
delete the chosen one; private (project files) or shareable (the console's and SAM's schema
registry). The widgets are the form's (``FormControls``); the store is ``_events``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from lambda_magic import _events
from lambda_magic._exceptions import LambdaMagicError

if TYPE_CHECKING:
    from lambda_magic._form import LambdaForm

__all__ = ["EventsPanel", "event_controls"]

_NONE = ("Choose a saved event…", "")


def event_controls(label: dict[str, str]) -> dict[str, Any]:
    """The saved events' widgets, by their ``FormControls`` role."""
    return {
        "saved_events": widgets.Dropdown(
            description="Saved events", options=[_NONE], style=label, layout=widgets.Layout(width="24em")
        ),
        "delete_event": widgets.Button(
            description="Delete", icon="trash", tooltip="Delete the chosen saved event", disabled=True
        ),
        "event_name": widgets.Text(
            description="Save as",
            placeholder="event name, e.g. smoke-test",
            style=label,
            continuous_update=True,
            layout=widgets.Layout(width="24em"),
        ),
        "event_shared": widgets.Checkbox(
            description="Shareable (console, SAM CLI)", indent=False, layout=widgets.Layout(width="auto")
        ),
        "save_event": widgets.Button(description="Save", icon="save", tooltip="Save the payload under this name"),
        "events_status": widgets.HTML(),
    }


class EventsPanel:
    """Connects the saved events' widgets of ``form`` to the store."""

    def __init__(self, form: LambdaForm, note: Callable[..., str]) -> None:
        self.form = form
        self._note = note
        self._events: dict[str, _events.SavedEvent] = {}
        self._loading = True
        c = form.controls
        c.saved_events.observe(lambda _change: self._on_choice(), names="value")
        c.save_event.on_click(lambda _button: self.save())
        c.delete_event.on_click(lambda _button: self.delete())

    def refresh(self, *, keep: str = "") -> None:
        """List the chosen function's saved events (private, then shared); a note if the
        shared store cannot be read (the private ones are still listed)."""
        c = self.form.controls
        self._events = {}
        notes: list[str] = []
        if self.form.function:
            try:
                private = _events.list_events(self.form.function, shared=False)
                shared = self._shared_events(notes)
                self._events = {_key(e): e for e in private + shared}
            except LambdaMagicError as error:
                notes.append(str(error))
        c.saved_events.options = [_NONE] + [(e.label, key) for key, e in self._events.items()]
        self._loading = False  # re-selecting after a save must not reload the payload
        c.saved_events.value = keep if keep in self._events else ""
        self._loading = True
        c.delete_event.disabled = not c.saved_events.value
        # A store that cannot be read is a remark, not an error: the form works without it.
        c.events_status.value = self._note(notes[0]) if notes else ""

    def _shared_events(self, notes: list[str]) -> list[_events.SavedEvent]:
        try:
            return _events.list_events(self.form.function, private=False, settings=self.form.settings())
        except LambdaMagicError as error:
            notes.append(f"shared events not listed: {error}")
            return []

    def save(self) -> _events.SavedEvent | None:
        """Save the payload under the typed name (replacing one of that name)."""
        c = self.form.controls
        if not self.form.function:
            c.events_status.value = self._note("choose a function first: events are saved per function", error=True)
            return None
        try:
            event = _events.save_event(
                self.form.function,
                c.event_name.value.strip(),
                c.payload.value,
                shared=c.event_shared.value,
                settings=self.form.settings(),
                invocation_type=c.invocation_type.value,
            )
        except LambdaMagicError as error:
            c.events_status.value = self._note(str(error), error=True)
            return None
        self.refresh(keep=_key(event))
        c.events_status.value = self._note(f"saved {event.label} for {event.function}")
        return event

    def delete(self) -> None:
        """Delete the chosen saved event."""
        c = self.form.controls
        event = self._events.get(c.saved_events.value)
        if event is None:
            return
        try:
            _events.delete_event(event.function, event.name, shared=event.shared, settings=self.form.settings())
        except LambdaMagicError as error:
            c.events_status.value = self._note(str(error), error=True)
            return
        self.refresh()
        c.events_status.value = self._note(f"deleted {event.label}")

    def _on_choice(self) -> None:
        """Load the chosen event into the payload (and its invocation type), name and store."""
        c = self.form.controls
        event = self._events.get(c.saved_events.value)
        c.delete_event.disabled = event is None
        if event is None or not self._loading:
            return
        c.payload.value = event.text
        c.event_name.value = event.name
        c.event_shared.value = event.shared
        if event.invocation_type in dict(c.invocation_type.options).values():
            c.invocation_type.value = event.invocation_type
        c.events_status.value = self._note(f"loaded {event.label}")


def _key(event: _events.SavedEvent) -> str:
    return f"{'shared' if event.shared else 'private'}:{event.name}"
