"""The sandbox's read-only control plane answers in the shapes boto3 (and moto) use."""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from sandbox_fixtures import lambda_client, running_sandbox, write_module

from lambda_magic.sandbox import Sandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="awslambdaric is Linux-only")

SOURCE = "def handler(event, context):\n    return event\n"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    code = tmp_path_factory.mktemp("code")
    write_module(code, "app", SOURCE)
    with running_sandbox(demo=False) as sb:
        sb.add_function(
            "f",
            code=code / "app.py",
            handler="app.handler",
            environment={"A": "1"},
            description="d",
            reserved_concurrency=5,
        )
        sb.publish_version("f")
        sb.create_alias("f", "prod", "1")
        for index in range(7):
            sb.add_function(f"page{index}", code=code / "app.py")
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Any:
    return lambda_client(sandbox)


@pytest.fixture(scope="module")
def moto_shapes() -> dict[str, Any]:
    """The same function, version and alias made in moto, as boto3 returns them there."""
    from moto import mock_aws

    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", SOURCE)
        moto = boto3.client("lambda", region_name="us-east-1")
        moto.create_function(
            FunctionName="f",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": archive.getvalue()},
            Environment={"Variables": {"A": "1"}},
            Description="d",
        )
        moto.publish_version(FunctionName="f")
        moto.create_alias(FunctionName="f", Name="prod", FunctionVersion="1")
        return {
            "list": moto.list_functions()["Functions"][0],
            "get": moto.get_function(FunctionName="f"),
            "config": moto.get_function_configuration(FunctionName="f"),
            "versions": moto.list_versions_by_function(FunctionName="f")["Versions"],
            "alias": moto.get_alias(FunctionName="f", Name="prod"),
        }


def _keys(data: dict[str, Any]) -> set[str]:
    return set(data) - {"ResponseMetadata"}


def _model_members(shape: str) -> set[str]:
    model = botocore.session.get_session().get_service_model("lambda")
    return set(model.shape_for(shape).members)


def test_configuration_shapes_match_moto(client: Any, moto_shapes: dict[str, Any]) -> None:
    ours = {
        "list": next(f for f in client.list_functions()["Functions"] if f["FunctionName"] == "f"),
        "config": client.get_function_configuration(FunctionName="f"),
        "version": client.list_versions_by_function(FunctionName="f")["Versions"][1],
        "get": client.get_function(FunctionName="f")["Configuration"],
    }
    members = _model_members("FunctionConfiguration")
    for name, config in ours.items():
        assert _keys(moto_shapes["list"]) <= _keys(config), name
        assert _keys(config) <= members, name
    assert _keys(moto_shapes["config"]) <= _keys(ours["config"])
    assert _keys(moto_shapes["versions"][1]) <= _keys(ours["version"])
    assert set(moto_shapes["get"]) - {"ResponseMetadata"} <= set(client.get_function(FunctionName="f")) - {
        "ResponseMetadata"
    }


def test_alias_shape_matches_moto(client: Any, moto_shapes: dict[str, Any]) -> None:
    alias = client.get_alias(FunctionName="f", Name="prod")
    assert _keys(alias) == _keys(moto_shapes["alias"])
    assert alias["AliasArn"] == "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
    assert alias["FunctionVersion"] == "1"
    assert client.list_aliases(FunctionName="f")["Aliases"] == [{key: alias[key] for key in _keys(alias)}]


def test_values_of_a_configuration(client: Any) -> None:
    config = client.get_function_configuration(FunctionName="f", Qualifier="prod")
    assert config["Version"] == "1"
    assert config["FunctionArn"].endswith(":function:f:prod") or config["FunctionArn"].endswith(":function:f:1")
    assert config["Environment"] == {"Variables": {"A": "1"}}
    assert config["Description"] == "d"
    assert config["Handler"] == "app.handler"
    assert config["Runtime"] == "python3.11"
    got = client.get_function(FunctionName="f")
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    assert got["Code"]["Location"].startswith("file://")
    versions = client.list_versions_by_function(FunctionName="f")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    assert versions[0]["FunctionArn"].endswith(":function:f:$LATEST")


def test_pagination_with_marker_and_max_items(client: Any) -> None:
    first = client.list_functions(MaxItems=3)
    assert len(first["Functions"]) == 3
    names = [f["FunctionName"] for f in first["Functions"]]
    marker = first["NextMarker"]
    while marker:
        page = client.list_functions(MaxItems=3, Marker=marker)
        names += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
    assert names == sorted(["f", *(f"page{i}" for i in range(7))])
    paginated = [
        f["FunctionName"]
        for page in client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
        for f in page["Functions"]
    ]
    assert paginated == names
    assert "NextMarker" not in client.list_functions()


def test_versions_pagination_and_all_versions(client: Any) -> None:
    first = client.list_versions_by_function(FunctionName="f", MaxItems=1)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST"]
    second = client.list_versions_by_function(FunctionName="f", Marker=first["NextMarker"])
    assert [v["Version"] for v in second["Versions"]] == ["1"]
    everything = client.list_functions(FunctionVersion="ALL")["Functions"]
    assert [v["Version"] for v in everything if v["FunctionName"] == "f"] == ["$LATEST", "1"]


def test_control_plane_not_found_errors(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="missing")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_configuration(FunctionName="f", Qualifier="9")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_alias(FunctionName="f", Name="staging")


def test_write_operations_are_refused_clearly(client: Any) -> None:
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.delete_function(FunctionName="f")
    assert "read-only control plane" in caught.value.response["Error"]["Message"]


def test_publishing_freezes_the_code(tmp_path: Path) -> None:
    # Its own sandbox: the module's sandbox keeps a fixed list of functions for pagination.
    code = write_module(tmp_path, "frozen", "def handler(e, c):\n    return 'v1'\n")
    with running_sandbox(demo=False) as sandbox:
        client = lambda_client(sandbox)
        sandbox.add_function("frozen", code=code, publish=True)
        code.write_text("def handler(e, c):\n    return 'v2'\n")
        assert client.invoke(FunctionName="frozen", Qualifier="1")["Payload"].read() == b'"v1"'
        assert client.invoke(FunctionName="frozen")["Payload"].read() == b'"v2"'
