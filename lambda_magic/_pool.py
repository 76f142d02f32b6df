"""``ConnectionPool``: keep-alive HTTP/1.1 connections to one endpoint, for the lean transport.

A LIFO of idle sockets, as many as the fan-out has workers (so none is opened and thrown
away, the waste urllib3 logs as "Connection pool is full"), shared by every thread with no
lock: ``deque.append`` and ``pop`` are atomic. A request goes out in one ``sendall`` (head
and body); the answer is read by ``http.client.HTTPResponse`` (status line, headers,
Content-Length or chunked body, keep-alive). An idle socket the server has closed is noticed
before it is used (readable while idle means closed), so a stale connection is never the
reason a call fails.

Failures are raised as the botocore exceptions urllib3's failures become in botocore
(``botocore.httpsession``), so ``_engine.map_error`` treats both transports alike:
refused or unresolvable -> ``EndpointConnectionError`` (nothing was sent), connect timeout
-> ``ConnectTimeoutError``, read timeout -> ``ReadTimeoutError``, a connection closed or
reset once the request was written -> ``ConnectionClosedError``, a body cut short ->
``ResponseStreamingError``. Nothing is retried here.
"""

from __future__ import annotations

import http.client
import socket
from collections import deque
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Idle keep-alive connections to ``endpoint_url``, at most ``size`` of them."""

    def __init__(self, endpoint_url: str, *, size: int, connect_timeout: float, read_timeout: float,
                 ssl_context: Any = None) -> None:
        url = urlsplit(endpoint_url)
        self.endpoint_url = endpoint_url
        self.https = url.scheme == "https"
        self.hostname = url.hostname or ""
        self.port = url.port or (443 if self.https else 80)
        self.host_header = _host_header(endpoint_url)
        self.size = size
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.ssl_context = ssl_context
        self._idle: deque[socket.socket] = deque()
        self._wait_for_read: Any = None
        #: Connections opened so far (a pool that is large enough opens each only once).
        self.opened = 0

    def exchange(self, head: bytes, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one request, read its whole answer: status, headers (lower-case names), body."""
        sock = self._take()
        try:
            _send(sock, head, body, self.endpoint_url)
            response = http.client.HTTPResponse(sock, method="POST")
            status, headers = self._begin(response)
            data = self._read(response)
        except BaseException:
            sock.close()  # a half-used connection is never reused
            raise
        if response.will_close or len(self._idle) >= self.size:
            sock.close()
        else:
            self._idle.append(sock)
        return status, headers, data

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()

    def _take(self) -> socket.socket:
        while self._idle:
            try:
                sock = self._idle.pop()
            except IndexError:  # another thread took the last one
                break
            if not self._closed_by_peer(sock):
                return sock
            sock.close()
        return self._connect()

    def _closed_by_peer(self, sock: socket.socket) -> bool:
        if self._wait_for_read is None:
            from urllib3.util.wait import wait_for_read

            self._wait_for_read = wait_for_read
        return bool(self._wait_for_read(sock, timeout=0.0))

    def _connect(self) -> socket.socket:
        from botocore import exceptions as bx

        try:
            sock = socket.create_connection((self.hostname, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise bx.ConnectTimeoutError(endpoint_url=self.endpoint_url, error=exc) from exc
        except OSError as exc:  # refused, unreachable, unresolvable: nothing was sent
            raise bx.EndpointConnectionError(endpoint_url=self.endpoint_url, error=exc) from exc
        self.opened += 1  # under the GIL; exact enough for a diagnostic
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if self.https:
            sock = self._wrap(sock)
        sock.settimeout(self.read_timeout)
        return sock

    def _wrap(self, sock: socket.socket) -> socket.socket:
        from botocore import exceptions as bx

        try:
            return self.ssl_context.wrap_socket(sock, server_hostname=self.hostname)  # type: ignore[no-any-return]
        except TimeoutError as exc:
            sock.close()
            raise bx.ConnectTimeoutError(endpoint_url=self.endpoint_url, error=exc) from exc
        except OSError as exc:  # ssl.SSLError is an OSError: botocore says SSLError
            sock.close()
            raise bx.SSLError(endpoint_url=self.endpoint_url, error=exc) from exc

    def _begin(self, response: http.client.HTTPResponse) -> tuple[int, dict[str, str]]:
        from botocore import exceptions as bx

        try:
            response.begin()
        except TimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=self.endpoint_url, error=exc) from exc
        except (OSError, http.client.HTTPException) as exc:  # closed, reset, garbled
            raise bx.ConnectionClosedError(endpoint_url=self.endpoint_url, error=exc) from exc
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return response.status, headers

    def _read(self, response: http.client.HTTPResponse) -> bytes:
        from botocore import exceptions as bx

        try:
            return response.read()
        except TimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=self.endpoint_url, error=exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise bx.ResponseStreamingError(error=exc) from exc


def _send(sock: socket.socket, head: bytes, body: bytes, endpoint_url: str) -> None:
    from botocore import exceptions as bx

    try:
        if len(body) <= 65536:
            sock.sendall(head + body)
        else:  # no copy of a large payload
            sock.sendall(head)
            sock.sendall(body)
    except TimeoutError as exc:
        raise bx.ReadTimeoutError(endpoint_url=endpoint_url, error=exc) from exc
    except OSError as exc:  # reset or broken pipe: part of the request may have arrived
        raise bx.ConnectionClosedError(endpoint_url=endpoint_url, error=exc) from exc


def _host_header(endpoint_url: str) -> str:
    """The Host header botocore signs and sends (``botocore.auth._host_from_url``)."""
    url = urlsplit(endpoint_url)
    host = url.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if url.port is not None and url.port != {"http": 80, "https": 443}.get(url.scheme):
        host = f"{host}:{url.port}"
    return host
