"""Saved test events, like the Lambda console's: named payloads kept per function.

Two stores, as in the console:

- **private** events are files in the project, ``.lambda_magic/events/FUNCTION/NAME.json``
  next to the nearest settings file (``lambda_magic.toml`` or ``pyproject.toml``; the
  working directory when there is none), so they can be committed with the runbook;
- **shareable** events live where the console and ``sam remote test-event`` keep them: the
  EventBridge schema registry ``lambda-testevent-schemas``, one OpenAPI 3 schema per function
  named ``_FUNCTION-schema``, each event one entry of ``components.examples`` as
  ``{"value": EVENT, "x-metadata": {"invocationType": TYPE}}``. Creating, updating and
  deleting follow the SAM CLI's ``samcli/lib/shared_test_events/lambda_shared_test_event.py``
  step by step: a new schema starts from ``GetDiscoveredSchema``, at most five versions are
  kept, removing the last event deletes the schema.

The magic (``--event NAME``), the form and the Python API all go through ``save_event``,
``list_events``, ``load_event`` and ``delete_event``. A saved event is plain JSON (the
console's and SAM's are): ``${expr}`` templates are not saved.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import InvokeError, LambdaMagicError, ParameterError, PayloadError

if TYPE_CHECKING:
    from lambda_magic._settings import Settings

__all__ = [
    "REGISTRY",
    "SavedEvent",
    "delete_event",
    "event_function",
    "events_dir",
    "list_events",
    "load_event",
    "save_event",
    "schema_name",
]

#: The registry the console and the SAM CLI keep shareable test events in.
REGISTRY = "lambda-testevent-schemas"
OPEN_API = "OpenApi3"
MAX_SCHEMA_VERSIONS = 5  # the SAM CLI's limit: the oldest version goes first
MAX_EVENT_SIZE = 6144000  # bytes, the SAM CLI's (Lambda's synchronous payload limit)
#: The console's rule for a test event's name (also a safe file name).
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,25}")
_ARN_RE = re.compile(r"(?:arn:[^:]*:lambda:[^:]*:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_.-]+)(?::[^:]+)?")
_PERMISSION = f"schemas:DescribeSchema, CreateSchema, UpdateSchema (and CreateRegistry) on {REGISTRY}"


@dataclass(frozen=True)
class SavedEvent:
    """One saved test event: its ``name``, the ``function`` it belongs to, the payload as
    JSON ``text``, whether it is ``shared`` (schema registry) or private (a project file)."""

    name: str
    function: str
    text: str
    shared: bool = False
    invocation_type: str = "RequestResponse"

    @property
    def label(self) -> str:
        """How lists show it: ``name`` or ``name (shared)``."""
        return f"{self.name} (shared)" if self.shared else self.name


def event_function(function: str) -> str:
    """The function name events are kept under: ``name:alias`` and ARNs give ``name``."""
    match = _ARN_RE.fullmatch(function.strip())
    if match is None:
        raise ParameterError(
            f"malformed function name {function[:80]!r}: saved events need a function name, name:alias or ARN"
        )
    return match[1]


def schema_name(function: str) -> str:
    """The schema holding ``function``'s shareable events (the console's and SAM's name)."""
    return f"_{event_function(function)}-schema"


def events_dir(start: Path | None = None) -> Path:
    """Where private events live: ``.lambda_magic/events`` next to the nearest settings file."""
    from lambda_magic._settings import project_file

    found = project_file(start)
    base = found.parent if found is not None else Path(start or os.getcwd())
    return base / ".lambda_magic" / "events"


def _checked_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name or ""):
        raise ParameterError(
            f"event name {name[:40]!r}: use up to 25 letters, digits, '.', '-' or '_' "
            "(the console's rule), e.g. smoke-test"
        )
    return name


def _event_json(text: str) -> Any:
    """The payload as a JSON value; templates and invalid JSON are refused (one line)."""
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError as exc:
        hint = " (a saved event is plain JSON: ${...} and $name are not saved)" if "$" in text else ""
        raise PayloadError(f"cannot save the event: not valid JSON: {exc}{hint}") from None


