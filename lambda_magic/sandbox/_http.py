"""The HTTP plumbing both sandbox servers share: a lean keep-alive request handler.

``BaseHTTPRequestHandler`` already parses HTTP/1.1; these helpers add what both the Invoke
API and the Runtime API need on every request: TCP_NODELAY (without it Nagle's algorithm
and delayed ACKs cost ~40-90 ms per small response), the body read by Content-Length, and a
response sent in one write so a keep-alive peer never waits for a second segment.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["LeanHandler"]

_REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request",
            403: "Forbidden", 404: "Not Found", 413: "Payload Too Large",
            429: "Too Many Requests", 500: "Internal Server Error"}


class LeanHandler(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 handler that answers in a single write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # StreamRequestHandler.setup() sets TCP_NODELAY

    def read_body(self, limit: int | None = None) -> bytes | None:
        """The request body; None (and the connection closed) if it exceeds ``limit``."""
        length = int(self.headers.get("Content-Length") or 0)
        if limit is not None and length > limit:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> None:
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
