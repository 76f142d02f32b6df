"""The Lambda API on 127.0.0.1: Invoke and the read-only control plane, for unmodified boto3.

Errors are answered the way Lambda answers them, which is what botocore's rest-json parser
reads: the error code in the ``x-amzn-ErrorType`` header, ``{"Type": "User", "message": ...}``
in the body, the modeled status; so ``client.exceptions.ResourceNotFoundException`` and its
siblings are raised on the client side.

Every request passes one gate first (``_gate.refusal``: SigV4-signed, loopback ``Host``, no
``Origin``), then one dispatch point (``_ApiHandler._route``: method + path -> handler); an
API added to the sandbox adds a branch there and inherits the gate.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import socket
import socketserver
import sys
import threading
import uuid
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lambda_magic.sandbox import _control_plane as cp
from lambda_magic.sandbox._errors import ApiError, invalid_parameter, not_found
from lambda_magic.sandbox._gate import refusal
from lambda_magic.sandbox._http import BadBody, LeanHandler
from lambda_magic.sandbox._invocation import MAX_SYNC_PAYLOAD, Invocation
from lambda_magic.sandbox._invoker import Invoker
from lambda_magic.sandbox._logs import tail_b64
from lambda_magic.sandbox._logs_api import TARGET_PREFIX, LogStore, handle_logs_request
from lambda_magic.sandbox._registry import Registry, Resolved
from lambda_magic.sandbox._schemas_api import SchemaRegistries, handle_schemas_request
from lambda_magic.sandbox._stacks_api import StackSet, handle_stacks_request
from lambda_magic.sandbox._streaming import PATH_PREFIX as _STREAM_PREFIX
from lambda_magic.sandbox._streaming import stream_answer

__all__ = ["ApiServer"]

_log = logging.getLogger("lambda_magic.sandbox")
MAX_EVENT_PAYLOAD = 1024 * 1024
MAX_CLIENT_CONTEXT = 3583  # bytes, after base64 encoding
# Bodies up to this size are read (and refused if too large) so the connection stays usable.
_READ_LIMIT = 64 * 1024 * 1024
_PREFIX = "2015-03-31"
_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
_STREAM_TYPES = ("RequestResponse", "DryRun")  # InvokeWithResponseStream has no Event
# A client that sends nothing for this long is dropped: idle or half-open connections must
# not hold a server thread each for ever.
SOCKET_TIMEOUT = 60.0


class ApiServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server for the Lambda API, bound to 127.0.0.1."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        port: int,
        registry: Registry,
        invoker: Invoker,
        *,
        stacks: StackSet | None = None,
        log_store: LogStore | None = None,
    ) -> None:
        self.registry = registry
        self.invoker = invoker
        self.stacks = stacks or StackSet()
        self.log_store = log_store or LogStore()
        self.schemas = SchemaRegistries()  # shareable test events (``_schemas_api``)
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _ApiHandler)
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="lambda-sandbox-api", daemon=True
        )

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves the host's FQDN, which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and drop keep-alive connections."""
        self.shutdown()
        self.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints every dropped connection to stderr; only real faults matter.
        if not isinstance(sys.exc_info()[1], OSError):
            _log.exception("sandbox error serving %s", client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)


