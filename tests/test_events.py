"""Saved test events: private project files, and shareable ones in the schema registry the
console and the SAM CLI use, end to end through boto3's ``schemas`` client and the sandbox."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from IPython.core.error import UsageError

from lambda_magic import AccessDeniedError, ParameterError, PayloadError, history, session_settings
from lambda_magic._events import (
    REGISTRY,
    _Shared,
    delete_event,
    event_function,
    events_dir,
    list_events,
    load_event,
    save_event,
    schema_name,
)
from lambda_magic.sandbox._schemas_api import discovered_schema


@pytest.fixture
def sandbox(aws_env: None, demo_sandbox: Any) -> Iterator[Any]:
    """The demo sandbox as the session's endpoint (Lambda and the schema registry)."""
    session_settings().update(endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region)
    yield demo_sandbox


def _schemas(sandbox: Any) -> Any:
    """An unmodified boto3 schemas client, as the SAM CLI and the console's API use."""
    return boto3.client("schemas", endpoint_url=sandbox.endpoint_url, region_name=sandbox.region)


def _document(sandbox: Any, function: str) -> dict[str, Any]:
    answer = _schemas(sandbox).describe_schema(RegistryName=REGISTRY, SchemaName=f"_{function}-schema")
    assert answer["Type"] == "OpenApi3"
    return json.loads(answer["Content"])  # type: ignore[no-any-return]


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "fn",
        "fn:prod",
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "arn:aws:lambda:eu-west-1:123456789012:function:fn:7",
        "123456789012:function:fn",
    ],
)
def test_events_belong_to_the_function_name(given: str) -> None:
    assert event_function(given) == "fn"
    assert schema_name(given) == "_fn-schema"  # the SAM CLI's _get_schema_name


@pytest.mark.parametrize("name", ["", "a b", "x" * 26, "../up", "é"])
def test_event_names_follow_the_console_rule(name: str, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="up to 25 letters"):
        save_event("fn", name, "{}", start=tmp_path)
    assert not (tmp_path / ".lambda_magic").exists()


def test_templates_are_not_saved(tmp_path: Path) -> None:
    with pytest.raises(PayloadError, match=r"plain JSON: \$\{\.\.\.\} and \$name are not saved"):
        save_event("fn", "t", '{"n": ${x}}', start=tmp_path)


# --- private events ---------------------------------------------------------------------------


def test_private_events_live_next_to_the_nearest_settings_file(tmp_path: Path) -> None:
    (tmp_path / "lambda_magic.toml").write_text('region = "eu-west-1"\n', encoding="utf-8")
    notebooks = tmp_path / "notebooks" / "ops"
    notebooks.mkdir(parents=True)
    save_event("fn:prod", "smoke", '{"a": 1}', start=notebooks)
    path = tmp_path / ".lambda_magic" / "events" / "fn" / "smoke.json"
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1}
    assert events_dir(notebooks) == tmp_path / ".lambda_magic" / "events"


def test_private_events_without_settings_file_go_to_the_working_directory(isolated: Path) -> None:
    save_event("fn", "one", '{"n": 1}')
    assert (isolated / ".lambda_magic" / "events" / "fn" / "one.json").is_file()


def test_private_save_list_load_replace_delete(tmp_path: Path) -> None:
    save_event("fn", "b", '{"n": 2}', start=tmp_path)
    save_event("fn", "a", '{"n": 1}', start=tmp_path)
    save_event("other", "c", "{}", start=tmp_path)
    assert [e.name for e in list_events("fn", shared=False, start=tmp_path)] == ["a", "b"]
    save_event("fn", "a", '{"n": 10}', start=tmp_path)
    assert json.loads(load_event("fn", "a", shared=False, start=tmp_path).text) == {"n": 10}
    delete_event("fn", "a", start=tmp_path)
    assert [e.name for e in list_events("fn", shared=False, start=tmp_path)] == ["b"]
    with pytest.raises(ParameterError, match="no private event 'a' for fn"):
        delete_event("fn", "a", start=tmp_path)
    with pytest.raises(ParameterError, match="no saved event 'a' for fn"):
        load_event("fn", "a", shared=False, start=tmp_path)


# --- shareable events, through the sandbox's schema registry ----------------------------------


def test_shared_event_is_in_the_registry_in_the_sam_cli_format(sandbox: Any) -> None:
    save_event("shared_fmt", "first", '{"id": 7, "tags": ["a"]}', shared=True)
    answer = _schemas(sandbox).describe_schema(RegistryName=REGISTRY, SchemaName="_shared_fmt-schema")
    # A new schema starts from GetDiscoveredSchema; the example is added as the SAM CLI adds
    # it, and serialised with json.dumps' default separators like the SAM CLI's.
    expected = discovered_schema({"id": 7, "tags": ["a"]})
    expected["components"]["examples"] = {
        "first": {"value": {"id": 7, "tags": ["a"]}, "x-metadata": {"invocationType": "RequestResponse"}}
    }
    assert answer["Content"] == json.dumps(expected)
    assert _schemas(sandbox).describe_registry(RegistryName=REGISTRY)["RegistryName"] == REGISTRY


