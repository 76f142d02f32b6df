"""The read-only control plane: Lambda's configuration shapes and pagination.

The dictionaries carry the keys AWS (and moto) return for a zip-packaged Python function, so
code written against ``list_functions`` or ``get_function`` reads the sandbox the same way.
"""

from __future__ import annotations

import platform
from typing import Any

from lambda_magic.sandbox._errors import invalid_parameter
from lambda_magic.sandbox._registry import (
    ACCOUNT_ID,
    Alias,
    Function,
    FunctionVersion,
    Registry,
    function_arn,
)

__all__ = [
    "alias_configuration",
    "function_configuration",
    "get_function",
    "list_aliases",
    "list_functions",
    "list_versions",
    "paginate",
]

_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-magic-sandbox"
_PAGE_LIMIT = 50  # Lambda's largest page for these operations
_ARCHITECTURE = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def _logging_config(version: FunctionVersion) -> dict[str, Any]:
    config: dict[str, Any] = {"LogFormat": version.log_format, "LogGroup": version.log_group}
    if version.log_format == "JSON":  # Lambda reports the levels of JSON functions only
        config["ApplicationLogLevel"] = version.application_log_level or "INFO"
        config["SystemLogLevel"] = version.system_log_level or "INFO"
    return config


def function_configuration(version: FunctionVersion, *, qualified: bool) -> dict[str, Any]:
    """A ``FunctionConfiguration``; ``qualified`` puts the version in the ARN."""
    config: dict[str, Any] = {
        "FunctionName": version.name,
        "FunctionArn": version.arn if qualified else function_arn(version.name, region=version.region),
        "Runtime": version.runtime,
        "Role": _ROLE,
        "Handler": version.handler,
        "CodeSize": version.code_size,
        "Description": version.description,
        "Timeout": version.timeout,
        "MemorySize": version.memory,
        "LastModified": version.last_modified,
        "CodeSha256": version.code_sha256,
        "Version": version.version,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": version.revision_id,
        "Layers": [{"Arn": arn, "CodeSize": 0} for arn in version.layer_arns],
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [_ARCHITECTURE],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": _logging_config(version),
    }
    if version.environment:  # Lambda leaves the key out when there are no variables
        config["Environment"] = {"Variables": dict(version.environment)}
    return config


def alias_configuration(alias: Alias) -> dict[str, Any]:
    """An ``AliasConfiguration``."""
    return {
        "AliasArn": alias.arn,
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }


def paginate(items: list[Any], marker: str | None, max_items: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the ``NextMarker`` for the rest (None on the last page)."""
    try:
        start = int(marker) if marker else 0
        size = min(int(max_items), _PAGE_LIMIT) if max_items else _PAGE_LIMIT
    except ValueError as err:
        raise invalid_parameter(f"bad Marker or MaxItems: {err}") from None
    if start < 0 or size < 1:
        raise invalid_parameter("Marker must be a marker from a previous page, MaxItems >= 1")
    end = start + size
    return items[start:end], str(end) if end < len(items) else None


def list_functions(registry: Registry, query: dict[str, str]) -> dict[str, Any]:
    """ListFunctions: ``$LATEST`` of each function, or every version with FunctionVersion=ALL."""
    every = query.get("FunctionVersion") == "ALL"
    configs = []
    for function in registry.functions():
        configs.append(function_configuration(function.latest, qualified=every))
        if every:
            configs += [function_configuration(v, qualified=True) for v in _published(function)]
    page, marker = paginate(configs, query.get("Marker"), query.get("MaxItems"))
    return _with_marker({"Functions": page}, marker)


def list_versions(function: Function, query: dict[str, str]) -> dict[str, Any]:
    """ListVersionsByFunction: ``$LATEST`` then each published version."""
    versions = [function.latest, *_published(function)]
    configs = [function_configuration(v, qualified=True) for v in versions]
    page, marker = paginate(configs, query.get("Marker"), query.get("MaxItems"))
    return _with_marker({"Versions": page}, marker)


def list_aliases(function: Function, query: dict[str, str]) -> dict[str, Any]:
    """ListAliases, optionally only those pointing at ``FunctionVersion``."""
    wanted = query.get("FunctionVersion")
    aliases = [
        alias_configuration(a) for _, a in sorted(function.aliases.items()) if wanted in (None, a.function_version)
    ]
    page, marker = paginate(aliases, query.get("Marker"), query.get("MaxItems"))
    return _with_marker({"Aliases": page}, marker)


def get_function(function: Function, version: FunctionVersion, qualifier: str | None) -> dict[str, Any]:
    """GetFunction: configuration, code location and concurrency."""
    result: dict[str, Any] = {
        "Configuration": function_configuration(version, qualified=qualifier not in (None, "")),
        "Code": {"RepositoryType": "S3", "Location": version.code_dir.as_uri()},
    }
    if function.reserved_concurrency is not None:
        result["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved_concurrency}
    return result


def _published(function: Function) -> list[FunctionVersion]:
    return [function.versions[number] for number in sorted(function.versions, key=int)]


def _with_marker(result: dict[str, Any], marker: str | None) -> dict[str, Any]:
    if marker is not None:
        result["NextMarker"] = marker
    return result