class _ApiHandler(LeanHandler):
    server: ApiServer  # type: ignore[assignment]
    timeout = SOCKET_TIMEOUT  # StreamRequestHandler.setup() applies it to the socket

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        request_id = str(uuid.uuid4())
        try:
            self._admit(method)
            self._route(method, request_id)
        except BadBody as err:
            code = "InvalidRequestContentException" if err.status == 400 else "LengthRequired"
            headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
            self.send_json(err.status, {"Type": "User", "message": str(err)}, headers)
        except OSError:  # the client went away (or the sandbox is stopping): nobody to answer
            self.close_connection = True
        except ApiError as err:
            headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": err.code, **err.headers}
            self.send_json(err.status, err.body(), headers)
        except Exception as err:  # a sandbox bug: answer like a Lambda service error
            _log.exception("sandbox error on %s %s", method, self.path)
            headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "ServiceException"}
            self.send_json(500, {"Type": "Service", "Message": f"sandbox error: {err}"}, headers)

    def _admit(self, method: str) -> None:
        """Refuse (403, one log line) what the gate refuses, without reading its body."""
        error = refusal(self.headers)
        if error is not None:
            self.close_connection = True
            _log.warning(
                "sandbox refused %s %s from %s: %s", method, self.path[:200], self.client_address[0], error.message
            )
            raise error

    def _route(self, method: str, request_id: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(part) for part in url.path.strip("/").split("/")]
        query = dict(parse_qsl(url.query))
        if method == "POST" and url.path in ("", "/"):
            self._service(request_id)
            return
        if (
            method == "POST"
            and len(parts) == 4
            and parts[:2] == [_STREAM_PREFIX, "functions"]
            and parts[3] == "response-streaming-invocations"
        ):
            self._invoke(parts[2], query.get("Qualifier"), request_id, stream=True)
            return
        if parts[0] == "v1":  # the EventBridge schema registry (shareable test events)
            self._schemas(method, parts[1:], query, request_id)
            return
        if len(parts) < 2 or parts[:2] != [_PREFIX, "functions"]:
            self._unknown(method)
            return
        rest = parts[2:]
        if method == "POST" and len(rest) == 2 and rest[1] == "invocations":
            self._invoke(rest[0], query.get("Qualifier"), request_id)
        elif method == "GET":
            self.send_json(200, self._read(rest, query), {"x-amzn-RequestId": request_id})
        else:
            self._unknown(method)

    def _service(self, request_id: str) -> None:
        """CloudFormation (query protocol) and CloudWatch Logs (JSON protocol) on ``/``."""
        body = self.read_body(_READ_LIMIT) or b""
        target = self.headers.get("X-Amz-Target") or ""
        headers = {"x-amzn-RequestId": request_id}
        if target.startswith(TARGET_PREFIX):
            status, data = handle_logs_request(self.server.log_store, target, body)
            self.send(status, json.dumps(data).encode(), headers, "application/x-amz-json-1.1")
        else:
            status, xml = handle_stacks_request(self.server.stacks, body, request_id)
            self.send(status, xml, headers, "text/xml")

    def _schemas(self, method: str, parts: list[str], query: dict[str, str], request_id: str) -> None:
        body = self.read_body(_READ_LIMIT) or b""
        status, data = handle_schemas_request(self.server.schemas, method, parts, query, body)
        headers = {"x-amzn-RequestId": request_id}
        if status >= 400 and data is not None:
            headers["x-amzn-ErrorType"] = data["Code"]
        self.send(status, b"" if data is None else json.dumps(data).encode(), headers)

    def _unknown(self, method: str) -> None:
        self.read_body(_READ_LIMIT)
        raise ApiError(
            "UnknownOperationException",
            404,
            f"The sandbox does not implement {method} {urlsplit(self.path).path}: "
            "it serves Invoke and the read-only control plane.",
        )

    def _read(self, rest: list[str], query: dict[str, str]) -> dict[str, Any]:
        """The read-only control plane."""
        registry = self.server.registry
        if not rest or rest == [""]:
            return cp.list_functions(registry, query)
        function, qualifier = registry.find(rest[0], query.get("Qualifier"))
        tail = rest[1:]
        if not tail or tail == ["configuration"]:
            version = registry.version_of(function, qualifier)
            if not tail:
                return cp.get_function(function, version, qualifier)
            return cp.function_configuration(version, qualified=bool(qualifier))
        if tail == ["versions"]:
            return cp.list_versions(function, query)
        if tail == ["aliases"]:
            return cp.list_aliases(function, query)
        if len(tail) == 2 and tail[0] == "aliases":
            alias = function.aliases.get(tail[1])
            if alias is None:
                raise not_found(f"Cannot find alias arn: {registry.arn(function.name, tail[1])}")
            return cp.alias_configuration(alias)
        self._unknown("GET")
        raise AssertionError("unreachable")

    def _invoke(self, target: str, qualifier: str | None, request_id: str, *, stream: bool = False) -> None:
        """Invoke: RequestResponse (200), Event (202) or DryRun (204); InvokeWithResponseStream
        with ``stream`` (RequestResponse or DryRun)."""
        kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        kinds = _STREAM_TYPES if stream else _INVOCATION_TYPES
        if kind not in kinds:
            self.read_body(_READ_LIMIT)
            raise invalid_parameter(f"InvocationType must be one of {', '.join(kinds)}")
        body = _checked_size(self.read_body(_READ_LIMIT), kind)
        resolved = self.server.registry.resolve(target, qualifier)
        payload = _checked_json(body)
        headers = {"x-amzn-RequestId": request_id}
        if kind == "DryRun":
            self.send(204, b"", headers)
            return
        invocation = Invocation(
            payload,
            invoked_arn=resolved.invoked_arn,
            timeout=resolved.version.timeout,
            request_id=request_id,
            tenant_id=self.headers.get("X-Amz-Tenant-Id"),
        )
        if kind == "Event":  # ClientContext only ever reaches synchronous invocations
            self.server.invoker.submit_event(resolved, invocation)
            self.send(202, b"", headers)
            return
        invocation.client_context = _client_context(self.headers.get("X-Amz-Client-Context"))
        if stream:
            tail = (self.headers.get("X-Amz-Log-Type") or "").lower() == "tail"
            stream_answer(self, self.server.invoker, resolved, invocation, headers, tail=tail)
            return
        self._answer(resolved, invocation, headers)

    def _answer(self, resolved: Resolved, invocation: Invocation, headers: dict[str, str]) -> None:
        outcome = self.server.invoker.invoke(resolved, invocation)
        headers["X-Amz-Executed-Version"] = outcome.executed_version
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = outcome.function_error
        if (self.headers.get("X-Amz-Log-Type") or "").lower() == "tail":
            headers["X-Amz-Log-Result"] = tail_b64(outcome.log)
        self.send(200, outcome.payload, headers)


def _checked_size(body: bytes | None, kind: str) -> bytes:
    """The body, unless it exceeds the limit of its invocation type (413)."""
    limit = MAX_EVENT_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
    if body is None or len(body) > limit:
        operation = "InvokeAsync" if kind == "Event" else "Invoke"
        raise ApiError(
            "RequestTooLargeException", 413, f"Request must be smaller than {limit} bytes for the {operation} operation"
        )
    return body


def _checked_json(body: bytes) -> bytes:
    """The payload as the handler receives it; an empty one is ``{}``, as in Lambda."""
    if not body.strip():
        return b"{}"
    try:
        json.loads(body)
    except ValueError as err:
        raise ApiError(
            "InvalidRequestContentException", 400, f"Could not parse request body into json: {err}"
        ) from None
    return body


def _client_context(header: str | None) -> str | None:
    """The JSON text of ``X-Amz-Client-Context`` (base64 JSON object on the wire)."""
    if not header:
        return None
    if len(header) > MAX_CLIENT_CONTEXT:
        raise invalid_parameter(f"Client context must be at most {MAX_CLIENT_CONTEXT} bytes after base64 encoding.")
    try:
        text = base64.b64decode(header, validate=True).decode("utf-8")
        valid = isinstance(json.loads(text), dict)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        valid = False
    if not valid:
        raise invalid_parameter("Client context must be a valid Base64-encoded JSON object.")
    return text
