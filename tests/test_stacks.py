"""Functions by stack: ``STACK/LogicalId`` through a real shell against the sandbox, boto3's
own CloudFormation client against the sandbox, and the same resolution against moto."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from IPython.core.error import UsageError

from lambda_magic import history, session_settings
from lambda_magic._exceptions import AccessDeniedError, FunctionNotFoundError, ParameterError
from lambda_magic._settings import resolve_settings
from lambda_magic._stacks import parse_stack_reference, resolve_function
from lambda_magic.sandbox import Sandbox

PHYSICAL = "mystack-HealthCheck-1A2B3C"


def _write_stack(folder: Path) -> Path:
    """A template in folder ``mystack`` whose HealthCheck has a generated-looking name."""
    folder.mkdir(parents=True)
    (folder / "check.py").write_text(
        textwrap.dedent("""
        def handler(event, context):
            return {"function": context.function_name, "event": event}
    """)
    )
    template = folder / "template.yaml"
    template.write_text(
        textwrap.dedent(f"""
        Transform: AWS::Serverless-2016-10-31
        Description: a stack for tests
        Resources:
          HealthCheck:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: {PHYSICAL}
              Runtime: python3.11
              CodeUri: .
              Handler: check.handler
    """)
    )
    return template


@pytest.fixture(scope="module")
def stack_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    template = _write_stack(tmp_path_factory.mktemp("stacks") / "mystack")
    with Sandbox(template=template, demo=False) as sandbox:
        sandbox.load_template(template, stack_name="renamed")
        yield sandbox


@pytest.fixture
def on_sandbox(stack_sandbox: Sandbox, aws_env: None) -> Sandbox:
    session_settings().update(endpoint_url=stack_sandbox.endpoint_url, region=stack_sandbox.region)
    return stack_sandbox


def _count_lookups(settings: Any) -> list[str]:
    """Record every DescribeStackResource the session's CloudFormation client sends."""
    from lambda_magic._client import service_client

    calls: list[str] = []
    client = service_client(settings, "cloudformation")
    client.meta.events.register(
        "before-call.cloudformation.DescribeStackResource",
        lambda params, **_: calls.append(params["body"]["LogicalResourceId"]),
    )
    return calls


def test_cell_invokes_the_function_declared_as_the_logical_id(shell: Any, on_sandbox: Sandbox) -> None:
    from lambda_magic._stacks import clear_stack_cache

    clear_stack_cache()
    calls = _count_lookups(resolve_settings())
    shell.run_cell_magic("lambda_invoke", "mystack/HealthCheck -o first", '{"n": 1}')
    shell.run_cell_magic("lambda_invoke", "mystack/HealthCheck -o second", '{"n": 2}')
    first, second = shell.user_ns["first"], shell.user_ns["second"]
    assert first.payload == {"function": PHYSICAL, "event": {"n": 1}}
    assert second.payload["event"] == {"n": 2}
    assert calls == ["HealthCheck"]  # resolved once for the session
    assert first.label == f"HealthCheck ({PHYSICAL})"
    assert first._repr_html_().count(f"HealthCheck ({PHYSICAL})") == 1
    entry = history[-1]
    assert (entry.logical_id, entry.function) == ("mystack/HealthCheck", PHYSICAL)


def test_stack_name_option_takes_a_bare_logical_id(shell: Any, on_sandbox: Sandbox) -> None:
    shell.run_cell_magic("lambda_invoke", "HealthCheck --stack-name renamed -o r", "{}")
    assert shell.user_ns["r"].payload["function"] == PHYSICAL
    assert history[-1].logical_id == "renamed/HealthCheck"


def test_each_records_the_logical_id_on_every_call(shell: Any, on_sandbox: Sandbox) -> None:
    shell.run_cell_magic("lambda_invoke", "mystack/HealthCheck --each --quiet -o rs", "[1, 2]")
    assert [r.payload["event"] for r in shell.user_ns["rs"]] == [1, 2]
    assert [e.logical_id for e in history] == ["mystack/HealthCheck"] * 2


def test_unknown_logical_id_is_one_line_and_nothing_is_invoked(shell: Any, on_sandbox: Sandbox) -> None:
    with pytest.raises(UsageError, match=r"stack mystack has no resource Nope.*check the names"):
        shell.run_cell_magic("lambda_invoke", "mystack/Nope", "{}")
    with pytest.raises(UsageError, match="stack nostack has no resource HealthCheck"):
        shell.run_cell_magic("lambda_invoke", "nostack/HealthCheck", "{}")
    with pytest.raises(UsageError, match="malformed logical id 'Health-Check'"):
        shell.run_cell_magic("lambda_invoke", "mystack/Health-Check", "{}")
    assert len(history) == 0


def test_api_invoke_resolves_the_stack(on_sandbox: Sandbox) -> None:
    from lambda_magic import invoke

    response = invoke("HealthCheck", {"via": "api"}, stack_name="mystack")
    assert response.payload == {"function": PHYSICAL, "event": {"via": "api"}}
    assert response.logical_id == "mystack/HealthCheck"


