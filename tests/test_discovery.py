"""Discovery: function lists, configurations and qualifiers, all pages, cached, errors mapped."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambda_magic import AccessDeniedError, FunctionNotFoundError, resolve_settings
from lambda_magic._discovery import (
    FunctionDetails,
    forget,
    function_details,
    list_functions,
    list_qualifiers,
)
from lambda_magic._exceptions import EndpointUnreachableError, InvokeError
from lambda_magic.testing import FakeLambda


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _create(client: Any, name: str) -> None:
    role = boto3.client("iam").get_role(RoleName="lambda-role")["Role"]["Arn"]
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
        MemorySize=256,
        Timeout=30,
    )


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    """A real botocore client whose answers are scripted (to see every page's parameters)."""
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _settings(**options: Any) -> Any:
    return resolve_settings(**options)


def test_lists_every_function_beyond_one_page_in_moto(moto_lambda: Any) -> None:
    for index in range(55):
        _create(moto_lambda, f"fn-{index:02d}")
    names = list_functions(_settings())
    assert len(names) == 56
    assert names[0] == "echo" and names[-1] == "fn-54"


def test_function_list_is_cached_until_refreshed(moto_lambda: Any) -> None:
    settings = _settings()
    assert list_functions(settings) == ["echo"]
    _create(moto_lambda, "later")
    assert list_functions(settings) == ["echo"]
    assert list_functions(settings, refresh=True) == ["echo", "later"]
    _create(moto_lambda, "latest")
    forget(settings)
    assert list_functions(settings) == ["echo", "later", "latest"]


def test_qualifiers_are_latest_versions_then_aliases(moto_lambda: Any) -> None:
    assert list_qualifiers("echo", _settings()) == ["$LATEST", "1", "prod"]


def test_function_details_from_get_function_configuration(moto_lambda: Any) -> None:
    _create(moto_lambda, "configured")
    details = function_details("configured", _settings())
    assert details is not None
    assert (details.runtime, details.memory_mb, details.timeout_s) == ("python3.12", 256, 30)
    assert details.last_modified
    assert details.summary().startswith("python3.12 · 256 MB · 30 s timeout · modified ")


def test_unknown_function_is_function_not_found(moto_lambda: Any) -> None:
    with pytest.raises(FunctionNotFoundError, match="nope"):
        function_details("nope", _settings())


def test_follows_next_marker_for_functions(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("list_functions", {"Functions": [{"FunctionName": "b"}], "NextMarker": "m1"}, {"MaxItems": 1})
    stubber.add_response("list_functions", {"Functions": [{"FunctionName": "a"}]}, {"MaxItems": 1, "Marker": "m1"})
    assert list_functions(_settings(), page_size=1, client=client) == ["a", "b"]


def test_follows_next_marker_for_versions_and_aliases(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    page = {"FunctionName": "fn"}
    stubber.add_response(
        "list_versions_by_function", {"Versions": [{"Version": "$LATEST"}, {"Version": "10"}], "NextMarker": "v"}, page
    )
    stubber.add_response("list_versions_by_function", {"Versions": [{"Version": "9"}]}, {**page, "Marker": "v"})
    stubber.add_response("list_aliases", {"Aliases": [{"Name": "prod"}], "NextMarker": "a"}, page)
    stubber.add_response("list_aliases", {"Aliases": [{"Name": "beta"}]}, {**page, "Marker": "a"})
    assert list_qualifiers("fn", _settings(), client=client) == ["$LATEST", "9", "10", "beta", "prod"]


def test_missing_get_function_configuration_permission_is_quiet(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_function_configuration", "AccessDeniedException", "not allowed", 403)
    assert function_details("fn", _settings(), client=client) is None


def test_missing_list_permission_names_that_permission(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("list_functions", "AccessDeniedException", "not allowed", 403)
    with pytest.raises(AccessDeniedError, match="need lambda:ListFunctions; invoking may still work"):
        list_functions(_settings(), client=client)


def test_a_5xx_on_a_read_is_not_worded_as_an_invocation(aws_env: None) -> None:
    # FakeLambda answers Invoke only: its 501 stands for a broken endpoint.
    with FakeLambda() as fake, pytest.raises(InvokeError) as caught:
        list_functions(_settings(endpoint_url=fake.url))
    assert "may have run" not in str(caught.value)
    assert str(caught.value).startswith("calling ListFunctions (ListFunctions) failed: the endpoint answered 501")


def test_unreachable_endpoint(aws_env: None) -> None:
    with FakeLambda() as fake:
        url = fake.url
    with pytest.raises(EndpointUnreachableError, match="cannot connect"):
        list_functions(_settings(endpoint_url=url))


def test_summary_leaves_out_what_is_unknown() -> None:
    assert FunctionDetails(name="img", memory_mb=512).summary() == "container image · 512 MB"


def test_sandbox_pages_functions_and_qualifiers(aws_env: None, demo_sandbox: Any) -> None:
    settings = _settings(endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region)
    names = list_functions(settings, page_size=1)
    assert {"echo", "fail", "health_check", "sleep", "logger", "restart_service"} <= set(names)
    assert list_qualifiers("health_check", settings, page_size=1) == ["$LATEST", "1", "2", "prod"]
    details = function_details("health_check", settings)
    assert details is not None and details.runtime == "python3.11"


def test_code_sha256_only_for_the_version_described() -> None:
    from lambda_magic._discovery import FunctionDetails, code_sha256_for
    from lambda_magic._response import LambdaResponse

    details = FunctionDetails(name="fn", version="$LATEST", code_sha256="abc=")

    def ran(version: str | None, name: str = "fn", qualifier: str | None = None) -> LambdaResponse:
        return LambdaResponse(
            function_name=name,
            qualifier=qualifier,
            invocation_type="RequestResponse",
            status_code=200,
            executed_version=version,
        )

    assert code_sha256_for(details, ran("$LATEST")) == "abc="
    assert code_sha256_for(details, ran(None)) == "abc="  # Event: no executed version, $LATEST called
    assert code_sha256_for(details, ran(None, qualifier="prod")) is None
    assert code_sha256_for(details, ran("3")) is None
    assert code_sha256_for(details, ran("$LATEST", name="other")) is None
    assert code_sha256_for(None, ran("$LATEST")) is None
