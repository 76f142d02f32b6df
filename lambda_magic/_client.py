"""Building botocore Lambda clients: one per distinct identity, region, endpoint and timeouts.

Clients are cached and reused (a new boto3 session costs ~37 ms, a reused client nothing),
botocore's own retries are switched off (``_engine`` decides what may be retried), and the
connection pool is as large as the concurrency it serves, so urllib3 never opens and
discards extra connections.

Credentials follow the user: the cache key holds everything that decides who signs and
where, checked on every call at the cost of a few ``os.environ`` look-ups and ``stat``
calls (no file is read): the explicit settings, the environment variables botocore reads,
and the identity (inode, size, mtime) of the AWS config and credentials files and of a
secret key file. Export new keys, switch ``AWS_PROFILE`` or rotate ``~/.aws/credentials``
and the next call is signed by the new identity. Refreshable credentials (SSO, assume-role,
process) live in the cached session and refresh as botocore refreshes them. A client whose
credentials failed is dropped (``forget_client``), so a failure is never cached.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from lambda_magic._exceptions import SettingsError
from lambda_magic._secrets import read_secret, secret_stamp
from lambda_magic._settings import Settings

__all__ = [
    "AWS_VARIABLES",
    "check_identity",
    "clear_clients",
    "client_for",
    "credential_summary",
    "forget_client",
    "invoker_for",
    "service_client",
]

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}
_sessions: dict[tuple[Any, ...], Any] = {}
#: Old identities' clients are dropped beyond this many (switching back costs one rebuild).
_MAX_CLIENTS = 32

USER_AGENT = "lambda-magic/0.1"

#: The environment variables botocore reads to decide the credentials, region and endpoint
#: (botocore/configprovider.py, botocore/credentials.py).
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_CA_BUNDLE",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_SDK_UA_APP_ID",
)


def client_for(settings: Settings, *, pool_size: int | None = None) -> Any:
    """The cached botocore Lambda client for these settings and the current AWS environment."""
    source = credential_source(settings)
    with _lock:  # boto3 sessions are not thread-safe while creating clients
        return _cached_client(source, settings, pool_size)


def _cached_client(source: tuple[Any, ...], settings: Settings, pool_size: int | None) -> Any:
    pool = max(10, pool_size or settings.max_concurrency)
    key = (source, settings.region, settings.endpoint_url, settings.read_timeout, settings.connect_timeout, pool)
    client = _clients.get(key)
    if client is None:
        client = _new_client(_session(source, settings), settings, pool)
        _remember(key, client)
    return client


def _remember(key: tuple[Any, ...], client: Any) -> None:
    if len(_clients) >= _MAX_CLIENTS:
        _close(_clients.pop(next(iter(_clients))))
    _clients[key] = client


def _close(client: Any) -> None:
    from lambda_magic._transport import LeanTransport

    if isinstance(client, LeanTransport):  # its idle sockets; a botocore client closes its own
        client.close()


def _mocked_botocore() -> bool:
    """Whether moto's in-process mock (``mock_aws``) is on: it answers only requests made
    through botocore, so Invoke must go that way too (never imported just to ask)."""
    models = sys.modules.get("moto.core.models")
    return bool(getattr(getattr(models, "botocore_stubber", None), "enabled", False))


def invoker_for(settings: Settings, *, pool_size: int | None = None) -> Any:
    """What sends Invoke for these settings: the lean transport, or botocore's client.

    The lean transport (``_transport``) is the default; ``transport = "botocore"`` (or an
    HTTP proxy configured for the endpoint, which only botocore honours) gives the client of
    ``client_for``. Both answer ``invoke(**params)`` alike and have ``meta.region_name``.
    """
    if settings.transport == "botocore" or _mocked_botocore():
        return client_for(settings, pool_size=pool_size)
    source = credential_source(settings)
    pool = max(1, pool_size or settings.max_concurrency)
    key = (
        source,
        settings.region,
        settings.endpoint_url,
        settings.read_timeout,
        settings.connect_timeout,
        pool,
        "lean",
    )
    with _lock:
        invoker = _clients.get(key)
        if invoker is None:
            session = _session(source, settings)
            client = _new_client(session, settings, 10)  # private: metadata and the User-Agent only
            proxied = _proxied(client.meta.endpoint_url)
            invoker = _cached_client(source, settings, pool_size) if proxied else _lean(session, client, settings, pool)
            _remember(key, invoker)
        return invoker


def _lean(session: Any, client: Any, settings: Settings, pool: int) -> Any:
    from lambda_magic._transport import LeanTransport

    return LeanTransport(
        client,
        credentials=session.get_credentials,
        pool_size=pool,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        ssl_context=_ssl_context(session) if client.meta.endpoint_url.startswith("https") else None,
    )


def _ssl_context(session: Any) -> Any:
    """Certificate checks as botocore makes them: AWS_CA_BUNDLE / ca_bundle, else certifi's bundle."""
    import ssl

    from botocore.httpsession import get_cert_path

    bundle = session._session.get_config_variable("ca_bundle") or get_cert_path(True)
    return ssl.create_default_context(cafile=bundle)


def _proxied(endpoint_url: str) -> bool:
    """Whether an HTTP(S)_PROXY applies to the endpoint (botocore honours it; the lean transport does not)."""
    from urllib.parse import urlsplit
    from urllib.request import getproxies, proxy_bypass

    url = urlsplit(endpoint_url)
    return url.scheme in getproxies() and not proxy_bypass(url.hostname or "")


