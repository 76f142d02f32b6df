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
    "SETTINGS",
    "SETTING_KEYS",
    "TABLE",
    "LambdaMagic",
    "Setting",
    "Settings",
    "hint",
    "project_file",
    "resolve_settings",
    "session_settings",
    "settings_table",
    "user_file",
]


@dataclass(frozen=True)
class Setting:
    """One setting, declared once: the session trait, the default, the checks, ``Settings``'
    field default and the README's table all come from it."""

    name: str
    kind: type  # str, bool, float or int
    meaning: str  # the trait's help and the README's "meaning" column
    default: Any = None  # None: unset unless a layer sets it
    shown_default: str = ""  # the README's default column when ``default`` says too little
    minimum: float | None = None
    positive: bool = False  # seconds: more than zero
    maximum: tuple[float, str] | None = None  # the bound, and why
    option: str | None = None  # how a magic's option names it in messages
    secret: bool = False  # masked wherever it is shown


_CHAIN = "the AWS chain"
#: Every setting of lambda_magic, in the order ``%lambda_config`` and the README list them.
TABLE: tuple[Setting, ...] = (
    Setting("access_key", str, "AWS access key id (needs `secret_key_path`)", shown_default=_CHAIN, secret=True),
    Setting(
        "secret_key_path",
        str,
        "where the secret key lives: a file path, `env:VAR`, or `keyring:SERVICE/USERNAME`",
        shown_default=_CHAIN,
    ),
    Setting("region", str, "AWS region", shown_default=_CHAIN, option="--region"),
    Setting("profile", str, "a profile of `~/.aws/config`, instead of keys", shown_default=_CHAIN, option="--profile"),
    Setting(
        "endpoint_url",
        str,
        "the Lambda endpoint (the sandbox, a VPC endpoint)",
        shown_default="AWS's",
        option="--endpoint-url",
    ),
    Setting("log_tail", bool, "ask for the log tail on synchronous calls", True),
    Setting("raise_on_error", bool, "a function error fails the cell", False),
    # Lambda's maximum function timeout is 900 s; waiting longer means a timed-out read is
    # never a function that is merely slow.
    Setting(
        "read_timeout",
        float,
        "seconds to wait for an answer",
        960.0,
        "`960` (Lambda's 900 s maximum plus a margin)",
        positive=True,
        maximum=(3600, "Lambda runs a function for 900 s at most"),
        option="--timeout",
    ),
    Setting(
        "connect_timeout",
        float,
        "seconds to wait for a connection",
        10.0,
        positive=True,
        maximum=(300, "a connection that takes longer will not come"),
    ),
    Setting(
        "throttle_retries",
        int,
        "retries of a throttled or unconnectable call",
        6,
        minimum=0,
        maximum=(100, "more retries only wait longer"),
    ),
    Setting(
        "throttle_max_wait",
        float,
        "seconds spent waiting between those retries at most",
        60.0,
        positive=True,
        maximum=(3600, "an hour of retrying"),
    ),
    Setting(
        "max_concurrency",
        int,
        "calls in flight at once in a fan-out",
        16,
        minimum=1,
        maximum=(1000, "Lambda's default account concurrency is 1,000: more calls in flight are throttled"),
        option="--concurrency",
    ),
    Setting(
        "transport",
        str,
        "how Invoke requests are sent: `lean` (lambda_magic's own signed HTTP, several "
        "times faster in a fan-out) or `botocore` (its client, the fallback)",
        "lean",
    ),
)
SETTINGS: dict[str, Setting] = {setting.name: setting for setting in TABLE}
SETTING_KEYS: tuple[str, ...] = tuple(SETTINGS)
#: Built-in values for settings that nothing else set.
DEFAULTS: dict[str, Any] = {s.name: s.default for s in TABLE if s.default is not None}
#: How a call names a setting, for messages about the option the user typed.
OPTION_NAMES: dict[str, str] = {s.name: s.option for s in TABLE if s.option}
_CREDENTIAL_KEYS = ("access_key", "profile")
_NUMERIC = tuple(s.name for s in TABLE if s.kind in (int, float))


def _shown_default(setting: Setting) -> str:
    if setting.kind is bool:
        return str(setting.default).lower()
    return f"{setting.default:g}" if setting.kind in (int, float) else str(setting.default)


def settings_table() -> str:
    """The README's table of settings (a test keeps the README equal to it)."""
    rows = ["| key | meaning | default |", "|---|---|---|"]
    for s in TABLE:
        default = s.shown_default or f"`{_shown_default(s)}`"
        rows.append(f"| `{s.name}` | {s.meaning} | {default} |")
    return "\n".join(rows)


# botocore's own rule for a region (a host name label: botocore.utils.validate_region_name).
_REGION_RE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")


def range_problem(key: str, value: Any) -> str | None:
    """What is wrong with a numeric setting's value, or None: the one range check."""
    setting = SETTINGS.get(key)
    if value is None or setting is None or setting.maximum is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{key} must be a finite number, not {value}"
    if setting.positive and value <= 0:
        return f"{key} must be a positive number of seconds, not {value:g}"
    if setting.minimum is not None and value < setting.minimum:
        return f"{key} must be at least {setting.minimum:g}, not {value}"
    limit, why = setting.maximum
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


