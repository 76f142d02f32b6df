"""``%lambda_config``: the effective settings as a table, and ``key=value`` changes."""

from __future__ import annotations

from lambda_magic._exceptions import LambdaMagicError, SettingsError
from lambda_magic._settings import SETTING_KEYS, Settings, resolve_settings, session_settings

__all__ = ["apply_config_line", "mask", "settings_table"]


def mask(value: str) -> str:
    """Show only the ends of an access key id (AKIA****WXYZ)."""
    return value[:4] + "****" + value[-4:] if len(value) > 10 else "****"


def settings_table() -> str:
    """Each setting, its effective value and where it came from; no secret shown."""
    settings = resolve_settings()
    rows = []
    for key in SETTING_KEYS:
        value = getattr(settings, key)
        source = settings.sources.get(key, "not set")
        if value is not None and key == "access_key":
            value = mask(value)
        rows.append((key, "-" if value is None else str(value), source))
    rows.extend(_chain_rows(settings))
    width = max(len(key) for key, _, _ in rows)
    vwidth = max(len(value) for _, value, _ in rows)
    return "\n".join(f"{key:<{width}}  {value:<{vwidth}}  ({source})" for key, value, source in rows)


def _chain_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """What the AWS chain fills in where the settings say nothing."""
    from lambda_magic._client import credential_summary

    try:
        summary = credential_summary(settings)
    except LambdaMagicError as exc:
        return [("credentials", "unusable", str(exc))]
    return [
        ("effective region", summary["region"] or "none", "AWS chain" if not settings.region else "settings"),
        ("credentials", summary["credentials"] or "none found", "boto3 credential method"),
    ]


def apply_config_line(line: str) -> None:
    """Apply ``key=value ...`` (shell quoting; an empty value unsets) or ``--reset [KEY...]``."""
    session = session_settings()
    words = _words(line)
    if words and words[0] == "--reset":
        session.clear(*_reset_keys(words[1:]))
        _forget_clients()
        return
    changes: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in SETTING_KEYS:
            shown = word if not key.startswith("access_key") else "access_key..."
            raise SettingsError(
                f"{shown!r} is not key=value with a known key: write e.g. region=eu-west-1; "
                f"known: {', '.join(SETTING_KEYS)}"
            )
        changes[key] = value
    unset = [key for key, value in changes.items() if value == ""]
    if unset:  # clear() without keys would unset every setting
        session.clear(*unset)
    session.update(**{key: value for key, value in changes.items() if value != ""})
    _forget_clients()


def _words(line: str) -> list[str]:
    """The line split like a shell would (quotes removed), as every other magic reads it."""
    from IPython.utils.process import arg_split

    try:
        return list(arg_split(line, posix=True))
    except ValueError as exc:
        raise SettingsError(f"cannot parse the line ({exc}): check its quotes") from None


def _reset_keys(keys: list[str]) -> list[str]:
    for key in keys:
        if key not in SETTING_KEYS:
            hint = (
                f"--reset takes setting names, not key=value: %lambda_config --reset {key.partition('=')[0]}"
                if "=" in key
                else f"unknown setting {key!r}: check the spelling; known: {', '.join(SETTING_KEYS)}"
            )
            raise SettingsError(hint)
    return keys


def _forget_clients() -> None:
    # New credentials or a new secret must be read the next time a client is built.
    from lambda_magic import _client

    _client.clear_clients()
