"""Templates as real SAM apps have them: zip code, inline code with cfnresponse, and what is skipped."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sandbox_fixtures import invoke_json, lambda_client, running_sandbox, write_module

from lambda_magic.sandbox import Sandbox
from lambda_magic.sandbox._sam import load_template

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
Resources:
  Zipped:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: zipped
      CodeUri: dist/index.zip
      Handler: index.handler
  Custom:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: custom
      Handler: index.handler
      Runtime: python3.11
      Code:
        ZipFile: |
          import cfnresponse

          def handler(event, context):
              cfnresponse.send(event, context, cfnresponse.SUCCESS, {"made": "it"}, "phys-1")
              return "sent"
  InS3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/code.zip
      Handler: app.handler
  Outside:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../outside/
      Handler: app.handler
  WithEfs:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      FileSystemConfigs:
        - Arn: arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1
          LocalMountPath: /mnt/efs
  RemoteLayer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Layers:
        - arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:78
  Missing:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: nowhere/
      Handler: app.handler
  Unreadable:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Timeout: !Ref NoSuchParameter
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "dist").mkdir(parents=True)
    with zipfile.ZipFile(app / "dist" / "index.zip", "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 'from the zip'\n")
    write_module(app / "src", "app", "def handler(event, context):\n    return 'src'\n")
    write_module(tmp_path / "outside", "app", "def handler(event, context):\n    return 'out'\n")
    path = app / "template.yaml"
    path.write_text(textwrap.dedent(TEMPLATE), encoding="utf-8")
    return path


def test_what_cannot_run_is_skipped_per_function_with_its_reason(template: Path) -> None:
    loaded = load_template(template)
    assert [f.name for f in loaded.functions] == ["zipped", "custom"]
    reasons = loaded.skipped
    assert set(reasons) == {"InS3", "Outside", "WithEfs", "RemoteLayer", "Missing", "Unreadable"}
    assert "in S3" in reasons["InS3"]
    assert "outside the template's folder" in reasons["Outside"]
    assert "--allow-outside" in reasons["Outside"]
    assert "EFS" in reasons["WithEfs"]
    assert "AWSLambdaPowertoolsPythonV2" in reasons["RemoteLayer"]
    assert "does not exist" in reasons["Missing"]
    assert reasons["Unreadable"].startswith("cannot read its properties (ValueError")


def test_allow_outside_runs_code_from_outside(template: Path) -> None:
    loaded = load_template(template, allow_outside=True)
    assert "Outside" in [f.logical_id for f in loaded.functions]


class _ResponseUrl(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@linux_only
def test_zip_code_runs_and_inline_code_has_cfnresponse(template: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _ResponseUrl)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    event = {
        "ResponseURL": f"http://127.0.0.1:{server.server_port}/signed",
        "StackId": "stack",
        "RequestId": "req-1",
        "LogicalResourceId": "Thing",
        "RequestType": "Create",
    }
    try:
        lines: list[str] = []
        with running_sandbox(template=template, demo=False, progress=lines.append) as sandbox:
            client = lambda_client(sandbox)
            assert invoke_json(client, "zipped", {})[1] == "from the zip"
            response, body = invoke_json(client, "custom", event)
            assert "FunctionError" not in response, body
            assert body == "sent"
            assert len(sandbox.status()["skipped"]) == 6
    finally:
        server.shutdown()
        server.server_close()
    sent = _ResponseUrl.received[-1]
    assert (sent["Status"], sent["Data"], sent["PhysicalResourceId"]) == ("SUCCESS", {"made": "it"}, "phys-1")
    assert [line for line in lines if line.startswith("sandbox: skipped 6 function(s)")]


def test_a_template_with_unrunnable_functions_still_loads(template: Path) -> None:
    sandbox = Sandbox(template=template, demo=False)
    assert {f["name"] for f in sandbox.status()["functions"]} == {"zipped", "custom"}