def _trait(setting: Setting) -> Any:
    """The session trait of ``setting``: unset (None) until the session sets it."""
    kind = {bool: Bool, float: Float, int: Int}.get(setting.kind, Unicode)
    shown = setting.shown_default or f"{setting.default}"
    text = setting.meaning.replace("`", "")
    text = f"{text[0].upper()}{text[1:]} (default {shown.replace('`', '')})."
    return kind(None, allow_none=True, help=text).tag(config=True)


class LambdaMagic(SingletonConfigurable):
    """Session settings of lambda_magic (``%config LambdaMagic``); unset traits are None."""

    # One trait per row of TABLE (a class body's namespace is its locals()).
    locals().update({setting.name: _trait(setting) for setting in TABLE})

    @validate(*_NUMERIC, "region", "endpoint_url", "transport")
    def _in_range(self, proposal: Any) -> Any:
        key, value = proposal["trait"].name, proposal["value"]
        if isinstance(value, bool) and key in _NUMERIC:  # traitlets takes True for 1
            raise TraitError(f"{key} must be a number, not {value}")
        problem = text_problem(key, value) if isinstance(value, str) else range_problem(key, value)
        if problem:
            raise TraitError(f"{problem}: {hint(key, 'config')}")
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


def session_settings() -> LambdaMagic:
    """The session layer: one ``LambdaMagic`` per process, shared with ``%config``."""
    return LambdaMagic.instance()


@dataclass(frozen=True)
class Settings:
    """Resolved settings; ``sources`` says which layer gave each value.

    Typed fields for the checker, one per row of ``TABLE`` (a test keeps them equal), with
    the table's defaults.
    """

    access_key: str | None = field(default=None, repr=False)  # key ids stay out of reprs and logs
    secret_key_path: str | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    log_tail: bool = DEFAULTS["log_tail"]
    raise_on_error: bool = DEFAULTS["raise_on_error"]
    read_timeout: float = DEFAULTS["read_timeout"]
    connect_timeout: float = DEFAULTS["connect_timeout"]
    throttle_retries: int = DEFAULTS["throttle_retries"]
    throttle_max_wait: float = DEFAULTS["throttle_max_wait"]
    max_concurrency: int = DEFAULTS["max_concurrency"]
    transport: str = DEFAULTS["transport"]
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


def resolve_settings(**options: Any) -> Settings:
    """Apply the precedence: option > session > project file > user file > default.

    ``options`` are a call's own settings by name (None: not given). A name that is not a
    setting fails here, given or not, as a misspelled keyword argument does.
    """
    unknown = [key for key in options if key not in SETTINGS]
    if unknown:
        raise TypeError(
            f"resolve_settings() got an unexpected keyword argument {unknown[0]!r}; "
            f"settings are {', '.join(SETTING_KEYS)}"
        )
    layers = _layers(options)
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
        raise SettingsError(f"unknown setting {key!r} ({where}): check the spelling; known settings: {known}")


_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def _coerce(key: str, value: Any, where: str) -> Any:
    """Turn text (from a file or ``%lambda_config``) into the setting's type, and check it."""
    setting = SETTINGS.get(key)
    if value is None or setting is None:
        return value
    kind = setting.kind
    try:
        value = _convert(kind, value)
    except (KeyError, TypeError, ValueError, OverflowError):
        name = {bool: "true or false", float: "a number", int: "a whole number", str: "text"}[kind]
        raise _error(where)(
            f"setting {key} = {_shown(key, value)} ({where}) is not {name}: {hint(key, where)}"
        ) from None
    problem = text_problem(key, value) if kind is str else range_problem(key, value)
    if problem:
        advice = "" if kind is str else f": {hint(key, where)}"  # text problems carry their own
        raise _error(where)(f"{problem} ({where}){advice}")
    return value


#: A sensible value of each setting, for the examples in messages.
_EXAMPLES = {
    "read_timeout": "30",
    "connect_timeout": "5",
    "throttle_retries": "3",
    "throttle_max_wait": "60",
    "max_concurrency": "16",
    "log_tail": "true",
    "raise_on_error": "true",
    "region": "eu-west-1",
    "endpoint_url": "http://127.0.0.1:9001",
}


def hint(key: str, where: str) -> str:
    """How to write ``key`` right, where the user wrote it (an option, the session, a file)."""
    value = _EXAMPLES.get(key, "...")
    if where == "option":
        option = f"{OPTION_NAMES[key]} {value} or " if key in OPTION_NAMES else ""
        return f"give e.g. {option}{key}={value}"
    if where == "session":
        return f"write e.g. %lambda_config {key}={value}"
    if where == "config":
        return f"write e.g. %config LambdaMagic.{key} = {value}"
    quoted = value if value in ("true",) or value[0].isdigit() else f'"{value}"'
    return f"write e.g. {key} = {quoted} in {os.path.basename(where)}"


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
    return "'****'" if SETTINGS[key].secret else repr(value)[:60]


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
        detail = " ".join(str(exc).split())
        raise SettingsError(f"cannot read settings file {path} ({detail}): fix it, or move it away") from None
    _TOML_CACHE[path] = (mtime, data)
    return data
