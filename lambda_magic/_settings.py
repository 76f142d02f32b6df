"""Settings, their layers, and the one function that resolves them.

Precedence, highest first (``resolve_settings`` is the only place that applies it):

========  ==================================================================
option    a magic option or an API keyword argument
session   ``%config LambdaMagic.key = ...`` or ``%lambda_config key=value``
project   ``lambda_magic.toml`` or ``[tool.lambda_magic]`` in ``pyproject.toml``,
          the nearest one from the working directory upward
user      ``~/.config/lambda_magic/config.toml`` (``$XDG_CONFIG_HOME`` honoured)
default   the built-in defaults; region and credentials from the AWS chain
========  ==================================================================

Credentials come as a pair: the highest layer that sets ``access_key`` or ``profile``
decides between explicit keys and a profile. ``secret_key_path`` names where the secret
lives (``/path/to/file``, ``env:VAR`` or ``keyring:SERVICE/USERNAME``); the secret itself is
read only when a client is built, and is never stored here.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, Int, TraitError, Unicode, validate
from traitlets.config import SingletonConfigurable

from lambda_magic._exceptions import ParameterError, SettingsError

__all__ = [
    "DEFAULTS",
    "SETTING_KEYS",
    "LambdaMagic",
    "Settings",
    "project_file",
    "resolve_settings",
    "session_settings",
    "user_file",
]

#: Built-in values for settings that nothing else set.
DEFAULTS: dict[str, Any] = {
    "log_tail": True,
    "raise_on_error": False,
    # Lambda's maximum function timeout is 900 s; waiting longer means a timed-out read
    # is never a function that is merely slow.
    "read_timeout": 960.0,
    "connect_timeout": 10.0,
    "throttle_retries": 6,
    "throttle_max_wait": 60.0,
    "max_concurrency": 16,
    "transport": "lean",
}

_CREDENTIAL_KEYS = ("access_key", "profile")
_POSITIVE = ("read_timeout", "connect_timeout", "throttle_max_wait")
_AT_LEAST = {"throttle_retries": 0, "max_concurrency": 1}
#: Upper bounds, and why: a bound far above any real use still keeps a typo (1e300, inf)
#: from reaching the socket layer, or a thread pool.
_AT_MOST: dict[str, tuple[float, str]] = {
    "read_timeout": (3600, "Lambda runs a function for 900 s at most"),
    "connect_timeout": (300, "a connection that takes longer will not come"),
    "throttle_max_wait": (3600, "an hour of retrying"),
    "throttle_retries": (100, "more retries only wait longer"),
    "max_concurrency": (1000, "Lambda's default account concurrency is 1,000: more calls in "
                        "flight are throttled"),
}
#: How a call names a setting, for messages about the option the user typed.
OPTION_NAMES = {"read_timeout": "--timeout", "max_concurrency": "--concurrency",
                "endpoint_url": "--endpoint-url", "region": "--region", "profile": "--profile"}
# botocore's own rule for a region (a host name label: botocore.utils.validate_region_name).
_REGION_RE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")


def range_problem(key: str, value: Any) -> str | None:
    """What is wrong with a numeric setting's value, or None: the one range check."""
    if value is None or key not in _AT_MOST:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{key} must be a finite number, not {value}"
    if key in _POSITIVE and value <= 0:
        return f"{key} must be a positive number of seconds, not {value:g}"
    if key in _AT_LEAST and value < _AT_LEAST[key]:
        return f"{key} must be at least {_AT_LEAST[key]}, not {value}"
    limit, why = _AT_MOST[key]
    if value > limit:
        return f"{key} must be at most {limit:,} ({why}), not {value:g}"
    return None


#: How Invoke requests are sent: lambda_magic's own lean transport, or botocore's client.
TRANSPORTS = ("lean", "botocore")


def text_problem(key: str, value: str) -> str | None:
    """What is wrong with a text setting's value (region, endpoint_url, transport), or None."""
    if key == "transport" and value not in TRANSPORTS:
        return f"transport {value!r} is not one of lean, botocore: use lean (fast) or botocore (the fallback)"
    if key == "region" and not _REGION_RE.fullmatch(value):
        return f"region {value!r} is not a region name: use one such as us-east-1 or eu-west-1"
    if key == "endpoint_url":
        return _endpoint_problem(value)
    return None


def _endpoint_problem(url: str) -> str | None:
    from urllib.parse import urlsplit

    hint = "use http(s)://host[:port], e.g. http://127.0.0.1:9001"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        return f"endpoint_url {url!r} is not a URL ({exc}): {hint}"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f"endpoint_url {url!r} is not an http or https URL: {hint}"
    return None


def _text(help_text: str) -> Unicode:
    return Unicode(None, allow_none=True, help=help_text).tag(config=True)