# --- the public operations ----------------------------------------------------------------


def save_event(
    function: str,
    name: str,
    text: str,
    *,
    shared: bool = False,
    settings: Settings | None = None,
    invocation_type: str = "RequestResponse",
    start: Path | None = None,
) -> SavedEvent:
    """Save ``text`` (JSON) as event ``name`` of ``function``, replacing one of that name."""
    value = _event_json(text)
    event = SavedEvent(
        _checked_name(name),
        event_function(function),
        json.dumps(value, indent=2, ensure_ascii=False),
        shared,
        invocation_type,
    )
    if shared:
        _Shared(settings).save(event, value)
    else:
        path = events_dir(start) / event.function / f"{event.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(event.text + "\n", encoding="utf-8")
    return event


def list_events(
    function: str,
    *,
    private: bool = True,
    shared: bool = True,
    settings: Settings | None = None,
    start: Path | None = None,
) -> list[SavedEvent]:
    """``function``'s saved events: the private ones by name, then the registry's."""
    events = _private_events(event_function(function), start) if private else []
    if shared:
        events += _Shared(settings).events(event_function(function))
    return events


def load_event(
    function: str, name: str, *, settings: Settings | None = None, shared: bool | None = None, start: Path | None = None
) -> SavedEvent:
    """Event ``name`` of ``function``: the private one if there is one, else the shared one
    (``shared=True``/``False`` looks in that store only)."""
    _checked_name(name)
    owner = event_function(function)
    if shared is not True:
        path = events_dir(start) / owner / f"{name}.json"
        if path.is_file():
            return SavedEvent(name, owner, _read_event_file(path))
    if shared is not False:
        for event in _Shared(settings).events(owner):
            if event.name == name:
                return event
    raise ParameterError(
        f"no saved event {name!r} for {owner}: save one from %lambda_form, or "
        f"write {events_dir(start) / owner / (name + '.json')}"
    )


def delete_event(
    function: str, name: str, *, shared: bool = False, settings: Settings | None = None, start: Path | None = None
) -> None:
    """Delete event ``name`` of ``function`` from the private or the shared store."""
    _checked_name(name)
    owner = event_function(function)
    if shared:
        _Shared(settings).delete(owner, name)
        return
    path = events_dir(start) / owner / f"{name}.json"
    if not path.is_file():
        raise ParameterError(f"no private event {name!r} for {owner} to delete")
    path.unlink()


def _private_events(owner: str, start: Path | None) -> list[SavedEvent]:
    folder = events_dir(start) / owner
    if not folder.is_dir():
        return []
    return [
        SavedEvent(path.stem, owner, _read_event_file(path))
        for path in sorted(folder.glob("*.json"))
        if _NAME_RE.fullmatch(path.stem)
    ]


def _read_event_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PayloadError(f"cannot read saved event {path}: {exc}") from None


# --- the shared store: the SAM CLI's steps against the schemas API -------------------------


