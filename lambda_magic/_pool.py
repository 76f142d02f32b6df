"""``ConnectionPool``: keep-alive HTTP/1.1 connections to one endpoint, for the lean transport.

A LIFO of idle sockets, as many as the fan-out has workers (so none is opened and thrown
away, the waste urllib3 logs as "Connection pool is full"), shared by every thread with no
lock: ``deque.append`` and ``pop`` are atomic. A request goes out in one ``sendall`` (head
and body). The answer is read by ``_read_response``: status line, headers, a body by
Content-Length, chunked or up to the close, and whether the connection stays open. It is
hand-written because ``http.client.HTTPResponse`` parses headers with the ``email``
package: ~78 us an answer against ~12 us here, a quarter of the lean transport's CPU per
call (cProfile of the fan-out's per-call path; ``bench/bench_throughput.py`` shows the
effect). An idle socket the server has closed is noticed before it is used (readable
while idle means closed), so a stale connection is never the reason a call fails.

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
from typing import IO, Any
from urllib.parse import urlsplit

__all__ = ["ConnectionPool"]

#: http.client's limits: a longer line or more headers is not an HTTP answer we can trust.
_MAX_LINE = 65536
_MAX_HEADERS = 100

Connection = tuple[socket.socket, IO[bytes]]


class ConnectionPool:
    """Idle keep-alive connections to ``endpoint_url``, at most ``size`` of them."""

    def __init__(
        self, endpoint_url: str, *, size: int, connect_timeout: float, read_timeout: float, ssl_context: Any = None
    ) -> None:
        url = urlsplit(endpoint_url)
        self.endpoint_url = endpoint_url
        self.https = url.scheme == "https"
        self.hostname = url.hostname or ""
        self.port = url.port or (443 if self.https else 80)
        self.host_header = _host_header(endpoint_url)
        self.size = size
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.ssl_context = ssl_context
        self._idle: deque[Connection] = deque()
        self._wait_for_read: Any = None
        #: Connections opened so far (a pool that is large enough opens each only once).
        self.opened = 0

    def exchange(self, head: bytes, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one request, read its whole answer: status, headers (lower-case names), body."""
        connection = self._take()
        sock, reader = connection
        try:
            _send(sock, head, body, self.endpoint_url)
            status, headers, data, keep = self._receive(reader)
        except BaseException:
            sock.close()  # a half-used connection is never reused
            raise
        if keep and len(self._idle) < self.size:
            self._idle.append(connection)
        else:
            sock.close()
        return status, headers, data

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop()[0].close()

    def _take(self) -> Connection:
        while self._idle:
            try:
                connection = self._idle.pop()
            except IndexError:  # another thread took the last one
                break
            if not self._closed_by_peer(connection[0]):
                return connection
            connection[0].close()
        sock = self._connect()
        return sock, sock.makefile("rb")

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

    def _receive(self, reader: IO[bytes]) -> tuple[int, dict[str, str], bytes, bool]:
        from botocore import exceptions as bx

        try:
            status, headers, keep = _read_head(reader)
        except TimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=self.endpoint_url, error=exc) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:  # closed, reset, garbled
            raise bx.ConnectionClosedError(endpoint_url=self.endpoint_url, error=exc) from exc
        try:
            data, keep = _read_body(reader, headers, keep)
        except TimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=self.endpoint_url, error=exc) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise bx.ResponseStreamingError(error=exc) from exc
        return status, headers, data, keep


def _read_head(reader: IO[bytes]) -> tuple[int, dict[str, str], bool]:
    """Status, headers (lower-case names, repeats joined by ", ") and whether keep-alive holds."""
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if not line:
            raise http.client.RemoteDisconnected("the server closed the connection without answering")
        version, status_text, *_ = [*line.split(None, 2), b""]
        if not version.startswith(b"HTTP/") or not status_text.isdigit():
            raise http.client.BadStatusLine(repr(line[:80]))
        status = int(status_text)
        headers = _read_headers(reader)
        if status >= 200 or status == 101:  # 1xx (100 Continue...) precede the answer
            break
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection if version == b"HTTP/1.1" else "keep-alive" in connection
    return status, headers, keep


def _read_headers(reader: IO[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        line = reader.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            return headers
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise http.client.HTTPException(f"malformed header line {line[:80]!r}")
        key, text = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raise http.client.HTTPException(f"more than {_MAX_HEADERS} headers")


def _read_body(reader: IO[bytes], headers: dict[str, str], keep: bool) -> tuple[bytes, bool]:
    """The body by chunks, by Content-Length, or up to the close; and whether keep-alive holds."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _read_chunked(reader), keep
    length = headers.get("content-length")
    if length is None:
        return reader.read(), False  # delimited by the close
    expected = int(length)
    data = reader.read(expected)
    if len(data) < expected:
        raise http.client.IncompleteRead(data, expected - len(data))
    return data, keep


def _read_chunked(reader: IO[bytes]) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = reader.readline(_MAX_LINE + 1)
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            _read_headers(reader)  # trailers, up to the blank line
            return b"".join(parts)
        chunk = reader.read(size)
        if len(chunk) < size or reader.read(2) != b"\r\n":
            raise http.client.IncompleteRead(b"".join(parts) + chunk)
        parts.append(chunk)


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
