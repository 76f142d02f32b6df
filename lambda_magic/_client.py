"""Building botocore Lambda clients: one per distinct identity, region, endpoint and timeouts.

Clients are cached and reused (a new boto3 session costs ~37 ms, a reused client nothing),
botocore's own retries are switched off (``_engine`` decides what may be retried), and the
connection pool is as large as the concurrency it serves, so urllib3 never opens and
discards extra connections.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from lambda_magic._exceptions import SettingsError
from lambda_magic._secrets import read_secret
from lambda_magic._settings import Settings

__all__ = ["clear_clients", "client_for", "credential_summary", "service_client"]

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}
_sessions: dict[tuple[Any, ...], Any] = {}

USER_AGENT = "lambda-magic/0.1"


def client_for(settings: Settings, *, pool_size: int | None = None) -> Any:
    """The cached botocore Lambda client for these settings (built on first use)."""
    identity, secret = _identity(settings)
    pool = max(10, pool_size or settings.max_concurrency)
    key = (identity, settings.region, settings.endpoint_url, settings.read_timeout,
           settings.connect_timeout, pool)
    with _lock:  # boto3 sessions are not thread-safe while creating clients
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _new_client(_session(identity, secret), settings, pool)
        return client


def clear_clients() -> None:
    """Forget every cached client and session (new credentials are read next time)."""
    with _lock:
        _clients.clear()
        _sessions.clear()


def _identity(settings: Settings) -> tuple[tuple[str, str | None, str | None], str | None]:
    """What distinguishes credentials (a digest, never the secret), and the secret."""
    if settings.access_key:
        if not settings.secret_key_path:
            raise SettingsError(
                "access_key is set but secret_key_path is not: point secret_key_path at a "
                "file, env:VAR or keyring:SERVICE/USERNAME holding the secret key"
            )
        secret = read_secret(settings.secret_key_path)
        digest = hashlib.sha256(f"{settings.access_key}\0{secret}".encode()).hexdigest()
        return ("keys", settings.access_key, digest), secret
    if settings.secret_key_path:
        raise SettingsError(
            "secret_key_path is set but access_key is not: set access_key to the key id"
        )
    return ("profile", settings.profile, None), None


def _session(identity: tuple[str, str | None, str | None], secret: str | None) -> Any:
    session = _sessions.get(identity)
    if session is None:
        session = _sessions[identity] = _new_session(identity, secret)
    return session


def _new_session(identity: tuple[str, str | None, str | None], secret: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        if identity[0] == "keys":
            return boto3.Session(aws_access_key_id=identity[1], aws_secret_access_key=secret)
        return boto3.Session(profile_name=identity[1])
    except ProfileNotFound:
        raise SettingsError(
            f"AWS profile {identity[1]!r} is not in ~/.aws/config or ~/.aws/credentials: "
            "check the name with `aws configure list-profiles`"
        ) from None


def _new_client(session: Any, settings: Settings, pool: int) -> Any:
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = Config(
        read_timeout=settings.read_timeout,
        connect_timeout=settings.connect_timeout,
        retries={"total_max_attempts": 1},  # never re-send: see _engine
        max_pool_connections=pool,
        tcp_keepalive=True,
        user_agent_extra=USER_AGENT,
    )
    try:
        return session.client(
            "lambda", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
        )
    except NoRegionError:
        raise SettingsError(
            "no AWS region: pass --region, run %lambda_config region=us-east-1, or set "
            "AWS_DEFAULT_REGION"
        ) from None
    except ValueError as exc:  # botocore's message for a malformed endpoint URL
        raise SettingsError(f"endpoint_url {settings.endpoint_url!r} is not usable: {exc}") from None


def credential_summary(settings: Settings) -> dict[str, str | None]:
    """Region and credential method the AWS chain would use, without any secret."""
    with _lock:
        session = _session(*_identity(settings))
    credentials = session.get_credentials()
    return {
        "region": settings.region or session.region_name,
        "credentials": None if credentials is None else credentials.method,
    }


def service_client(settings: Settings, service: str) -> Any:
    """The cached client of a helper service (``logs``, ``cloudformation``) for these settings.

    Same identity, region and endpoint as the Lambda client (a sandbox or LocalStack serves
    every service on one endpoint). These calls only read, so botocore's standard retries
    stay on for them.
    """
    identity, secret = _identity(settings)
    key = (service, identity, settings.region, settings.endpoint_url, settings.connect_timeout)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _new_service_client(_session(identity, secret), settings, service)
        return client


def _new_service_client(session: Any, settings: Settings, service: str) -> Any:
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = Config(connect_timeout=settings.connect_timeout, retries={"mode": "standard"},
                    user_agent_extra=USER_AGENT)
    try:
        return session.client(service, region_name=settings.region,
                              endpoint_url=settings.endpoint_url, config=config)
    except NoRegionError:
        raise SettingsError(
            "no AWS region: pass --region, run %lambda_config region=us-east-1, or set "
            "AWS_DEFAULT_REGION"
        ) from None
    except ValueError as exc:
        raise SettingsError(f"endpoint_url {settings.endpoint_url!r} is not usable: {exc}") from None