def test_shared_events_list_load_delete(sandbox: Any) -> None:
    save_event("shared_crud", "one", '{"n": 1}', shared=True)
    save_event("shared_crud", "two", '{"n": 2}', shared=True, invocation_type="Event")
    events = list_events("shared_crud")
    assert [(e.label, e.invocation_type) for e in events] == [
        ("one (shared)", "RequestResponse"),
        ("two (shared)", "Event"),
    ]
    assert json.loads(load_event("shared_crud", "two").text) == {"n": 2}
    delete_event("shared_crud", "one", shared=True)
    assert list(_document(sandbox, "shared_crud")["components"]["examples"]) == ["two"]
    delete_event("shared_crud", "two", shared=True)  # the last event takes the schema with it
    with pytest.raises(_schemas(sandbox).exceptions.NotFoundException):
        _schemas(sandbox).describe_schema(RegistryName=REGISTRY, SchemaName="_shared_crud-schema")
    assert list_events("shared_crud") == []


def test_an_event_saved_with_boto3_like_the_console_is_listed(sandbox: Any) -> None:
    content = json.dumps(
        {
            "openapi": "3.0.0",
            "info": {"version": "1.0.0", "title": "Event"},
            "paths": {},
            "components": {"examples": {"from-console": {"value": {"k": "v"}}}},
        }
    )
    client = _schemas(sandbox)
    with contextlib.suppress(client.exceptions.ConflictException):
        client.create_registry(RegistryName=REGISTRY)
    client.create_schema(RegistryName=REGISTRY, SchemaName="_console_fn-schema", Type="OpenApi3", Content=content)
    (event,) = list_events("console_fn")
    assert (event.name, event.shared, json.loads(event.text)) == ("from-console", True, {"k": "v"})


def test_at_most_five_schema_versions_are_kept(sandbox: Any) -> None:
    for number in range(7):
        save_event("shared_versions", "e", json.dumps({"n": number}), shared=True)
    versions = _schemas(sandbox).list_schema_versions(RegistryName=REGISTRY, SchemaName="_shared_versions-schema")
    numbers = [int(v["SchemaVersion"]) for v in versions["SchemaVersions"]]
    assert len(numbers) <= 5 and max(numbers) == 7
    assert json.loads(load_event("shared_versions", "e").text) == {"n": 6}


def test_a_private_event_wins_over_a_shared_one_of_the_same_name(sandbox: Any, isolated: Path) -> None:
    save_event("both_fn", "same", '{"where": "shared"}', shared=True)
    save_event("both_fn", "same", '{"where": "private"}')
    assert json.loads(load_event("both_fn", "same").text) == {"where": "private"}
    assert json.loads(load_event("both_fn", "same", shared=True).text) == {"where": "shared"}
    assert [e.label for e in list_events("both_fn")] == ["same", "same (shared)"]


def test_forbidden_registry_says_which_permission(aws_env: None) -> None:
    client = boto3.client("schemas", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("describe_schema", service_error_code="ForbiddenException", http_status_code=403)
        with pytest.raises(AccessDeniedError, match=r"schemas:DescribeSchema.*or keep the event private"):
            _Shared(None, client).events("fn")


# --- %%lambda_invoke --event ------------------------------------------------------------------


def test_magic_sends_a_shared_event(sandbox: Any, shell: Any) -> None:
    save_event("echo", "magic-shared", '{"hello": "registry"}', shared=True)
    try:
        shell.run_line_magic("lambda_invoke", "echo --event magic-shared -o shared_r --quiet")
        assert shell.user_ns["shared_r"].payload["event"] == {"hello": "registry"}
        assert history[-1].origin == "magic"
    finally:
        delete_event("echo", "magic-shared", shared=True)


def test_magic_sends_a_private_event_and_names_a_missing_one(sandbox: Any, shell: Any, isolated: Path) -> None:
    save_event("echo", "local", '{"from": "file"}')
    shell.run_line_magic("lambda_invoke", "echo:$LATEST --event local -o private_r --quiet")
    assert shell.user_ns["private_r"].payload["event"] == {"from": "file"}
    before = len(history)
    with pytest.raises(UsageError, match="no saved event 'nope' for echo: save one from %lambda_form"):
        shell.run_line_magic("lambda_invoke", "echo --event nope")
    with pytest.raises(UsageError, match="not both"):
        shell.run_cell_magic("lambda_invoke", "echo --event local", '{"a": 1}')
    assert len(history) == before  # nothing was sent
