"""A local, Docker-free Lambda: an endpoint on 127.0.0.1 that unmodified boto3 invokes.

Handlers run under the official runtime interface client (``awslambdaric``) in worker
processes that stay warm between calls, like Lambda execution environments::

    from lambda_magic.sandbox import Sandbox

    with Sandbox() as sb:                    # the demo functions: echo, fail, sleep, ...
        client = boto3.client("lambda", endpoint_url=sb.endpoint_url, region_name=sb.region,
                              aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
        client.invoke(FunctionName="echo", Payload=b'{"hello": "world"}')

From a terminal: ``python -m lambda_magic.sandbox [--template template.yaml] [--port N]``.
In IPython: ``%lambda_sandbox start``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambda_magic.sandbox._errors import SandboxError

if TYPE_CHECKING:
    from lambda_magic.sandbox._sandbox import DEMO_DIR, Sandbox

__all__ = ["DEMO_DIR", "Sandbox", "SandboxError"]


def __getattr__(name: str) -> Any:
    # Imported on first use: %load_ext registers %lambda_sandbox through this package, and
    # the sandbox itself (servers, workers, YAML) costs ~50 ms that loading must not pay.
    if name in ("DEMO_DIR", "Sandbox"):
        from lambda_magic.sandbox import _sandbox

        return getattr(_sandbox, name)
    raise AttributeError(f"module 'lambda_magic.sandbox' has no attribute {name!r}")
