"""SAM templates: reading them (CloudFormation tags included) and invoking their functions."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from sandbox_fixtures import invoke_json, lambda_client, running_sandbox, write_module

from lambda_magic.sandbox import Sandbox, SandboxError
from lambda_magic.sandbox._sam import load_template

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Timeout: 7
    MemorySize: 256
    Runtime: python3.11
    Environment:
      Variables:
        STAGE: !Ref Stage
        SHARED: from-globals
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.lambda_handler
      AutoPublishAlias: live
      Environment:
        Variables:
          TABLE: !Ref Table
          URL: !Sub "https://${AWS::Region}.example.com/${Stage}"
          TABLE_ARN: !GetAtt Table.Arn
          DEBUG: true
  Named:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${Stage}-inline"
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {"inline": True}
  NodeFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      CodeUri: node/
  Table:
    Type: AWS::DynamoDB::Table
"""

APP = """
    import os

    def lambda_handler(event, context):
        keys = ("STAGE", "SHARED", "TABLE", "URL", "TABLE_ARN", "DEBUG")
        return {"env": {key: os.environ[key] for key in keys},
                "memory": context.memory_limit_in_mb, "version": context.function_version}
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    write_module(tmp_path / "src", "app", APP)
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(TEMPLATE), encoding="utf-8")
    return path


def test_reads_functions_globals_and_tags(template: Path) -> None:
    loaded = load_template(template)
    hello, inline = loaded.functions
    assert hello.name == "HelloFunction"
    assert hello.handler == "app.lambda_handler"
    assert hello.code == template.parent / "src"
    assert (hello.timeout, hello.memory, hello.alias) == (7, 256, "live")
    assert hello.environment == {
        "STAGE": "dev",
        "SHARED": "from-globals",
        "TABLE": "Table",
        "URL": "https://us-east-1.example.com/dev",
        "TABLE_ARN": "Table.Arn",
        "DEBUG": "true",
    }
    assert inline.name == "dev-inline"
    assert inline.inline_code is not None
    assert loaded.skipped == {"NodeFunction": "runtime nodejs20.x is not Python"}


def test_parameters_override_defaults(template: Path) -> None:
    loaded = load_template(template, {"Stage": "prod"})
    assert loaded.functions[0].environment["STAGE"] == "prod"
    assert loaded.functions[1].name == "prod-inline"


def test_not_a_template_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("just: text\n")
    with pytest.raises(SandboxError, match="no Resources section"):
        load_template(path)
    with pytest.raises(SandboxError, match="cannot read SAM template"):
        load_template(tmp_path / "missing.yaml")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")
def test_template_functions_are_invoked(template: Path) -> None:
    with running_sandbox(template=template, demo=False) as sandbox:
        client = lambda_client(sandbox)
        response, body = invoke_json(client, "HelloFunction", {}, Qualifier="live")
        assert response["ExecutedVersion"] == "1"
        assert body["version"] == "1"
        assert body["memory"] == "256"
        assert body["env"]["URL"] == "https://us-east-1.example.com/dev"
        _, inline = invoke_json(client, "dev-inline", {})
        assert inline == {"inline": True}
        assert sandbox.status()["skipped"] == {"NodeFunction": "runtime nodejs20.x is not Python"}
        config = client.get_function_configuration(FunctionName="HelloFunction")
        assert (config["Timeout"], config["MemorySize"]) == (7, 256)


def test_demo_template_is_a_sam_template() -> None:
    from lambda_magic.sandbox import DEMO_DIR

    names = {f.name for f in load_template(DEMO_DIR / "template.yaml").functions}
    assert names == {"echo", "fail", "sleep", "logger", "health_check", "restart_service"}
    assert {f["name"] for f in Sandbox().status()["functions"]} == names
