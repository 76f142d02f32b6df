"""The invoke form, driven as a user would: set widget values, click buttons."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from typing import Any

import boto3
import pytest
from IPython.core.error import UsageError

import lambda_magic
from lambda_magic import EndpointUnreachableError, LambdaResponse, history, session_settings
from lambda_magic._form import LambdaForm, form
from lambda_magic._samples import SAMPLE_EVENTS, sample_event
from lambda_magic.testing import FakeLambda, Reply


@pytest.fixture
def no_retries() -> None:
    """A lost endpoint fails at once instead of after the engine's connect retries."""
    session_settings().update(throttle_retries=0)


def _fill(f: LambdaForm, **values: Any) -> LambdaForm:
    for name, value in values.items():
        getattr(f.controls, name).value = value
    return f


# --- discovery fills the choices -------------------------------------------------------------


def shown(f: LambdaForm) -> LambdaForm:
    """The browser's "shown" message, as its bridge sends it when it renders the form."""
    f.controls.bridge._handle_custom_msg({"event": "shown"}, [])
    return f


def test_building_a_form_sends_nothing_until_it_is_shown(monkeypatch: pytest.MonkeyPatch, moto_lambda: Any) -> None:
    """The constructor does no I/O: the function list loads when the browser shows the form."""
    from lambda_magic import _discovery

    calls: list[str] = []

    def counted(name: str) -> Any:
        real = getattr(_discovery, name)
        return lambda *args, **kwargs: calls.append(name) or real(*args, **kwargs)

    for name in ("list_functions", "function_details", "list_qualifiers"):
        monkeypatch.setattr(_discovery, name, counted(name))
    f = form("echo", namespace={})
    assert calls == [] and "loading the function list" in f.controls.status.value
    shown(f)
    assert calls == ["list_functions", "function_details", "list_qualifiers"]
    assert f.controls.function.options == ("echo",) and f.controls.status.value == ""
    shown(f)  # shown again (another view): nothing more
    assert len(calls) == 3


def test_function_list_details_and_qualifiers_from_moto(moto_lambda: Any) -> None:
    f = shown(form(namespace={}))
    c = f.controls
    assert c.function.options == ("echo",)
    assert c.invoke.disabled  # no function chosen yet
    c.function.value = "echo"
    assert "python3.11" in c.details.value and "128 MB" in c.details.value
    assert c.qualifier.options == ("$LATEST", "1", "prod")
    assert not c.invoke.disabled


