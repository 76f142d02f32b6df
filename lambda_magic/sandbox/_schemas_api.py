"""The sandbox's EventBridge schema registry: the subset shareable test events need.

The Lambda console, ``sam remote test-event`` and lambda_magic keep a function's shareable
test events as the ``components.examples`` of one OpenAPI 3 schema, ``_NAME-schema``, in the
registry ``lambda-testevent-schemas``. ``handle_schemas_request`` answers the REST-JSON
requests botocore's ``schemas`` client sends for that (under ``/v1/``): Describe/Create
registry, List schemas, Describe/Create/Update/Delete schema, List/Delete schema versions and
GetDiscoveredSchema (an OpenAPI 3 document inferred from a JSON event, as the service
makes it). Errors are the service's: ``NotFoundException`` (404), ``ConflictException``
(409), ``BadRequestException`` (400), code in ``x-amzn-ErrorType``, ``Message`` in the body.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lambda_magic.sandbox._registry import ACCOUNT_ID, REGION

__all__ = ["SchemaApiError", "SchemaRegistries", "discovered_schema", "handle_schemas_request"]

_PAGE = 100


@dataclass
class _Version:
    content: str
    type: str
    number: int
    created: datetime


@dataclass
class _Registry:
    name: str
    description: str = ""
    schemas: dict[str, list[_Version]] = field(default_factory=dict)


class SchemaApiError(Exception):
    """An error answer of the emulated Schemas API."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


class SchemaRegistries:
    """Every registry, schema and schema version the sandbox holds (in memory)."""

    def __init__(self) -> None:
        self._registries: dict[str, _Registry] = {}
        self.lock = threading.Lock()

    def registry(self, name: str) -> _Registry:
        """The registry ``name``; NotFoundException if it does not exist."""
        found = self._registries.get(name)
        if found is None:
            raise SchemaApiError("NotFoundException", 404, f"Registry {name} does not exist.")
        return found

    def create_registry(self, name: str, description: str) -> _Registry:
        """A new registry; ConflictException if it exists."""
        if name in self._registries:
            raise SchemaApiError("ConflictException", 409, f"Registry {name} already exists.")
        self._registries[name] = _Registry(name, description)
        return self._registries[name]

    def versions(self, registry: str, schema: str) -> list[_Version]:
        """The schema's versions, oldest first; NotFoundException if there is no such schema."""
        versions = self.registry(registry).schemas.get(schema)
        if not versions:
            raise SchemaApiError("NotFoundException", 404, f"Schema {schema} does not exist.")
        return versions


def handle_schemas_request(
    registries: SchemaRegistries, method: str, parts: list[str], query: dict[str, str], body: bytes
) -> tuple[int, dict[str, Any] | None]:
    """Answer one request under ``/v1/``: the HTTP status and the JSON body (None: empty)."""
    try:
        params = json.loads(body or b"{}")
        if not isinstance(params, dict):
            raise ValueError("the body must be a JSON object")
    except ValueError as err:
        return 400, _error_body("BadRequestException", f"Malformed request body: {err}")
    try:
        with registries.lock:
            return _dispatch(registries, method, parts, query, params)
    except SchemaApiError as err:
        return err.status, _error_body(err.code, err.message)


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message}


def _dispatch(
    registries: SchemaRegistries, method: str, parts: list[str], query: dict[str, str], params: dict[str, Any]
) -> tuple[int, dict[str, Any] | None]:
    if parts == ["discover"] and method == "POST":
        return 200, _discover(params)
    if len(parts) < 3 or parts[:2] != ["registries", "name"]:
        raise _unknown(method, parts)
    registry, rest = parts[2], parts[3:]
    if not rest:
        return _registry_request(registries, method, registry, params)
    if rest == ["schemas"] and method == "GET":
        return 200, _list_schemas(registries, registry, query)
    if len(rest) >= 3 and rest[:2] == ["schemas", "name"]:
        return _schema_request(registries, method, registry, rest[2], rest[3:], query, params)
    raise _unknown(method, parts)