class _Shared:
    """Shareable events through boto3's ``schemas`` client, the SAM CLI's way."""

    def __init__(self, settings: Settings | None, client: Any = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from lambda_magic._client import service_client
            from lambda_magic._settings import resolve_settings

            self._client = service_client(self.settings or resolve_settings(), "schemas")
        return self._client

    def events(self, owner: str) -> list[SavedEvent]:
        """Every shareable event of ``owner`` (none if the registry or schema is missing)."""
        document = self._schema(owner)
        if document is None:
            return []
        examples = document.get("components", {}).get("examples", {})
        return [
            SavedEvent(
                name,
                owner,
                json.dumps(entry.get("value"), indent=2, ensure_ascii=False),
                True,
                str(entry.get("x-metadata", {}).get("invocationType", "RequestResponse")),
            )
            for name, entry in examples.items()
            if isinstance(entry, dict) and "value" in entry
        ]

    def save(self, event: SavedEvent, value: Any) -> None:
        """Add (or replace) ``event`` in its function's schema, creating what is missing."""
        data = json.dumps(value)
        if len(data.encode("utf-8")) > MAX_EVENT_SIZE:
            raise PayloadError(f"cannot share the event: over {MAX_EVENT_SIZE:,} bytes (the SAM CLI's limit)")
        if not self._call("describe_registry", missing_ok=True, RegistryName=REGISTRY):
            self._call("create_registry", conflict_ok=True, RegistryName=REGISTRY)
        name = schema_name(event.function)
        document = self._schema(event.function)
        if document is None:
            discovered = self._call("get_discovered_schema", Events=[data], Type=OPEN_API)["Content"]
            content = _with_example(json.loads(discovered), event, value)
            self._call("create_schema", RegistryName=REGISTRY, SchemaName=name, Type=OPEN_API, Content=content)
        else:
            self._limit_versions(name)
            self._call(
                "update_schema",
                RegistryName=REGISTRY,
                SchemaName=name,
                Type=OPEN_API,
                Content=_with_example(document, event, value),
            )

    def delete(self, owner: str, event_name: str) -> None:
        """Remove one event; the schema goes with its last event (as the SAM CLI does)."""
        document = self._schema(owner)
        examples = (document or {}).get("components", {}).get("examples", {})
        if event_name not in examples:
            raise ParameterError(f"no shared event {event_name!r} for {owner} to delete")
        name = schema_name(owner)
        if len(examples) <= 1:
            self._call("delete_schema", RegistryName=REGISTRY, SchemaName=name)
            return
        assert document is not None
        examples.pop(event_name)
        self._limit_versions(name)
        self._call("update_schema", RegistryName=REGISTRY, SchemaName=name, Type=OPEN_API, Content=json.dumps(document))

    def _schema(self, owner: str) -> dict[str, Any] | None:
        answer = self._call("describe_schema", missing_ok=True, RegistryName=REGISTRY, SchemaName=schema_name(owner))
        if not answer:
            return None
        try:
            document = json.loads(answer["Content"])
        except ValueError:
            document = None
        if not isinstance(document, dict) or "components" not in document:
            raise InvokeError(f"schema {schema_name(owner)} in {REGISTRY} is not a test event schema")
        return document

    def _limit_versions(self, name: str) -> None:
        pages = self.client.get_paginator("list_schema_versions").paginate(RegistryName=REGISTRY, SchemaName=name)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            versions = sorted((v["SchemaVersion"] for page in pages for v in page["SchemaVersions"]), key=int)
        except (BotoCoreError, ClientError) as exc:
            raise _mapped(exc, "list_schema_versions") from exc
        if len(versions) >= MAX_SCHEMA_VERSIONS:
            self._call("delete_schema_version", RegistryName=REGISTRY, SchemaName=name, SchemaVersion=versions[0])

    def _call(self, operation: str, *, missing_ok: bool = False, conflict_ok: bool = False, **params: Any) -> Any:
        """One schemas API call; NotFound (``missing_ok``) and Conflict (``conflict_ok``) give None."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**params)
        except (BotoCoreError, ClientError) as exc:
            code = _error_code(exc)
            if (missing_ok and code == "NotFoundException") or (conflict_ok and code == "ConflictException"):
                return None
            raise _mapped(exc, operation) from exc


def _with_example(document: dict[str, Any], event: SavedEvent, value: Any) -> str:
    """The schema with ``event`` among its examples, serialised as the SAM CLI does."""
    examples = document["components"].setdefault("examples", {})
    examples[event.name] = {"value": value, "x-metadata": {"invocationType": event.invocation_type}}
    return json.dumps(document)


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _mapped(exc: BaseException, operation: str) -> LambdaMagicError:
    """A schemas API failure as one of ours, through the one mapping (``map_error``)."""
    from lambda_magic._engine import Operation, map_error

    return map_error(
        exc,
        operation=Operation(
            f"reaching shared test events ({operation})",
            permission=_PERMISSION,
            if_denied="; or keep the event private",
        ),
    )
