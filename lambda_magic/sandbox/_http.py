"""The HTTP plumbing both sandbox servers share: a lean keep-alive request handler.

``BaseHTTPRequestHandler`` already parses HTTP/1.1; these helpers add what both the Invoke
API and the Runtime API need on every request: TCP_NODELAY (without it Nagle's algorithm
and delayed ACKs cost ~40-90 ms per small response), the body read by Content-Length or
decoded from ``Transfer-Encoding: chunked``, and a response sent in one write so a
keep-alive peer never waits for a second segment.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["BadBody", "LeanHandler"]

_REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
_MAX_CHUNK_LINE = 1024


class BadBody(Exception):
    """The request's body cannot be read as HTTP/1.1 frames it; the connection is unusable."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LeanHandler(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 handler that answers in a single write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # StreamRequestHandler.setup() sets TCP_NODELAY

    def read_body(self, limit: int | None = None) -> bytes | None:
        """The request body; None (and the connection closed) if it exceeds ``limit``.

        Raises ``BadBody`` (and closes the connection) for a malformed ``Content-Length`` or
        chunked framing: the next request's start cannot be found after either.
        """
        encoding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if encoding:
            if encoding != "chunked":
                raise self._bad(411, f"Transfer-Encoding {encoding!r} is not supported: send Content-Length or chunked")
            return self._read_chunked(limit)
        length = self._content_length()
        if limit is not None and length > limit:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _content_length(self) -> int:
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():
            raise self._bad(400, f"malformed Content-Length {raw[:40]!r}")
        return int(raw)

    def _read_chunked(self, limit: int | None) -> bytes | None:
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise self._bad(400, "malformed chunk size in a chunked body") from None
            if size == 0:
                while self.rfile.readline(_MAX_CHUNK_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers: read and ignored
                return bytes(body)
            if limit is not None and len(body) + size > limit:
                self.close_connection = True
                return None
            body += self.rfile.read(size)
            self.rfile.readline(_MAX_CHUNK_LINE)  # the CRLF after the chunk's data

    def _bad(self, status: int, message: str) -> BadBody:
        self.close_connection = True
        return BadBody(status, message)

    def send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Send a complete response: status line, headers and body in one write."""
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        if body or status != 204:
            lines.append(f"Content-Type: {content_type}")
            lines.append(f"Content-Length: {len(body)}")
        if headers:
            lines.extend(f"{key}: {value}" for key, value in headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        """Send ``data`` as a JSON body."""
        self.send(status, json.dumps(data).encode(), headers)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; the sandbox reports through its logs."""