def test_boto3_cloudformation_reads_the_sandbox_stacks(stack_sandbox: Sandbox) -> None:
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=stack_sandbox.endpoint_url,
        region_name=stack_sandbox.region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    summaries = cfn.list_stacks()["StackSummaries"]
    assert {s["StackName"] for s in summaries} == {"mystack", "renamed"}
    assert all(s["StackStatus"] == "CREATE_COMPLETE" for s in summaries)
    detail = cfn.describe_stack_resource(StackName="mystack", LogicalResourceId="HealthCheck")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == PHYSICAL
    assert detail["StackResourceDetail"]["ResourceType"] == "AWS::Lambda::Function"
    with pytest.raises(cfn.exceptions.ClientError, match="Resource Nope does not exist"):
        cfn.describe_stack_resource(StackName="mystack", LogicalResourceId="Nope")
    resources = cfn.describe_stack_resources(StackName="renamed")["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("HealthCheck", PHYSICAL)]


def test_demo_template_is_the_demo_stack(demo_sandbox: Sandbox) -> None:
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=demo_sandbox.endpoint_url,
        region_name=demo_sandbox.region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    detail = cfn.describe_stack_resource(StackName="demo", LogicalResourceId="HealthCheck")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == "health_check"


@pytest.fixture
def moto_stack(aws_env: None) -> Iterator[str]:
    """moto's CloudFormation creating a Lambda function with a generated name."""
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False}}):
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        template = {
            "Resources": {
                "HealthCheck": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.11",
                        "Handler": "index.handler",
                        "Role": role["Role"]["Arn"],
                        "Code": {"ZipFile": "def handler(e, c):\n    return e\n"},
                    },
                }
            }
        }
        boto3.client("cloudformation").create_stack(StackName="mystack", TemplateBody=json.dumps(template))
        yield boto3.client("cloudformation").describe_stack_resource(
            StackName="mystack", LogicalResourceId="HealthCheck"
        )["StackResourceDetail"]["PhysicalResourceId"]


def test_moto_generated_name_is_resolved_and_invoked(shell: Any, moto_stack: str) -> None:
    assert moto_stack.startswith("mystack-HealthCheck-")
    shell.run_cell_magic("lambda_invoke", "mystack/HealthCheck -o r", '{"moto": true}')
    response = shell.user_ns["r"]
    assert (response.function_name, response.payload) == (moto_stack, {"moto": True})
    assert response.label == f"HealthCheck ({moto_stack})"


def test_moto_unknown_stack_is_not_found(moto_stack: str) -> None:
    with pytest.raises(FunctionNotFoundError, match="stack other has no resource HealthCheck"):
        resolve_function("other/HealthCheck", resolve_settings())


def test_access_denied_names_the_permission(aws_env: None) -> None:
    from botocore.stub import Stubber

    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("describe_stack_resource", "AccessDenied", "not authorized", http_status_code=403)
        with pytest.raises(AccessDeniedError, match="need cloudformation:DescribeStackResource"):
            resolve_function("mystack/HealthCheck", resolve_settings(), client=client)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("echo", None),
        ("echo:prod", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:echo", None),
        ("mystack/HealthCheck", ("mystack", "HealthCheck")),
    ],
)
def test_parse_stack_reference(name: str, expected: tuple[str, str] | None) -> None:
    assert parse_stack_reference(name) == expected


def test_malformed_stack_name_is_refused() -> None:
    with pytest.raises(ParameterError, match="malformed stack name '1stack'"):
        parse_stack_reference("1stack/HealthCheck")


# --- exports keep the logical id and resolve it again when they run --------------------


def _run_cell(shell: Any, source: str) -> None:
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec


def _aws_cli() -> str:
    import os
    import shutil

    if not Path("/usr/bin/aws").exists() and os.environ.get("CI") != "true":
        pytest.skip("AWS CLI v2 missing: apt-get install awscli")
    return "/usr/bin/aws" if Path("/usr/bin/aws").exists() else str(shutil.which("aws"))


def test_exports_name_the_logical_id_and_resolve_it_when_run(shell: Any, on_sandbox: Sandbox, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import yaml

    from lambda_magic import export

    _run_cell(shell, '%%lambda_invoke mystack/HealthCheck -o r\n{"exported": true}')
    _run_cell(shell, "import lambda_magic\nlambda_magic.invoke('HealthCheck', {'api': 1}, stack_name='renamed')")
    script = tmp_path / "runbook.py"
    export("python", path=script)
    source = script.read_text()
    assert "'mystack/HealthCheck'" in source and "stack_name='renamed'" in source  # the code as written
    assert PHYSICAL not in source
    done = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f'"function": "{PHYSICAL}"' in done.stdout and '"exported": true' in done.stdout

    from lambda_magic import invoke

    invoke("HealthCheck", {"outside": "a cell"}, stack_name="renamed")
    import nbformat

    cells = [cell.source for cell in nbformat.reads(export("magic"), as_version=4).cells]
    assert any(
        cell.startswith("%%lambda_invoke mystack/HealthCheck ") and cell.endswith('{"exported": true}')
        for cell in cells
    ), cells
    assert cells[-1] == '%%lambda_invoke renamed/HealthCheck --raise\n{"outside": "a cell"}'

    from lambda_magic import history

    magic = str(next(entry.index for entry in history if entry.origin == "magic"))
    job = yaml.safe_load(export("rundeck", magic))[0]  # the magic cell (cell 2 is code: --as-script)
    first = job["sequence"]["commands"][0]
    assert "describe-stack-resource --stack-name mystack --logical-resource-id HealthCheck" in first["script"]
    assert PHYSICAL not in first["script"]
    from rundeck_model import run_job  # Rundeck's own rules for options, quoting and scripts

    aws = _aws_cli()
    env = {**os.environ, "PATH": f"{Path(aws).parent}{os.pathsep}{os.environ['PATH']}"}
    done = run_job(export("rundeck", magic), env=env)
    assert done.ok, done.steps[-1].stderr
    ran = done.steps[0]
    assert json.loads(ran.stdout.splitlines()[0]) == {"function": PHYSICAL, "event": {"exported": True}}