def _unknown(method: str, parts: list[str]) -> SchemaApiError:
    return SchemaApiError(
        "BadRequestException",
        400,
        f"The sandbox does not implement {method} /v1/{'/'.join(parts)}: it serves "
        "the schema registry operations shareable test events use.",
    )


def _registry_request(
    registries: SchemaRegistries, method: str, name: str, params: dict[str, Any]
) -> tuple[int, dict[str, Any] | None]:
    if method == "GET":
        return 200, _registry_view(registries.registry(name))
    if method == "POST":
        return 201, _registry_view(registries.create_registry(name, str(params.get("Description") or "")))
    raise _unknown(method, ["registries", "name", name])


def _registry_view(registry: _Registry) -> dict[str, Any]:
    arn = f"arn:aws:schemas:{REGION}:{ACCOUNT_ID}:registry/{registry.name}"
    return {"RegistryName": registry.name, "RegistryArn": arn, "Description": registry.description, "tags": {}}


def _schema_request(
    registries: SchemaRegistries,
    method: str,
    registry: str,
    schema: str,
    rest: list[str],
    query: dict[str, str],
    params: dict[str, Any],
) -> tuple[int, dict[str, Any] | None]:
    if not rest:
        return _schema_itself(registries, method, registry, schema, query, params)
    if rest == ["versions"] and method == "GET":
        versions = registries.versions(registry, schema)
        return 200, _page([_version_summary(registry, schema, v) for v in versions], query, "SchemaVersions")
    if len(rest) == 2 and rest[0] == "version" and method == "DELETE":
        _delete_version(registries, registry, schema, rest[1])
        return 204, None
    raise _unknown(method, ["registries", "name", registry, "schemas", "name", schema, *rest])


def _schema_itself(
    registries: SchemaRegistries, method: str, registry: str, schema: str, query: dict[str, str], params: dict[str, Any]
) -> tuple[int, dict[str, Any] | None]:
    if method == "GET":
        return 200, _describe(registries, registry, schema, query.get("schemaVersion"))
    if method == "DELETE":
        registries.versions(registry, schema)
        del registries.registry(registry).schemas[schema]
        return 204, None
    if method in ("POST", "PUT"):
        versions = registries.registry(registry).schemas.setdefault(schema, [])
        if method == "POST" and versions:
            raise SchemaApiError("ConflictException", 409, f"Schema {schema} already exists.")
        if method == "PUT" and not versions:
            raise SchemaApiError("NotFoundException", 404, f"Schema {schema} does not exist.")
        versions.append(_new_version(params, versions))
        return (201 if method == "POST" else 200), _schema_view(registry, schema, versions[-1])
    raise _unknown(method, ["registries", "name", registry, "schemas", "name", schema])


def _new_version(params: dict[str, Any], versions: list[_Version]) -> _Version:
    content, kind = params.get("Content"), params.get("Type")
    if kind is None and versions:
        kind = versions[-1].type
    if kind not in ("OpenApi3", "JSONSchemaDraft4"):
        raise SchemaApiError("BadRequestException", 400, "Type must be OpenApi3 or JSONSchemaDraft4.")
    if not isinstance(content, str):
        raise SchemaApiError("BadRequestException", 400, "Content is required.")
    try:
        json.loads(content)
    except ValueError:
        raise SchemaApiError("BadRequestException", 400, "Content is not valid JSON.") from None
    number = versions[-1].number + 1 if versions else 1
    return _Version(content, kind, number, datetime.now(timezone.utc))


def _describe(registries: SchemaRegistries, registry: str, schema: str, version: str | None) -> dict[str, Any]:
    versions = registries.versions(registry, schema)
    chosen = versions[-1] if version is None else next((v for v in versions if str(v.number) == version), None)
    if chosen is None:
        raise SchemaApiError("NotFoundException", 404, f"Schema {schema} has no version {version}.")
    return {**_schema_view(registry, schema, chosen), "Content": chosen.content}


def _schema_view(registry: str, schema: str, version: _Version) -> dict[str, Any]:
    moment = version.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "SchemaArn": _schema_arn(registry, schema),
        "SchemaName": schema,
        "SchemaVersion": str(version.number),
        "Type": version.type,
        "Description": "",
        "LastModified": moment,
        "VersionCreatedDate": moment,
        "tags": {},
    }


