"""lambda_magic: invoke existing AWS Lambda functions from Jupyter and IPython.

``%load_ext lambda_magic`` registers the magics; the same engine is available as
``lambda_magic.invoke(...)``. Loading stays cheap: boto3 and ipywidgets are imported on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambda_magic._exceptions import (
    AccessDeniedError,
    CredentialsError,
    EndpointUnreachableError,
    FunctionError,
    FunctionNotFoundError,
    InterruptedInvocationError,
    InvalidRequestError,
    InvocationUnknownError,
    InvokeError,
    LambdaMagicError,
    ParameterError,
    PayloadError,
    RequestError,
    RequestTooLargeError,
    SettingsError,
    ThrottledError,
)
from lambda_magic._settings import LambdaMagic, Settings, resolve_settings, session_settings
from lambda_magic.runbook._history import History, HistoryEntry, history

if TYPE_CHECKING:
    from lambda_magic._invoke import execute, invoke
    from lambda_magic._request import InvokeRequest, make_request
    from lambda_magic._response import FunctionErrorInfo, LambdaResponse, Report

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "CredentialsError",
    "EndpointUnreachableError",
    "ExportError",
    "FailedInvocation",
    "FakeLambda",
    "FunctionError",
    "FunctionErrorInfo",
    "FunctionNotFoundError",
    "History",
    "HistoryEntry",
    "HistoryError",
    "InterruptedInvocationError",
    "InvalidRequestError",
    "InvocationUnknownError",
    "InvokeError",
    "InvokeRequest",
    "LambdaForm",
    "LambdaMagic",
    "LambdaMagicError",
    "LambdaResponse",
    "LambdaResponses",
    "ParameterError",
    "PayloadError",
    "Report",
    "RequestError",
    "RequestTooLargeError",
    "Settings",
    "SettingsError",
    "ThrottledError",
    "execute",
    "export",
    "form",
    "history",
    "invoke",
    "invoke_many",
    "load_ipython_extension",
    "make_request",
    "resolve_settings",
    "session_settings",
    "unload_ipython_extension",
]


#: Public names whose modules are imported on first use (they pull in ipywidgets, tqdm...).
_LAZY: dict[str, str] = {
    # The engine, requests and responses: %load_ext needs none of them (~5 ms of dataclasses
    # and regular expressions that loading would otherwise pay).
    "FunctionErrorInfo": "lambda_magic._response",
    "InvokeRequest": "lambda_magic._request",
    "LambdaResponse": "lambda_magic._response",
    "Report": "lambda_magic._response",
    "execute": "lambda_magic._invoke",
    "invoke": "lambda_magic._invoke",
    "make_request": "lambda_magic._request",
    "ExportError": "lambda_magic.runbook._export",
    "HistoryError": "lambda_magic.runbook._history",
    "export": "lambda_magic.runbook._export",
    "FailedInvocation": "lambda_magic._fanout_results",
    "FakeLambda": "lambda_magic.testing",
    "LambdaResponses": "lambda_magic._fanout_results",
    "invoke_many": "lambda_magic._fanout",
    "LambdaForm": "lambda_magic._form",
    "form": "lambda_magic._form",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_magic' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and the ``LambdaMagic`` settings (``%load_ext lambda_magic``)."""
    from lambda_magic._extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics again (``%unload_ext lambda_magic``)."""
    from lambda_magic._extension import unload

    unload(ipython)
