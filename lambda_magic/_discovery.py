"""Discovery: which functions exist, how they are configured, which qualifiers they have.

The engine-side helpers behind the form's choices. Each reads every page
(``Marker``/``NextMarker``) of ListFunctions, ListVersionsByFunction and ListAliases with the
cached client of ``client_for(settings)``, and turns botocore's exceptions into
lambda_magic's with ``_engine.map_error``, the one mapping. Function lists and qualifier
lists are cached per client (so a new client, new settings, starts afresh);
``forget(settings)`` drops them, as the form's refresh button does.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lambda_magic._exceptions import AccessDeniedError
from lambda_magic._response import LambdaResponse
from lambda_magic._settings import Settings

__all__ = [
    "LATEST",
    "READ_TIMEOUT",
    "FunctionDetails",
    "code_sha256_for",
    "forget",
    "function_details",
    "list_functions",
    "list_qualifiers",
]

LATEST = "$LATEST"
#: Seconds a discovery call waits for its answer at most.
READ_TIMEOUT = 20.0

_lock = threading.Lock()
# client -> {cache key -> names}; weak, so the entries go when ``clear_clients()`` drops a client.
_cache: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], list[str]]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class FunctionDetails:
    """The parts of GetFunctionConfiguration the form shows."""

    name: str
    arn: str | None = None
    runtime: str | None = None
    memory_mb: int | None = None
    timeout_s: int | None = None
    last_modified: str | None = None
    description: str | None = None
    version: str | None = None
    code_sha256: str | None = None

    def summary(self) -> str:
        """One line: ``python3.12 · 128 MB · 3 s timeout · modified 2024-01-01T12:00:00``."""
        parts = [
            self.runtime or "container image",
            f"{self.memory_mb} MB" if self.memory_mb else None,
            f"{self.timeout_s} s timeout" if self.timeout_s else None,
            f"modified {self.last_modified}" if self.last_modified else None,
        ]
        return " · ".join(part for part in parts if part)


def list_functions(
    settings: Settings, *, refresh: bool = False, page_size: int | None = None, client: Any = None
) -> list[str]:
    """Every function name (all pages), sorted; cached per client unless ``refresh``."""
    client = client or _client(settings)
    key = ("functions",)
    cached = None if refresh else _cached(client, key)
    if cached is not None:
        return cached
    items = _all_pages(client.list_functions, "Functions", target="ListFunctions", page_size=page_size, client=client)
    return _store(client, key, sorted({item["FunctionName"] for item in items}))


def list_qualifiers(
    function: str, settings: Settings, *, refresh: bool = False, page_size: int | None = None, client: Any = None
) -> list[str]:
    """``$LATEST``, then the published versions (numerically), then the aliases (sorted)."""
    client = client or _client(settings)
    key = ("qualifiers", function)
    cached = None if refresh else _cached(client, key)
    if cached is not None:
        return cached
    versions = _all_pages(
        client.list_versions_by_function,
        "Versions",
        target=function,
        page_size=page_size,
        client=client,
        FunctionName=function,
    )
    aliases = _all_pages(
        client.list_aliases, "Aliases", target=function, page_size=page_size, client=client, FunctionName=function
    )
    numbers = sorted({v["Version"] for v in versions if v["Version"] != LATEST}, key=_version_order)
    names = sorted({a["Name"] for a in aliases})
    return _store(client, key, [LATEST, *numbers, *names])


def function_details(function: str, settings: Settings, *, client: Any = None) -> FunctionDetails | None:
    """GetFunctionConfiguration of ``function``; None when that permission is missing."""
    client = client or _client(settings)
    try:
        answer = _call(client.get_function_configuration, target=function, client=client, FunctionName=function)
    except AccessDeniedError:
        return None  # invoking may still be allowed: say nothing rather than fail
    return FunctionDetails(
        name=answer.get("FunctionName", function),
        arn=answer.get("FunctionArn"),
        runtime=answer.get("Runtime"),
        memory_mb=answer.get("MemorySize"),
        timeout_s=answer.get("Timeout"),
        last_modified=answer.get("LastModified"),
        description=answer.get("Description") or None,
        version=answer.get("Version"),
        code_sha256=answer.get("CodeSha256"),
    )


def code_sha256_for(details: FunctionDetails | None, response: LambdaResponse) -> str | None:
    """The code hash GetFunctionConfiguration gave, if it describes the version that ran."""
    if details is None or not details.code_sha256 or details.name != response.function_name:
        return None
    ran = response.executed_version or response.qualifier or LATEST
    return details.code_sha256 if ran == (details.version or LATEST) else None


def forget(settings: Settings | None = None, *, client: Any = None) -> None:
    """Drop the cached lists of this settings' client (of every client with no argument)."""
    with _lock:
        if settings is None and client is None:
            _cache.clear()
        else:
            _cache.pop(client or _client(settings), None)  # type: ignore[arg-type]


def _client(settings: Settings) -> Any:
    from lambda_magic._client import client_for

    # Control-plane reads answer at once; never hang the notebook for an Invoke's 960 s.
    return client_for(replace(settings, read_timeout=min(settings.read_timeout, READ_TIMEOUT)))


def _cached(client: Any, key: tuple[str, ...]) -> list[str] | None:
    with _lock:
        names = _cache.get(client, {}).get(key)
    return None if names is None else list(names)


def _store(client: Any, key: tuple[str, ...], names: list[str]) -> list[str]:
    with _lock:
        _cache.setdefault(client, {})[key] = names
    return list(names)


def _all_pages(
    method: Callable[..., dict[str, Any]], field: str, *, target: str, page_size: int | None, client: Any, **params: Any
) -> list[dict[str, Any]]:
    """Follow ``NextMarker`` until the last page; ``page_size`` sets ``MaxItems``."""
    if page_size is not None:
        params["MaxItems"] = page_size
    items: list[dict[str, Any]] = []
    marker = None
    while True:
        answer = _call(method, target=target, client=client, **params, **({"Marker": marker} if marker else {}))
        items.extend(answer.get(field, []))
        marker = answer.get("NextMarker")
        if not marker:
            return items


def _call(method: Callable[..., dict[str, Any]], *, target: str, client: Any, **params: Any) -> dict[str, Any]:
    """One control-plane call, its failure mapped by the engine's ``map_error``."""
    from lambda_magic._engine import CallContext, Operation, map_error

    try:
        return method(**params)
    except Exception as exc:
        action = "".join(part.title() for part in method.__name__.split("_"))
        operation = Operation(
            f"calling {action} ({target})",
            permission=f"lambda:{action}",
            subject=target,
            if_denied="; invoking may still work, type the function name",
        )
        raise map_error(exc, operation=operation, context=CallContext(region=client.meta.region_name)) from exc


def _version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)
