"""Only the local, signing caller gets in: web pages and foreign Hosts are refused (403)."""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import invoke_json, lambda_client, running_sandbox, signed_headers, write_module

from lambda_magic.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="awslambdaric is Linux-only")
_PATH = "/2015-03-31/functions/touch/invocations"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("gate")
    write_module(
        code,
        "touch",
        """
        import pathlib

        def handler(event, context):
            pathlib.Path(event["path"]).write_text("ran")
            return "ran"
    """,
    )
    with running_sandbox(demo=False) as sb:
        sb.add_function("touch", code=code / "touch.py")
        yield sb


def _post(sandbox: Sandbox, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", int(sandbox.endpoint_url.split(":")[-1]), timeout=30)
    try:
        connection.request("POST", _PATH, body=body, headers=headers)
        response = connection.getresponse()
        data = json.loads(response.read() or b"null")
        return response.status, {"type": response.getheader("x-amzn-ErrorType"), "body": data}
    finally:
        connection.close()


def test_a_no_cors_fetch_from_a_web_page_is_refused_and_runs_nothing(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "ran"
    body = json.dumps({"path": str(marker)}).encode()
    # What fetch(url, {method: "POST", mode: "no-cors", body}) sends from http://evil.example.
    headers = {"Origin": "http://evil.example", "Content-Type": "text/plain;charset=UTF-8", "Host": "evil.example"}
    with caplog.at_level(logging.WARNING, logger="lambda_magic.sandbox"):
        status, answer = _post(sandbox, headers, body)
    assert status == 403
    assert answer["type"] == "AccessDeniedException"
    assert not marker.exists()  # the answer of a synchronous call comes after the handler ran
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "Origin" in refused[0]


@pytest.mark.parametrize(
    "drop, add, code",
    [
        ("Authorization", {}, "MissingAuthenticationTokenException"),
        (None, {"Origin": "http://localhost:8888"}, "AccessDeniedException"),
        (None, {"Host": "attacker.example:9001"}, "AccessDeniedException"),
    ],
)
def test_each_rule_alone_refuses(
    sandbox: Sandbox, tmp_path: Path, drop: str | None, add: dict[str, str], code: str
) -> None:
    marker = tmp_path / "ran"
    body = json.dumps({"path": str(marker)}).encode()
    headers = {**signed_headers(sandbox, "POST", _PATH, body), **add}
    headers.pop(drop or "", None)
    status, answer = _post(sandbox, headers, body)
    assert (status, answer["type"]) == (403, code)
    assert not marker.exists()


def test_a_signed_loopback_request_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    body = json.dumps({"path": str(marker)}).encode()
    status, _ = _post(sandbox, signed_headers(sandbox, "POST", _PATH, body), body)
    assert status == 200 and marker.read_text() == "ran"


def test_boto3_and_localhost_are_let_in(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    client = lambda_client(sandbox)
    invoke_json(client, "touch", {"path": str(marker)})
    assert marker.exists()


@pytest.mark.parametrize(
    "host, refused",
    [
        ("127.0.0.1:9001", False),
        ("localhost", False),
        ("[::1]:9001", False),
        ("127.0.0.1.evil.example", True),
        ("", True),
        ("localhost.evil.example:9001", True),
    ],
)
def test_host_rule(host: str, refused: bool) -> None:
    from lambda_magic.sandbox._gate import refusal

    signature = (
        "AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
    assert (refusal({"Host": host, "Authorization": signature}) is not None) is refused
