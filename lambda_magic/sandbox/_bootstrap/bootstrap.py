"""A sandbox worker's entry point: awslambdaric, with generator handlers streamed.

Run as ``python -I -S .../bootstrap.py HANDLER PATH...`` (by path: importing
``lambda_magic`` would cost every cold start its imports). ``-I -S`` start the interpreter
with the standard library only: no site-packages, no ``PYTHON*`` variables, no user site, no
``.pth`` files, not even this file's folder. The bootstrap puts exactly the given folders
(the function's code, its dependencies, its layers, the runtime folder) in front of the
standard library, as Lambda's runtime does, and starts awslambdaric as
``python -m awslambdaric HANDLER`` would, with one addition: a handler that returns a generator (or
any iterator) has each item sent to the sandbox as soon as it is produced, on the worker's
Runtime API (``POST .../invocation/{id}/chunk``, a sandbox-internal route), and then answers
an empty body; the sandbox joins the items for a buffered Invoke and streams them for
InvokeWithResponseStream. Items are sent as bytes as they are, ``str`` as UTF-8, anything
else as JSON. An exception while iterating is the invocation's error, reported by
awslambdaric as usual. This file's name keeps its frames out of the error's stack trace,
as awslambdaric drops its own ``bootstrap.py`` frames.
"""

from __future__ import annotations

import collections.abc
import http.client
import json
import os
import sys
from collections.abc import Callable
from typing import Any

_CHUNK = "/2018-06-01/runtime/invocation/{}/chunk"
_connection: http.client.HTTPConnection | None = None


def _encode(item: Any) -> bytes:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    if isinstance(item, str):
        return item.encode("utf-8")
    return json.dumps(item).encode("utf-8")


def _send_chunk(request_id: str, data: bytes) -> None:
    global _connection
    if _connection is None:
        _connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _connection.request("POST", _CHUNK.format(request_id), body=data)
    _connection.getresponse().read()


def _streaming(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def handle(event: Any, context: Any) -> Any:
        result = handler(event, context)
        if not isinstance(result, collections.abc.Iterator):
            return result
        for item in result:
            _send_chunk(context.aws_request_id, _encode(item))
        return b""

    return handle


def main() -> None:
    """Set ``sys.path``, then run awslambdaric with generator handlers streamed."""
    handler, paths = sys.argv[1], sys.argv[2:]
    sys.argv = [sys.argv[0], handler]
    sys.path[:0] = paths
    from awslambdaric import __main__ as ric
    from awslambdaric import bootstrap

    load = bootstrap._get_handler
    bootstrap._get_handler = lambda name: _streaming(load(name))
    ric.main(sys.argv)


if __name__ == "__main__":
    main()
