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

from lambda_magic.sandbox._errors import SandboxError
from lambda_magic.sandbox._sandbox import DEMO_DIR, Sandbox

__all__ = ["DEMO_DIR", "Sandbox", "SandboxError"]