class LambdaMagic(SingletonConfigurable):
    """Session settings of lambda_magic (``%config LambdaMagic``); unset traits are None."""

    access_key = _text("AWS access key id; needs secret_key_path.")
    secret_key_path = _text(
        "Where the secret access key lives, never the key itself: a file path, env:VAR, "
        "or keyring:SERVICE/USERNAME."
    )
    region = _text("AWS region, e.g. us-east-1.")
    profile = _text("A profile from ~/.aws/config; used instead of access_key.")
    endpoint_url = _text("Lambda endpoint URL (the local sandbox, a VPC endpoint...).")
    log_tail = Bool(None, allow_none=True, help="Ask for the log tail on synchronous calls "
                    "(default True).").tag(config=True)
    raise_on_error = Bool(None, allow_none=True, help="A function error fails the cell "
                          "(default False).").tag(config=True)
    read_timeout = Float(None, allow_none=True, help="Seconds to wait for the answer (default "
                         "960: above Lambda's 900 s maximum).").tag(config=True)
    connect_timeout = Float(None, allow_none=True, help="Seconds to wait for a connection "
                            "(default 10).").tag(config=True)
    throttle_retries = Int(None, allow_none=True, help="Retries of a throttled (429) or "
                           "unconnectable call (default 6).").tag(config=True)
    throttle_max_wait = Float(None, allow_none=True, help="Seconds spent waiting between "
                              "those retries at most (default 60).").tag(config=True)
    max_concurrency = Int(None, allow_none=True, help="Calls in flight at once in a "
                          "fan-out (default 16).").tag(config=True)
    transport = Unicode(None, allow_none=True, help="How Invoke requests are sent: lean "
                        "(lambda_magic's own signed HTTP, several times faster in a fan-out) or "
                        "botocore (its client; default lean).").tag(config=True)

    @validate(*_AT_MOST, "region", "endpoint_url", "transport")
    def _in_range(self, proposal: Any) -> Any:
        key, value = proposal["trait"].name, proposal["value"]
        if isinstance(value, bool) and key in _AT_MOST:  # traitlets takes True for 1
            raise TraitError(f"{key} must be a number, not {value}")
        problem = text_problem(key, value) if isinstance(value, str) else range_problem(key, value)
        if problem:
            raise TraitError(problem)
        return value

    @classmethod
    def class_get_trait_help(cls, trait: Any, inst: Any = None, helptext: str | None = None) -> str:
        """``%config LambdaMagic``'s text for one trait, the access key id masked."""
        text = super().class_get_trait_help(trait, inst, helptext)
        key = getattr(inst, "access_key", None) if trait.name == "access_key" else None
        if key:
            from lambda_magic._config_view import mask

            text = text.replace(repr(key), repr(mask(key)))
        return text

    def values(self) -> dict[str, Any]:
        """The settings this session has set."""
        return {key: getattr(self, key) for key in SETTING_KEYS if getattr(self, key) is not None}

    def update(self, **values: Any) -> None:
        """Set session settings by name, checked like ``%config`` checks them."""
        for key in values:
            _check_key(key, "session")
        coerced = {key: _coerce(key, value, "session") for key, value in values.items()}
        before = {key: getattr(self, key) for key in coerced}
        try:
            for key, value in coerced.items():
                setattr(self, key, value)
        except TraitError as exc:
            for key, value in before.items():  # all or nothing
                setattr(self, key, value)
            raise SettingsError(f"{exc}") from None

    def clear(self, *keys: str) -> None:
        """Unset session settings (all of them with no argument)."""
        for key in keys or SETTING_KEYS:
            _check_key(key, "session")
            setattr(self, key, None)


SETTING_KEYS: tuple[str, ...] = tuple(
    name for name in LambdaMagic.class_trait_names(config=True)
)


def session_settings() -> LambdaMagic:
    """The session layer: one ``LambdaMagic`` per process, shared with ``%config``."""
    return LambdaMagic.instance()


@dataclass(frozen=True)
class Settings:
    """Resolved settings; ``sources`` says which layer gave each value."""

    access_key: str | None = field(default=None, repr=False)  # key ids stay out of reprs and logs
    secret_key_path: str | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    log_tail: bool = True
    raise_on_error: bool = False
    read_timeout: float = 960.0
    connect_timeout: float = 10.0
    throttle_retries: int = 6
    throttle_max_wait: float = 60.0
    max_concurrency: int = 16
    transport: str = "lean"
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


def resolve_settings(options: Mapping[str, Any] | None = None) -> Settings:
    """Apply the precedence: option > session > project file > user file > default."""
    layers = _layers(options or {})
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in SETTING_KEYS:
        for source, layer in layers:
            if layer.get(key) is not None:
                values[key], sources[key] = layer[key], source
                break
        else:
            if key in DEFAULTS:
                values[key], sources[key] = DEFAULTS[key], "default"
    _apply_credential_pair(values, sources, layers)
    return Settings(**values, sources=sources)


