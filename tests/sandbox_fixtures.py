"""Helpers shared by the sandbox tests: a running sandbox, a boto3 client, handler files.

Plain functions and context managers rather than fixtures, so each test module declares its
own fixtures (and their scope) without importing fixture names.
"""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from lambda_magic.sandbox import Sandbox


@contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[Sandbox]:
    """A started sandbox on 127.0.0.1:0, stopped (workers killed) on exit."""
    sandbox = Sandbox(**kwargs)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def lambda_client(sandbox: Sandbox) -> Any:
    """An unmodified boto3 Lambda client for the sandbox, without retries."""
    return boto3.client(
        "lambda",
        endpoint_url=sandbox.endpoint_url,
        region_name=sandbox.region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=30),
    )


def write_module(directory: Path, module: str, source: str) -> Path:
    """Write handler module ``module`` (dedented ``source``) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{module}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def invoke_json(client: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    """Invoke synchronously; the raw response and the decoded JSON payload."""
    payload = b"" if event is None else json.dumps(event).encode()
    response = client.invoke(FunctionName=name, Payload=payload, **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def log_of(response: dict[str, Any]) -> str:
    """The decoded ``LogResult`` of an Invoke response."""
    return base64.b64decode(response["LogResult"]).decode("utf-8", "replace")


def client_context(data: dict[str, Any]) -> str:
    """``ClientContext`` as boto3 wants it: base64 of a JSON object."""
    return base64.b64encode(json.dumps(data).encode()).decode()


def signed_headers(sandbox: Sandbox, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    """Headers botocore's SigV4 signer puts on a raw request to the sandbox (dummy key)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=sandbox.endpoint_url + path, data=body)
    SigV4Auth(Credentials("sandbox", "sandbox"), "lambda", sandbox.region).add_auth(request)
    return dict(request.headers.items())


def raw_request(sandbox: Sandbox, head: bytes, body: bytes = b"", *, timeout: float = 10) -> bytes:
    """Send bytes as they are to the sandbox's API port; the whole answer (until close)."""
    import socket

    port = int(sandbox.endpoint_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


SAM_APPS = Path(__file__).parent / "sam_apps"


def build_wheel(package: Path, out_dir: Path, *, version: str = "1.0") -> Path:
    """A pure-Python wheel of the package folder ``package``, made by hand (no build tools)."""
    import hashlib
    import zipfile

    name = package.name
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/{path.relative_to(package)}": path.read_bytes() for path in sorted(package.rglob("*.py"))}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: lambda_magic-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for arcname, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arcname},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for arcname, data in files.items():
            archive.writestr(arcname, data)
    return wheel


def layered_app(tmp_path: Path) -> Path:
    """A copy of tests/sam_apps/layered in ``tmp_path`` with its wheel built; its template."""
    import shutil

    app = tmp_path / "layered"
    shutil.copytree(SAM_APPS / "layered", app)
    build_wheel(app / "tinydep_src" / "tinydep", app / "greeter" / "wheels")
    return app / "template.yaml"