def clear_clients() -> None:
    """Forget every cached client and session (new credentials are read next time)."""
    with _lock:
        for client in _clients.values():
            _close(client)
        _clients.clear()
        _sessions.clear()


def forget_client(client: Any) -> None:
    """Drop ``client`` and its session from the caches: its credentials failed."""
    with _lock:
        for key in [key for key, value in _clients.items() if value is client]:
            del _clients[key]
            _sessions.pop(key[0], None)


def credential_source(settings: Settings) -> tuple[Any, ...]:
    """What decides who signs: the settings' identity and a digest of the AWS environment.

    Cheap by design (it runs on every call): environment look-ups and ``stat`` calls, no
    file read, and never a secret in the result, only digests.
    """
    if settings.access_key:
        if not settings.secret_key_path:
            raise SettingsError(
                "access_key is set but secret_key_path is not: point secret_key_path at a "
                "file, env:VAR or keyring:SERVICE/USERNAME holding the secret key"
            )
        identity: tuple[str, str | None, str | None] = (
            "keys",
            settings.access_key,
            secret_stamp(settings.secret_key_path),
        )
    elif settings.secret_key_path:
        raise SettingsError("secret_key_path is set but access_key is not: set access_key to the key id")
    else:
        identity = ("profile", settings.profile, None)
    return (*identity, _environment_digest())


_NAMES = (*AWS_VARIABLES, "HOME")
#: The variables as keys of ``os.environ``'s own table: ``os.environ.get`` costs ~0.6 us a
#: name in Python code, a look-up here ~0.03 us, and this runs for every call.
_ENVIRON_KEYS = tuple(os.environ.encodekey(name) for name in _NAMES)  # type: ignore[attr-defined]
_FILES = ((_NAMES.index("AWS_CONFIG_FILE"), "config"), (_NAMES.index("AWS_SHARED_CREDENTIALS_FILE"), "credentials"))


def _environment_digest() -> int:
    """A digest of the AWS environment: its variables and the config files' identities."""
    data = getattr(os.environ, "_data", None)
    if data is None:  # pragma: no cover - not CPython's os.environ
        values: tuple[Any, ...] = tuple(os.environ.get(name) for name in _NAMES)
    else:  # raw values (bytes on POSIX): only the paths are decoded
        values = tuple(map(data.get, _ENVIRON_KEYS))
    home = os.fsdecode(values[-1]) if values[-1] else os.path.expanduser("~")
    files = tuple(
        _file_stamp(os.fsdecode(values[at]) if values[at] else os.path.join(home, ".aws", default))
        for at, default in _FILES
    )
    # Python's keyed hash: the cache key must not hold the secret key the environment may carry.
    return hash((values, files))


def _file_stamp(path: str) -> tuple[int, ...]:
    """A file's identity: device, inode, size, modification and change times (one stat)."""
    try:
        info = os.stat(os.path.expanduser(path) if path.startswith("~") else path)
    except OSError:
        return ()
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _session(source: tuple[Any, ...], settings: Settings) -> Any:
    session = _sessions.get(source)
    if session is None:
        session = _new_session(source, settings)
        if len(_sessions) >= _MAX_CLIENTS:
            _sessions.pop(next(iter(_sessions)))
        _sessions[source] = session
    return session


def _new_session(source: tuple[Any, ...], settings: Settings) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    from lambda_magic._engine import CLIENT_SETUP, map_error

    try:
        if source[0] == "keys":
            secret = read_secret(settings.secret_key_path or "")
            return boto3.Session(aws_access_key_id=source[1], aws_secret_access_key=secret)
        return boto3.Session(profile_name=source[1])
    except ProfileNotFound as exc:
        raise map_error(exc, operation=CLIENT_SETUP) from None


def _new_client(session: Any, settings: Settings, pool: int) -> Any:
    from botocore.config import Config

    config = Config(
        read_timeout=settings.read_timeout,
        connect_timeout=settings.connect_timeout,
        retries={"total_max_attempts": 1},  # never re-send: see _engine
        max_pool_connections=pool,
        tcp_keepalive=True,
        user_agent_extra=USER_AGENT,
    )
    return _build(session, "lambda", settings, config)


def _build(session: Any, service: str, settings: Settings, config: Any) -> Any:
    from botocore.exceptions import NoRegionError

    from lambda_magic._engine import CLIENT_SETUP, CallContext, map_error

    try:
        return session.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url, config=config)
    except (NoRegionError, ValueError) as exc:  # ValueError: botocore's word for a malformed URL
        context = CallContext(endpoint_url=settings.endpoint_url)
        raise map_error(exc, operation=CLIENT_SETUP, context=context) from None


def check_identity(settings: Settings) -> None:
    """Build (and keep) the session for these settings: an unknown profile or an unreadable
    secret is refused here, before anything is sent. No request is made."""
    source = credential_source(settings)
    with _lock:
        _session(source, settings)


def credential_summary(settings: Settings) -> dict[str, str | None]:
    """Region and credential method the AWS chain would use, without any secret."""
    source = credential_source(settings)
    with _lock:
        session = _session(source, settings)
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
    from botocore.config import Config

    source = credential_source(settings)
    key = (service, source, settings.region, settings.endpoint_url, settings.connect_timeout)
    with _lock:
        client = _clients.get(key)
        if client is None:
            config = Config(
                connect_timeout=settings.connect_timeout, retries={"mode": "standard"}, user_agent_extra=USER_AGENT
            )
            client = _clients[key] = _build(_session(source, settings), service, settings, config)
        return client