def test_refresh_lists_new_functions(moto_lambda: Any) -> None:
    f = shown(form(namespace={}))
    role = moto_lambda.get_function(FunctionName="echo")["Configuration"]["Role"]
    moto_lambda.create_function(
        FunctionName="added",
        Runtime="python3.11",
        Role=role,
        Handler="a.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    shown(form(namespace={}))  # a second form reuses the cached list
    assert f.controls.function.options == ("echo",)
    f.controls.refresh.click()
    assert f.controls.function.options == ("added", "echo")


def test_sandbox_qualifiers_and_alias_invoke(aws_env: None, demo_sandbox: Any) -> None:
    f = shown(form("health_check", endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region, namespace={}))
    c = f.controls
    assert {"echo", "fail", "health_check"} <= set(c.function.options)
    assert c.qualifier.options == ("$LATEST", "1", "2", "prod")
    _fill(f, qualifier="prod", payload='{"service": "web"}')
    c.invoke.click()
    assert f.result is not None and f.result.ok
    assert f.result.executed_version == "1"
    assert f.result.payload["service"] == "web"


def test_sandbox_function_error_is_a_result(aws_env: None, demo_sandbox: Any, shell: Any, capsys: Any) -> None:
    f = form("fail", endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region, namespace={})
    _fill(f, payload='{"mode": "raise", "message": "boom"}')
    f.controls.invoke.click()
    assert f.result is not None and f.result.function_error == "Unhandled"
    assert str(f.result.error) == "ValueError: boom"
    assert f.error is None and f.history == [f.result]
    assert "error: ValueError: boom" in capsys.readouterr().out  # the response's own display
    assert not f.controls.invoke.disabled


def test_discovery_failure_is_a_note_and_the_form_still_invokes(fake: FakeLambda) -> None:
    f = shown(form("fn", namespace={}))  # FakeLambda answers Invoke only
    assert "cannot list functions" in f.controls.status.value
    f.controls.invoke.click()
    assert f.result is not None and f.result.ok


# --- the payload editor ----------------------------------------------------------------------


def test_invalid_json_disables_invoke_with_line_and_column(moto_lambda: Any) -> None:
    f = form("echo", namespace={})
    c = f.controls
    c.payload.value = '{\n  "a": 1,\n  "b": \n}'
    assert c.invoke.disabled
    assert "line 4, column 1" in c.payload_status.value
    c.payload.value = '{"a": 1}'
    assert c.payload_status.value == "" and not c.invoke.disabled


def test_template_checks_evaluate_nothing_until_invoke(moto_lambda: Any) -> None:
    calls: list[int] = []

    def bump() -> int:
        calls.append(1)
        return len(calls)

    f = form("echo", namespace={"bump": bump, "name": "web"})
    c = f.controls
    for text in ('{"n": ${bump()}', '{"n": ${bump()}, "s": "${name}-1"}'):
        c.payload.value = text
    assert calls == [] and not c.invoke.disabled
    c.invoke.click()
    assert calls == [1]
    assert f.result is not None and f.result.payload == {"n": 1, "s": "web-1"}


def test_dollar_name_must_be_defined(moto_lambda: Any) -> None:
    namespace: dict[str, Any] = {}
    f = form("echo", payload="$event", namespace=namespace)
    assert f.controls.invoke.disabled and "not defined" in f.controls.payload_status.value
    namespace["event"] = {"k": [1, 2]}
    f.controls.payload.value = " $event"
    assert not f.controls.invoke.disabled
    assert f.invoke() is not None and f.result.payload == {"k": [1, 2]}  # type: ignore[union-attr]


def test_format_button(moto_lambda: Any) -> None:
    f = form("echo", payload='{"a":1,"b":[true]}', namespace={})
    f.controls.format.click()
    assert f.controls.payload.value == '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}'
    f.controls.payload.value = '{"a": '
    f.controls.format.click()
    assert f.controls.payload.value == '{"a": ' and "cannot format" in f.controls.payload_status.value


def test_sample_templates_load_and_are_json(moto_lambda: Any) -> None:
    assert {"empty", "apigateway-proxy", "s3-put", "sns", "sqs", "eventbridge-scheduled", "cloudwatch-alarm"} <= set(
        SAMPLE_EVENTS
    )
    f = form("echo", namespace={})
    for key in SAMPLE_EVENTS:
        f.controls.template.value = key
        assert json.loads(f.controls.payload.value) == json.loads(sample_event(key))
        assert f.controls.template.value == "" and not f.controls.invoke.disabled
    assert json.loads(sample_event("s3-put"))["Records"][0]["eventName"] == "ObjectCreated:Put"


# --- Advanced -------------------------------------------------------------------------------


def test_advanced_is_collapsed_and_its_options_reach_the_request(fake: FakeLambda) -> None:
    f = form("fn", payload='{"id": 7}', namespace={})
    c = f.controls
    assert c.advanced.value is False and c.advanced_panel.layout.display == "none"
    _fill(f, invocation_type="Event", qualifier="prod", client_context='{"custom": {"who": "form"}}', log_tail=False)
    c.invoke.click()
    call = fake.calls[-1]
    assert (call.function, call.qualifier, call.payload) == ("fn", "prod", {"id": 7})
    assert call.headers["x-amz-invocation-type"] == "Event"
    assert call.headers["x-amz-log-type"] == "None"
    context = json.loads(base64.b64decode(call.headers["x-amz-client-context"]))
    assert context == {"custom": {"who": "form"}}
    assert f.result is not None and f.result.status_code == 202


def test_invalid_client_context_disables_invoke_and_opens_advanced(fake: FakeLambda) -> None:
    f = form("fn", namespace={})
    f.controls.client_context.value = "[1, 2]"
    assert f.controls.invoke.disabled and f.controls.advanced.value is True
    assert "must be a JSON object" in f.controls.client_context_status.value
    f.controls.client_context.value = ""
    assert not f.controls.invoke.disabled


def test_region_override_reaches_the_call(fake: FakeLambda) -> None:
    f = form("fn", namespace={})
    f.controls.region.value = "eu-west-1"
    f.controls.invoke.click()
    assert "eu-west-1" in fake.calls[-1].headers["authorization"]
    assert history[-1].region == "eu-west-1"


# --- results, history, callbacks, errors -------------------------------------------------------


def test_result_history_and_on_result(fake: FakeLambda) -> None:
    fake.script("fn", Reply.ok({"n": 1}), Reply.function_error("bad"), Reply.ok({"n": 3}))
    f = form("fn", namespace={})
    seen: list[LambdaResponse] = []
    f.on_result(seen.append)
    f.on_result(lambda response: 1 / 0)  # a broken callback must not break the form
    for _ in range(3):
        f.controls.invoke.click()
    assert [r.payload for r in f.history][::2] == [{"n": 1}, {"n": 3}]
    assert f.history[1].function_error == "Unhandled"
    assert f.result is f.history[-1] and seen == f.history
    assert [entry.origin for entry in history] == ["form"] * 3
    assert history[-1].cell == f.controls.payload.value == ""


def test_history_keeps_the_payload_as_written_for_export(fake: FakeLambda) -> None:
    f = form("fn", payload='{"n": ${n + 1}}', namespace={"n": 4})
    f.controls.invoke.click()
    entry = history[-1]
    assert (entry.origin, entry.cell, entry.request.substitutions) == ("form", '{"n": ${n + 1}}', (("n + 1", 5),))
    script = lambda_magic.export("python")
    assert "n + 1" in script and '"n": 5' not in script  # exported as a parameter, not a literal


def test_button_is_disabled_while_the_call_runs(fake: FakeLambda) -> None:
    f = form("fn", namespace={})
    states: list[bool] = []
    fake.on("fn", lambda call: states.append(f.controls.invoke.disabled) or Reply.ok(1))
    f.controls.invoke.click()
    assert states == [True] and not f.controls.invoke.disabled
    assert f.controls.elapsed.value.startswith("200 in ")


def test_lost_endpoint_is_shown_and_the_form_recovers(fake: FakeLambda, no_retries: None, capsys: Any) -> None:
    f = form("fn", endpoint_url=fake.url, namespace={})
    fake.stop()
    assert f.invoke() is None
    assert isinstance(f.error, EndpointUnreachableError)
    assert str(f.error) in capsys.readouterr().err
    assert f.controls.elapsed.value.startswith("failed after")
    assert not f.controls.invoke.disabled and f.result is None
    with FakeLambda() as again:
        f.endpoint_url = again.url
        f.controls.invoke.click()
    assert f.error is None and f.result is not None and f.result.ok
    assert f.history == [f.result]


def test_stopped_sandbox_then_restarted(aws_env: None, no_retries: None, capsys: Any) -> None:
    from lambda_magic.sandbox import Sandbox

    sandbox = Sandbox(port=0).start()
    try:
        f = form("echo", payload='{"n": 1}', endpoint_url=sandbox.endpoint_url, region=sandbox.region, namespace={})
        sandbox.stop()
        f.controls.invoke.click()
        assert isinstance(f.error, EndpointUnreachableError) and f.result is None
        assert capsys.readouterr().err.strip() == str(f.error)
        sandbox.start()  # a new port: repoint the form, Refresh, click again
        f.endpoint_url = sandbox.endpoint_url
        f.controls.refresh.click()
        assert "echo" in f.controls.function.options and f.controls.status.value == ""
        f.controls.invoke.click()
        assert f.error is None and f.result is not None and f.result.payload["event"] == {"n": 1}
    finally:
        sandbox.stop()


def test_request_errors_are_one_line_messages(fake: FakeLambda, capsys: Any) -> None:
    f = form("fn", payload='{"v": ${undefined_name}}', namespace={})
    f.controls.invoke.click()
    assert f.result is None and f.error is not None
    assert capsys.readouterr().err.strip() == str(f.error)
    assert "undefined_name" in str(f.error) and "\n" not in str(f.error)
    assert fake.calls == []


# --- Copy as magic ---------------------------------------------------------------------------


def test_copy_as_magic_shows_a_quoted_cell(fake: FakeLambda) -> None:
    f = form("fn", payload='{"q": "it\'s"}', endpoint_url=fake.url, namespace={})
    _fill(
        f,
        invocation_type="DryRun",
        qualifier="$LATEST",
        client_context='{"custom": {"a": "b c"}}',
        log_tail=False,
        profile="",
    )
    assert f.controls.magic.layout.display == "none"
    f.controls.copy.click()  # the browser copies; it reports the clipboard refused
    assert f.controls.magic.layout.display == "none"
    f.controls.bridge._handle_custom_msg({"event": "copied", "ok": False}, [])
    assert f.controls.magic.layout.display is None
    assert "the clipboard refused" in f.controls.elapsed.value
    assert f.controls.magic.value == (
        f'%%lambda_invoke fn -t DryRun -q \'$LATEST\' -c \'{{"custom":{{"a":"b c"}}}}\' '
        f'--endpoint-url {fake.url} --no-log\n{{"q": "it\'s"}}'
    )
    f.controls.qualifier.value = "prod"  # the shown cell follows the form
    assert " -q prod " in f.controls.magic.value
    f.controls.copy.click()  # a second click hides the box again (the browser says so)
    f.controls.bridge._handle_custom_msg({"event": "hide-magic"}, [])
    assert f.controls.magic.layout.display == "none"


def test_copy_that_reached_the_clipboard_shows_no_box(fake: FakeLambda) -> None:
    f = form("fn", payload="{}", endpoint_url=fake.url, namespace={})
    f.controls.copy.click()
    f.controls.bridge._handle_custom_msg({"event": "copied", "ok": True}, [])
    assert f.controls.elapsed.value == "copied to the clipboard"
    assert f.controls.magic.layout.display == "none"


def test_copied_cell_gives_the_same_response(fake: FakeLambda, shell: Any) -> None:
    shell.user_ns["n"] = 41
    f = form("fn", payload='{"n": ${n + 1}, "s": "a b"}', namespace=shell.user_ns)
    _fill(f, qualifier="prod", client_context='{"custom": {"k": "v"}}', invocation_type="RequestResponse")
    response = f.invoke()
    cell = f.show_magic()
    result = shell.run_cell(cell)
    assert result.success, result.error_in_exec
    again = result.result
    assert isinstance(again, LambdaResponse) and response is not None
    assert (again.payload, again.target, again.status_code) == (response.payload, response.target, 200)
    first, second = fake.calls[-2:]
    assert first.body == second.body and first.qualifier == second.qualifier == "prod"
    for header in ("x-amz-invocation-type", "x-amz-log-type", "x-amz-client-context"):
        assert first.headers[header] == second.headers[header]


def test_copied_cell_against_moto(moto_lambda: Any, shell: Any) -> None:
    f = form("echo", payload='{"hello": "moto"}', namespace=shell.user_ns)
    f.controls.qualifier.value = "prod"
    f.controls.invoke.click()
    again = shell.run_cell(f.magic_text()).result
    assert f.result is not None and again.payload == f.result.payload == {"hello": "moto"}


# --- the magic and its frontend check --------------------------------------------------------


def test_lambda_form_in_a_terminal_is_a_one_line_usage_error(shell: Any) -> None:
    with pytest.raises(UsageError, match=r"^%lambda_form needs a notebook with widgets .*%%lambda_invoke$"):
        shell.run_line_magic("lambda_form", "")


def test_lambda_form_in_a_kernel_returns_the_form(
    moto_lambda: Any, shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    shown = shell.run_line_magic("lambda_form", "echo --region us-east-1 -o f")
    assert isinstance(shown, LambdaForm) and shell.user_ns["f"] is shown
    assert shown.function == "echo" and shown.controls.region.value == "us-east-1"
    bundle = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    with pytest.raises(UsageError, match="not a Python variable name"):
        shell.run_line_magic("lambda_form", "-o 1x")


def test_public_names_and_lazy_import() -> None:
    assert lambda_magic.form is form and lambda_magic.LambdaForm is LambdaForm
    code = (
        "import sys, lambda_magic; from IPython.core.interactiveshell import InteractiveShell; "
        "InteractiveShell.instance().run_line_magic('load_ext', 'lambda_magic'); "
        "print('ipywidgets' in sys.modules, 'boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_response_summary_has_the_code_sha256_getfunction_gave(aws_env: None, demo_sandbox: Any) -> None:
    import boto3

    client = boto3.client("lambda", endpoint_url=demo_sandbox.endpoint_url, region_name=demo_sandbox.region)
    latest = client.get_function_configuration(FunctionName="health_check")["CodeSha256"]
    f = shown(form("health_check", endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region, namespace={}))
    _fill(f, payload='{"service": "web"}')
    f.controls.invoke.click()
    assert f.result is not None and f.result.code_sha256 == latest
    assert f"code SHA-256 {latest}" in f.result._repr_html_()
    _fill(f, qualifier="1", payload='{"service": "web"}')  # another version ran: $LATEST's hash would be a wrong claim
    f.controls.invoke.click()
    assert f.result.executed_version == "1" and f.result.code_sha256 is None


# --- saved test events ------------------------------------------------------------------------


@pytest.fixture
def sandbox_form(aws_env: None, demo_sandbox: Any) -> Any:
    """A form on the sandbox's echo function (Lambda and the schema registry)."""
    session_settings().update(endpoint_url=demo_sandbox.endpoint_url, region=demo_sandbox.region)
    return form("echo", namespace={})


def test_form_saves_a_private_event_loads_and_deletes_it(sandbox_form: LambdaForm, isolated: Any) -> None:
    f = sandbox_form
    c = f.controls
    _fill(f, payload='{"order": 42}', event_name="order-42")
    c.save_event.click()
    assert "saved order-42 for echo" in c.events_status.value
    assert json.loads((isolated / ".lambda_magic/events/echo/order-42.json").read_text()) == {"order": 42}
    assert c.saved_events.value == "private:order-42"
    c.payload.value = "{}"
    c.saved_events.value = ""
    c.saved_events.value = "private:order-42"
    assert json.loads(c.payload.value) == {"order": 42}
    c.delete_event.click()
    assert not (isolated / ".lambda_magic/events/echo/order-42.json").exists()
    assert [label for label, _key in c.saved_events.options] == ["Choose a saved event…"]


def test_form_shared_event_is_in_the_registry_and_the_magic_sends_it(
    sandbox_form: LambdaForm, demo_sandbox: Any, shell: Any
) -> None:
    f = sandbox_form
    _fill(f, payload='{"from": "the form"}', event_name="form-shared", event_shared=True)
    f.controls.save_event.click()
    schemas = boto3.client("schemas", endpoint_url=demo_sandbox.endpoint_url, region_name=demo_sandbox.region)
    try:
        content = json.loads(
            schemas.describe_schema(RegistryName="lambda-testevent-schemas", SchemaName="_echo-schema")["Content"]
        )
        assert content["components"]["examples"]["form-shared"] == {
            "value": {"from": "the form"},
            "x-metadata": {"invocationType": "RequestResponse"},
        }
        assert ("form-shared (shared)", "shared:form-shared") in f.controls.saved_events.options
        shell.run_line_magic("lambda_invoke", "echo --event form-shared -o sent --quiet")
        assert shell.user_ns["sent"].payload["event"] == {"from": "the form"}
    finally:
        f.controls.saved_events.value = "shared:form-shared"
        f.controls.delete_event.click()
    assert "deleted form-shared (shared)" in f.controls.events_status.value


def test_form_refuses_a_bad_event_name_and_a_template(sandbox_form: LambdaForm, isolated: Any) -> None:
    f = sandbox_form
    _fill(f, payload='{"a": 1}', event_name="no spaces")
    f.controls.save_event.click()
    assert "up to 25 letters" in f.controls.events_status.value
    _fill(f, payload='{"a": ${1 + 1}}', event_name="templ")
    f.controls.save_event.click()
    assert "not saved" in f.controls.events_status.value
    assert not (isolated / ".lambda_magic").exists()


def test_loading_an_event_sets_its_invocation_type(sandbox_form: LambdaForm) -> None:
    f = sandbox_form
    _fill(f, payload='{"async": true}', event_name="async-one", event_shared=True, invocation_type="Event")
    f.controls.save_event.click()
    try:
        _fill(f, invocation_type="RequestResponse", payload="{}")
        f.controls.saved_events.value = ""
        f.controls.saved_events.value = "shared:async-one"
        assert f.controls.invocation_type.value == "Event"
        assert "Event" in f.what_will_happen()
    finally:
        f.controls.delete_event.click()


# --- interrupt --------------------------------------------------------------------------------


def _interrupt_after(seconds: float) -> threading.Timer:
    """SIGINT to this process after ``seconds``, as the kernel's Interrupt sends it."""
    timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_interrupt_stops_a_form_call_like_a_magic_cell(sandbox_form: LambdaForm, shell: Any, capsys: Any) -> None:
    f = sandbox_form
    _fill(f, payload='{"seconds": 2.5}')
    f.controls.function.value = "sleep"
    timer = _interrupt_after(0.3)
    assert f.invoke() is None  # the sleep would have answered after 2.5 s
    timer.join()
    form_entry = history[-1]
    form_message = capsys.readouterr().err.strip()
    timer = _interrupt_after(0.3)
    with pytest.raises(UsageError) as magic_error:
        shell.run_cell_magic("lambda_invoke", "sleep", '{"seconds": 2.5}')
    timer.join()
    magic_entry = history[-1]
    assert form_message == str(magic_error.value) == str(f.error)
    assert form_message.startswith("interrupted while invoking sleep: the invocation may still be running")
    assert (form_entry.origin, magic_entry.origin) == ("form", "magic")
    assert type(form_entry.error) is type(magic_entry.error) is lambda_magic.InterruptedInvocationError
    assert str(form_entry.error) == str(magic_entry.error)
    assert not f.controls.invoke.disabled and f.controls.cancel.layout.display == "none"


# --- what will happen ---------------------------------------------------------------------------


def test_summary_names_every_setting_that_differs_from_the_default(fake: FakeLambda) -> None:
    f = form("fn", namespace={})
    assert f.what_will_happen() == [] and "·" not in f.controls.summary.value
    _fill(f, invocation_type="Event", qualifier="prod", client_context='{"custom": {}}', region="eu-west-1")
    assert f.what_will_happen() == ["Event", "prod", "client context set", "eu-west-1"]
    assert "Event · prod · client context set · eu-west-1" in f.controls.summary.value
    assert f.controls.advanced.value is False  # collapsed, and still said next to Invoke


def test_client_context_is_cleared_when_the_function_changes(fake: FakeLambda) -> None:
    f = form("first", namespace={})
    _fill(f, client_context='{"custom": {"for": "first"}}')
    f.controls.function.value = "second"
    assert f.controls.client_context.value == ""
    assert "client context cleared (it was set for first)" in f.controls.summary.value
    assert f.request().client_context is None