def _schema_arn(registry: str, schema: str) -> str:
    return f"arn:aws:schemas:{REGION}:{ACCOUNT_ID}:schema/{registry}/{schema}"


def _version_summary(registry: str, schema: str, version: _Version) -> dict[str, Any]:
    return {
        "SchemaArn": _schema_arn(registry, schema),
        "SchemaName": schema,
        "SchemaVersion": str(version.number),
        "Type": version.type,
    }


def _delete_version(registries: SchemaRegistries, registry: str, schema: str, number: str) -> None:
    versions = registries.versions(registry, schema)
    if versions and str(versions[-1].number) == number:
        raise SchemaApiError("BadRequestException", 400, "The latest version of a schema cannot be deleted.")
    kept = [v for v in versions if str(v.number) != number]
    if len(kept) == len(versions):
        raise SchemaApiError("NotFoundException", 404, f"Schema {schema} has no version {number}.")
    registries.registry(registry).schemas[schema] = kept


def _list_schemas(registries: SchemaRegistries, registry: str, query: dict[str, str]) -> dict[str, Any]:
    prefix = query.get("schemaNamePrefix") or ""
    schemas = registries.registry(registry).schemas
    rows = [
        {"SchemaArn": _schema_arn(registry, name), "SchemaName": name, "VersionCount": len(versions), "tags": {}}
        for name, versions in sorted(schemas.items())
        if name.startswith(prefix)
    ]
    return _page(rows, query, "Schemas")


def _page(rows: list[dict[str, Any]], query: dict[str, str], key: str) -> dict[str, Any]:
    start = int(query.get("nextToken") or 0)
    limit = int(query.get("limit") or _PAGE)
    answer: dict[str, Any] = {key: rows[start : start + limit]}
    if start + limit < len(rows):
        answer["NextToken"] = str(start + limit)
    return answer


# --- GetDiscoveredSchema -----------------------------------------------------------------


def _discover(params: dict[str, Any]) -> dict[str, Any]:
    events, kind = params.get("Events"), params.get("Type")
    if kind != "OpenApi3":
        raise SchemaApiError("BadRequestException", 400, "The sandbox discovers OpenApi3 schemas only.")
    if not isinstance(events, list) or not events:
        raise SchemaApiError("BadRequestException", 400, "Events must hold at least one event.")
    try:
        sample = json.loads(events[0])
    except (TypeError, ValueError):
        raise SchemaApiError("BadRequestException", 400, "Events must be JSON documents.") from None
    return {"Content": json.dumps(discovered_schema(sample), separators=(",", ":"))}


def discovered_schema(event: Any) -> dict[str, Any]:
    """The OpenAPI 3 document the service infers from one event: ``Event`` and one
    component per nested object (named after its key), as in
    ``{"openapi":"3.0.0","info":{"version":"1.0.0","title":"Event"},"paths":{},"components":{...}}``."""
    schemas: dict[str, Any] = {}
    schemas["Event"] = _shape(event, schemas)
    return {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": "Event"},
        "paths": {},
        "components": {"schemas": dict(sorted(schemas.items(), key=lambda kv: kv[0] != "Event"))},
    }


def _shape(value: Any, schemas: dict[str, Any], key: str = "Event") -> dict[str, Any]:
    if isinstance(value, dict):
        properties = {name: _member(name, item, schemas) for name, item in value.items()}
        return {"type": "object", "required": sorted(value), "properties": properties}
    if isinstance(value, list):
        return {"type": "array", "items": _member(key, value[0], schemas) if value else {"type": "object"}}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "number"}
    if isinstance(value, float):
        return {"type": "number", "format": "double"}
    return {"type": "string"} if isinstance(value, str) else {"type": "object"}


def _member(name: str, value: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        return _shape(value, schemas, name)
    component = "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_")) or "Item"
    schemas[component] = _shape(value, schemas, component)
    return {"$ref": f"#/components/schemas/{component}"}
