"""AWS's event-stream encoding, as ``InvokeWithResponseStream`` answers with it.

A message is ``total length (4) | headers length (4) | prelude CRC32 (4) | headers |
payload | message CRC32 (4)``, big-endian; the prelude CRC covers the first 8 bytes, the
message CRC everything before it. Each header is ``name length (1) | name | type (1) |
value``; only string values (type 7: ``length (2) | UTF-8``) are needed here. botocore's
``botocore.eventstream`` parser is what reads these on the client side, and the tests.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32

__all__ = ["encode_message", "invoke_complete", "payload_chunk"]

_STRING = 7


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string ``headers`` and ``payload``."""
    head = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", crc32(body))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
    return struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", _STRING, len(raw_value)) + raw_value


def payload_chunk(data: bytes) -> bytes:
    """A ``PayloadChunk`` event carrying ``data``."""
    return encode_message(
        {":event-type": "PayloadChunk", ":content-type": "application/octet-stream", ":message-type": "event"}, data
    )


def invoke_complete(
    *, error_code: str | None = None, error_details: str | None = None, log_result: str | None = None
) -> bytes:
    """The closing ``InvokeComplete`` event (fields left out when None)."""
    fields = {"ErrorCode": error_code, "ErrorDetails": error_details, "LogResult": log_result}
    body = json.dumps({key: value for key, value in fields.items() if value is not None})
    return encode_message(
        {":event-type": "InvokeComplete", ":content-type": "application/json", ":message-type": "event"}, body.encode()
    )
