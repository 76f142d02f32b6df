"""The Python API, and ``execute``: the single path every invocation takes.

The magic, the form and ``invoke()`` all build an ``InvokeRequest`` and hand it to
``execute`` with resolved ``Settings``; there is no second code path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lambda_magic._engine import CallContext, RetryHook, RetryPolicy
from lambda_magic._exceptions import CredentialsError, LambdaMagicError, SettingsError
from lambda_magic._payload import encode_payload
from lambda_magic._request import InvokeRequest, make_request
from lambda_magic._response import LambdaResponse
from lambda_magic._settings import Settings, resolve_settings
from lambda_magic.runbook._history import CellMark, history

__all__ = ["execute", "invoke", "policy_for"]


def invoke(
    function: str,
    payload: Any = None,
    *,
    invocation_type: str = "RequestResponse",
    qualifier: str | None = None,
    client_context: Any = None,
    log: bool | None = None,
    tenant_id: str | None = None,
    durable_execution_name: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    read_timeout: float | None = None,
    raise_on_error: bool | None = None,
    stack_name: str | None = None,
    stream: bool = False,
    on_chunk: Callable[[bytes], None] | None = None,
) -> LambdaResponse:
    """Invoke a Lambda function once and return its ``LambdaResponse``.

    ``payload`` is any JSON-encodable value; a ``str`` is taken as JSON text and ``bytes``
    are sent as they are. ``invocation_type`` is RequestResponse (also "request"), Event or
    DryRun. ``client_context`` is a dict (or JSON text) the handler sees as
    ``context.client_context``. Settings not given here come from the session, the project
    and user files, then the AWS chain. A function error is returned in the response unless
    ``raise_on_error`` (or the setting) is true, which raises ``FunctionError``.
    ``function`` may be ``STACK/LogicalId`` (or a logical id with ``stack_name``): it is
    looked up once in CloudFormation (``DescribeStackResource``). ``stream=True`` calls
    InvokeWithResponseStream: ``on_chunk`` receives each chunk's bytes as it arrives, and
    the response has them in ``chunks`` (``payload`` decodes them joined).
    """
    from lambda_magic._stacks import physical_name

    settings = resolve_settings(
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        read_timeout=read_timeout,
        raise_on_error=raise_on_error,
    )
    payload_bytes = encode_payload(payload)
    function, logical_id = physical_name(function, settings, stack_name=stack_name)
    request = make_request(
        function,
        payload_bytes,
        logical_id=logical_id,
        invocation_type=invocation_type,
        qualifier=qualifier,
        client_context=client_context,
        log=settings.log_tail if log is None else log,
        tenant_id=tenant_id,
        durable_execution_name=durable_execution_name,
        stream=stream,
    )
    response = execute(request, settings, on_chunk=on_chunk)
    if settings.raise_on_error:
        response.raise_for_error()
    return response


def policy_for(settings: Settings) -> RetryPolicy:
    """The retry policy the settings ask for."""
    return RetryPolicy(retries=settings.throttle_retries, max_wait=settings.throttle_max_wait)


def execute(
    request: InvokeRequest,
    settings: Settings,
    *,
    origin: str = "api",
    cell: str | None = None,
    client: Any = None,
    retry: RetryHook | None = None,
    on_chunk: Callable[[bytes], None] | None = None,
    started_in: CellMark | None = None,
    cancel: threading.Event | None = None,
) -> LambdaResponse:
    """Send ``request`` under ``settings`` and record it in the history.

    A function error is not raised here: callers decide (``--raise``, ``raise_on_error``).
    ``retry`` replaces the wait before a retry (the fan-out uses it to pace concurrency).
    ``on_chunk`` receives a streamed response's chunks as they arrive. ``started_in`` is the
    cell the call belongs to when it may finish after that cell. ``cancel`` stops the call
    like Ctrl-C once set (the form, off the main thread).
    """
    from lambda_magic._client import client_for, forget_client, invoker_for
    from lambda_magic._engine import invoke as engine_invoke

    # The lean transport sends Invoke only; a streamed call goes through botocore's client.
    client = client or (client_for(settings) if request.stream else invoker_for(settings))
    context = CallContext(
        region=client.meta.region_name,
        read_timeout=settings.read_timeout,
        endpoint_url=getattr(client.meta, "endpoint_url", None),
    )
    where: dict[str, Any] = {
        "origin": origin,
        "cell": cell,
        "region": context.region,
        "endpoint_url": settings.endpoint_url,
        "started_in": started_in,
    }
    try:
        response = engine_invoke(
            client, request, policy=policy_for(settings), context=context, retry=retry, on_chunk=on_chunk, cancel=cancel
        )
    except LambdaMagicError as error:
        if isinstance(error, (SettingsError, CredentialsError)):
            forget_client(client)  # a failed credential resolution is never cached
        history.record(request, error=error, **where)
        raise
    history.record(request, response=response, **where)
    return response