def _layers(options: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    clean = {key: _coerce(key, value, "option") for key, value in options.items() if value is not None}
    for key in clean:
        _check_key(key, "option")
    layers: list[tuple[str, Mapping[str, Any]]] = [("option", clean)]
    layers.append(("session", session_settings().values()))
    for path in (project_file(), user_file()):
        if path is not None:
            layers.append((str(path), _read_file(path)))
    return layers


def _apply_credential_pair(
    values: dict[str, Any], sources: dict[str, str], layers: list[tuple[str, Mapping[str, Any]]]
) -> None:
    """Keep only the credential kind of the highest layer that names one."""
    for _source, layer in layers:
        if any(layer.get(key) is not None for key in _CREDENTIAL_KEYS):
            loser = "profile" if layer.get("access_key") is not None else "access_key"
            values.pop(loser, None)
            sources.pop(loser, None)
            if loser == "access_key":
                values.pop("secret_key_path", None)
                sources.pop("secret_key_path", None)
            return


def _check_key(key: str, where: str) -> None:
    if key not in SETTING_KEYS:
        known = ", ".join(SETTING_KEYS)
        raise SettingsError(f"unknown setting {key!r} ({where}); known settings: {known}")


_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True,
               "false": False, "no": False, "off": False, "0": False}


def _coerce(key: str, value: Any, where: str) -> Any:
    """Turn text (from a file or ``%lambda_config``) into the setting's type, and check it."""
    trait = LambdaMagic.class_traits()[key] if key in SETTING_KEYS else None
    if value is None or trait is None:
        return value
    kind = {Bool: bool, Float: float, Int: int}.get(type(trait), str)
    try:
        value = _convert(kind, value)
    except (KeyError, TypeError, ValueError, OverflowError):
        name = {bool: "true or false", float: "number", int: "whole number", str: "text"}[kind]
        raise _error(where)(
            f"setting {key} = {_shown(key, value)} ({where}) is not {'a ' if kind is not bool else ''}"
            f"{name}: write e.g. {key}={_EXAMPLES[kind]}"
        ) from None
    problem = text_problem(key, value) if kind is str else range_problem(key, value)
    if problem:
        raise _error(where)(f"{problem} ({where})")
    return value


_EXAMPLES = {bool: "true", float: "30", int: "4", str: "eu-west-1"}


def _convert(kind: type, value: Any) -> Any:
    """``value`` as ``kind``: text is parsed, a value of the wrong type is refused, never
    truncated (2.7 is not an int) nor turned into its ``str()``."""
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        return _BOOL_WORDS[text.lower()] if kind is bool else kind(text)
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError
        return value
    if isinstance(value, bool) or not isinstance(value, kind if kind is not float else (int, float)):
        raise TypeError
    return kind(value)


def _shown(key: str, value: Any) -> str:
    # A key id never goes into a message whole.
    return "'****'" if key == "access_key" else repr(value)[:60]


def _error(where: str) -> type[SettingsError] | type[ParameterError]:
    # A call's own option is a bad parameter; a file or session value a bad setting.
    return ParameterError if where == "option" else SettingsError


def project_file(start: Path | None = None) -> Path | None:
    """The nearest ``lambda_magic.toml`` or pyproject with ``[tool.lambda_magic]``."""
    # Plain os.path on strings: this runs on every call, and pathlib costs ~5x as much here.
    directory = os.path.realpath(start) if start else os.getcwd()  # getcwd() is already resolved
    while True:
        candidate = os.path.join(directory, "lambda_magic.toml")
        if os.path.isfile(candidate):
            return Path(candidate)
        pyproject = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(pyproject) and "lambda_magic" in _load_toml(Path(pyproject)).get("tool", {}):
            return Path(pyproject)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def user_file() -> Path | None:
    """``$XDG_CONFIG_HOME/lambda_magic/config.toml`` (``~/.config`` by default), if present."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    path = os.path.join(base, "lambda_magic", "config.toml")
    return Path(path) if os.path.isfile(path) else None


def _read_file(path: Path) -> dict[str, Any]:
    data = _load_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("lambda_magic", {})
    for key in data:
        _check_key(key, str(path))
    return {key: _coerce(key, value, str(path)) for key, value in data.items()}


_TOML_CACHE: dict[Path, tuple[int, dict[str, Any]]] = {}


def _load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, cached by modification time (settings resolve on every call)."""
    mtime = path.stat().st_mtime_ns
    cached = _TOML_CACHE.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"settings file {path} is not UTF-8 (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}): save it as UTF-8"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    _TOML_CACHE[path] = (mtime, data)
    return data
