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
        ("effective region", summary["region"] or "none", "AWS chain" if not
         settings.region else "settings"),
        ("credentials", summary["credentials"] or "none found", "boto3 credential method"),
    ]


def apply_config_line(line: str) -> None:
    """Apply ``key=value ...`` (an empty value unsets) or ``--reset`` to the session."""
    session = session_settings()
    words = line.split()
    if words == ["--reset"]:
        session.clear()
        _forget_clients()
        return
    changes: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in SETTING_KEYS:
            raise SettingsError(
                f"{word!r} is not key=value with a known key; known: {', '.join(SETTING_KEYS)}"
            )
        changes[key] = value
    unset = [key for key, value in changes.items() if value == ""]
    if unset:  # clear() without keys would unset every setting
        session.clear(*unset)
    session.update(**{key: value for key, value in changes.items() if value != ""})
    _forget_clients()


def _forget_clients() -> None:
    # New credentials or a new secret must be read the next time a client is built.
    from lambda_magic import _client

    _client.clear_clients()
