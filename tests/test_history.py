"""The invocation history: entries, selection, the table, %lambda_history, no secrets kept."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from lambda_magic import history
from lambda_magic._exceptions import FunctionNotFoundError
from lambda_magic._request import make_request
from lambda_magic._response import LambdaResponse
from lambda_magic.runbook._history import History, HistoryError, HistoryTable, parse_selection
from lambda_magic.testing import FakeLambda, Reply

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"


def _response(status: int = 200, function_error: str | None = None, elapsed: float = 0.0123) -> LambdaResponse:
    return LambdaResponse(
        function_name="fn",
        qualifier="prod",
        invocation_type="RequestResponse",
        status_code=status,
        raw_payload=b'{"ok": true}',
        function_error=function_error,
        elapsed=elapsed,
    )


def _record(source: History, **details: Any) -> Any:
    return source.record(make_request("fn", b"{}", qualifier="prod"), **details)


def run(shell: Any, source: str) -> Any:
    """Run a cell as a notebook does (stored, so it gets an In [n] number)."""
    result = shell.run_cell(source, store_history=True)
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


# --- entries ---------------------------------------------------------------------------


def test_entry_fields_for_a_response_a_function_error_and_an_error() -> None:
    source = History()
    ok = _record(source, response=_response(), origin="magic", region="eu-west-1")
    failed = _record(source, response=_response(function_error="Unhandled"))
    refused = _record(source, error=FunctionNotFoundError("function fn not found", function="fn"))
    assert (ok.index, failed.index, refused.index) == (1, 2, 3)
    assert (ok.function, ok.qualifier, ok.invocation_type, ok.target) == ("fn", "prod", "RequestResponse", "fn:prod")
    assert (ok.status, failed.status, refused.status) == ("200 OK", "200 Unhandled", "FunctionNotFoundError")
    assert (ok.ok, failed.ok, refused.ok) == (True, False, False)
    assert ok.duration_ms == pytest.approx(12.3) and refused.duration_ms is None
    assert ok.where == "magic" and ok.region == "eu-west-1"
    assert _record(source, response=_response(status=202)).status == "202 Accepted"


def test_numbers_go_on_across_clears_and_maxlen_drops_the_oldest() -> None:
    source = History(maxlen=3)
    for _ in range(5):
        _record(source, response=_response())
    assert [entry.index for entry in source] == [3, 4, 5]
    source.clear()
    assert len(source) == 0 and _record(source).index == 6
    source.maxlen = 1
    _record(source)
    assert [entry.index for entry in source] == [7]
    with pytest.raises(HistoryError, match="at least 1"):
        source.maxlen = 0


def test_listeners_hear_each_entry_until_stopped() -> None:
    source = History()
    heard: list[int] = []
    stop = source.listen(lambda entry: heard.append(entry.index))
    first = _record(source)
    stop()
    _record(source)
    stop()  # twice is harmless
    assert heard == [first.index]


def test_record_is_thread_safe() -> None:
    source = History()
    threads = [threading.Thread(target=lambda: [_record(source) for _ in range(50)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(entry.index for entry in source) == list(range(1, 401))


def test_cells_are_attributed_while_they_run_only() -> None:
    source = History()
    source.begin_cell("%%lambda_invoke fn\n{}", 7)
    inside = _record(source)
    source.end_cell()
    outside = _record(source)
    assert (inside.source, inside.execution_count, inside.where) == ("%%lambda_invoke fn\n{}", 7, "In [7]")
    assert (outside.source, outside.execution_count, outside.where) == (None, None, "api")


# --- selection -------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "numbers"), [("1-3,5", [1, 2, 3, 5]), ("4", [4]), ("2, 1-2", [1, 2])])
def test_parse_selection(spec: str, numbers: list[int]) -> None:
    assert parse_selection(spec) == numbers


@pytest.mark.parametrize("spec", ["x", "3-1", "0", "1-", "", "1,,2", "1-99999999"])
def test_bad_selections_are_one_line_errors(spec: str) -> None:
    with pytest.raises(HistoryError) as info:
        parse_selection(spec)
    message = str(info.value)
    assert "\n" not in message and ("1-3,5" in message or "low-high" in message)


def test_select_and_entry_by_number() -> None:
    source = History()
    for _ in range(4):
        _record(source)
    assert [entry.index for entry in source.select("2-3")] == [2, 3]
    assert [entry.index for entry in source.select([4, 1])] == [1, 4]
    assert source.select() == list(source)
    assert source.entry(3).index == 3
    with pytest.raises(HistoryError, match=r"no entry 7, 9 in the history \(entries 1-4 are there\)"):
        source.select("7,9")
    with pytest.raises(HistoryError, match="it is empty"):
        History().entry(1)


# --- display ---------------------------------------------------------------------------


def test_text_table_has_every_column() -> None:
    source = History()
    _record(source, response=_response(), origin="magic", execution_count=4)
    _record(source, error=FunctionNotFoundError("nope"))
    text = source.table().text()
    header = text.splitlines()[0].split()
    assert header == ["#", "time", "function", "qualifier", "type", "status", "duration", "ok", "cell"]
    assert "fn  " in text and "prod" in text and "12.3 ms" in text and "In [4]" in text
    assert "FunctionNotFoundError" in text and "NO" in text
    assert "history.entry(N).response" in text
    assert History().table().text() == "no invocations in the history yet"


def test_html_table_is_escaped() -> None:
    source = History()
    _record(source, response=_response(), origin="<script>alert(1)</script>")
    html = source._repr_html_()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert html.count("<tr>") == 2 and 'class="lm-ok"' in html
    assert repr(source) == "<History 1 invocations>" and repr(source.table()) == "<HistoryTable 1 entries>"


# --- secrets ---------------------------------------------------------------------------


def test_errors_are_kept_without_traceback_or_cause() -> None:
    source = History()
    try:
        try:
            raise RuntimeError("botocore internals")
        except RuntimeError as cause:
            raise FunctionNotFoundError("function fn not found", function="fn", code="X") from cause
    except FunctionNotFoundError as error:
        entry = _record(source, error=error)
        assert error.__traceback__ is not None  # the raised error itself is untouched
    kept = entry.error
    assert isinstance(kept, FunctionNotFoundError) and str(kept) == "function fn not found"
    assert (kept.function, kept.code) == ("fn", "X")
    assert kept.__traceback__ is None and kept.__cause__ is None and kept.__context__ is None


def test_endpoint_userinfo_is_not_recorded() -> None:
    entry = _record(History(), endpoint_url="https://user:pa55word@lambda.example.com:8443/x")
    assert entry.endpoint_url == "https://lambda.example.com:8443/x"


def _strings(value: Any, seen: set[int] | None = None, depth: int = 0) -> list[str]:
    """Every string reachable from ``value`` (attributes, containers, exception args)."""
    seen = seen if seen is not None else set()
    if id(value) in seen or depth > 12:
        return []
    seen.add(id(value))
    if isinstance(value, (str, bytes)):
        return [value if isinstance(value, str) else value.decode("utf-8", "replace")]
    children: list[Any] = []
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = list(value)
    elif isinstance(value, BaseException):
        children = [value.args, vars(value), value.__traceback__, value.__cause__, value.__context__]
    elif hasattr(value, "__dict__"):
        children = [vars(value)]
    elif hasattr(value, "__dataclass_fields__"):
        children = [getattr(value, name) for name in value.__dataclass_fields__]
    found = [repr(value)] if not isinstance(value, (dict, list, tuple)) else []
    for child in children:
        found += _strings(child, seen, depth + 1)
    return found


def test_no_secret_reaches_the_history(shell: Any, fake: FakeLambda, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    secret_file.chmod(0o600)
    fake.script("missing", Reply.error(404, "ResourceNotFoundException", "Function not found"))
    run(shell, f"%lambda_config access_key={ACCESS_KEY} secret_key_path={secret_file}")
    run(shell, '%%lambda_invoke echo -q prod -c \'{"custom": {"k": 1}}\'\n{"id": 1}')
    with pytest.raises(UsageError):
        run(shell, "%lambda_invoke missing")
    assert [entry.ok for entry in history] == [True, False]
    texts = [*_strings(list(history)), history.table().text(), history._repr_html_()]
    assert not [text for text in texts if SECRET in text]
    assert history[-1].error is not None and history[-1].error.__traceback__ is None


# --- %lambda_history -------------------------------------------------------------------


def test_lambda_history_shows_the_cells_invocations(shell: Any, fake: FakeLambda) -> None:
    run(shell, "%%lambda_invoke echo -o first\n{}")
    run(shell, "%lambda_invoke echo --payload '{\"n\": 2}' --quiet")
    table = run(shell, "%lambda_history")
    assert isinstance(table, HistoryTable) and len(table) == 2
    first, second = table
    assert first.source == "%%lambda_invoke echo -o first\n{}"
    assert first.execution_count is not None and second.execution_count == first.execution_count + 1
    assert first.response is shell.user_ns["first"]
    assert [entry.index for entry in run(shell, f"%lambda_history {second.index}")] == [second.index]


def test_lambda_history_clear_and_its_errors(shell: Any, fake: FakeLambda, capsys: Any) -> None:
    run(shell, "%lambda_invoke echo --quiet")
    run(shell, "%lambda_history --clear")
    assert len(history) == 0 and "forgot 1 invocation" in capsys.readouterr().out
    for line, message in [("9", "no entry 9"), ("1-x", "bad entry selection"), ("--clear 1", "leave out")]:
        with pytest.raises(UsageError, match=message):
            shell.run_line_magic("lambda_history", line)


def test_numbered_cells_are_remembered_with_their_outcome(shell: Any) -> None:
    run(shell, "x = 1")
    with pytest.raises(ZeroDivisionError):
        run(shell, "1 / 0")
    shell.run_cell("y = 2")  # not stored: no In [n], not remembered
    cells = history.cells()[-2:]
    assert [(cell.source, cell.ok) for cell in cells] == [("x = 1", True), ("1 / 0", False)]
    assert cells[1].execution_count == (cells[0].execution_count or 0) + 1
    history.clear()
    assert history.cells() == []


def test_the_cell_hook_is_registered_once(shell: Any) -> None:
    from lambda_magic.runbook._history_magics import HistoryMagics

    before = len(shell.events.callbacks["pre_run_cell"])
    HistoryMagics(shell=shell)
    shell.run_line_magic("unload_ext", "lambda_magic")
    shell.run_line_magic("load_ext", "lambda_magic")
    assert len(shell.events.callbacks["pre_run_cell"]) == before


def test_entries_carry_the_number_the_cell_ran_as(shell: Any, fake: FakeLambda) -> None:
    """Under the installed IPython, ``In [n]`` is the number ``run_cell`` gave the cell."""
    result = shell.run_cell("%lambda_invoke echo --payload '{\"n\": 1}' --quiet", store_history=True)
    assert result.error_in_exec is None
    assert history[-1].execution_count == result.execution_count
    assert history.cells()[-1].execution_count == result.execution_count
    assert f"In [{result.execution_count}]" in history.table().text()


def test_prompt_numbers_hold_when_the_shell_counts_up_before_pre_run_cell(shell: Any, fake: FakeLambda) -> None:
    """IPython 9 (``run_cell_async`` in IPython/core/interactiveshell.py, read with ``fetch``):
    ``execution_count = result.execution_count = self.execution_count``, then
    ``self.execution_count += 1``, then ``pre_run_cell``. Replayed here event by event on
    the real shell, whatever IPython is installed: the entry must say the cell's number."""
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    source = "%lambda_invoke echo --payload '{\"n\": 9}' --quiet"
    info = ExecutionInfo(source, store_history=True, silent=False, shell_futures=True, cell_id=None)
    result = ExecutionResult(info)
    number = result.execution_count = shell.execution_count
    shell.execution_count += 1
    shell.events.trigger("pre_run_cell", info)
    shell.run_line_magic("lambda_invoke", source.removeprefix("%lambda_invoke "))
    shell.events.trigger("post_run_cell", result)
    assert history[-1].execution_count == number and history[-1].where == f"In [{number}]"
    assert history.cells()[-1].execution_count == number
    assert f"In [{number}]" in history.table().text()


# --- the table's size, alignment and labels (issue 13) -----------------------------------


def _fill(count: int) -> None:
    for n in range(count):
        history.record(make_request("fn", b"{}"), response=_response(), origin="api", cell=str(n))


def test_lambda_history_shows_the_last_50_by_default(shell: Any) -> None:
    _fill(120)
    base = history[0].index - 1  # numbers go on across clears: the first is base + 1
    table = run(shell, "%lambda_history")
    assert [entry.index - base for entry in table] == list(range(71, 121)) and table.omitted == 70
    note = (
        f"showing the last 50 of 120: %lambda_history --all shows every one, -n N the last N, "
        f"{base + 61}-{base + 70} a range"
    )
    assert f"({note})" in table.text() and note in table._repr_html_()
    assert len(run(shell, "%lambda_history --all")) == 120
    assert [entry.index - base for entry in run(shell, "%lambda_history -n 3")] == [118, 119, 120]
    span = f"{base + 10}-{base + 20}"
    assert [entry.index - base for entry in run(shell, f"%lambda_history {span}")] == list(range(10, 21))
    assert "showing the last" not in run(shell, f"%lambda_history {span}").text()
    assert len(run(shell, "%lambda_history -n 500")) == 120
    assert history._repr_html_().count("<tr>") == 51  # the object itself shows the last 50 too


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-n 0", r"^-n 0: give how many of the latest entries to show, at least 1$"),
        ("--all 3-5", r"^give one of a selection, -n N or --all, not a selection and --all$"),
        ("-n 3 --all", r"^give one of a selection, -n N or --all, not -n and --all$"),
        ("--clear -n 2", r"^--clear forgets every entry: leave out the selection, -n and --all$"),
    ],
)
def test_lambda_history_option_clashes_are_one_line(shell: Any, line: str, message: str) -> None:
    _fill(3)
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic("lambda_history", line)
    assert len(history) == 3


def test_html_table_is_left_aligned_inline_and_themed() -> None:
    from lambda_magic._theme import THEME_CSS

    source = History()
    _record(source, response=_response())
    _record(source, error=FunctionNotFoundError("nope"))
    html = source._repr_html_()
    # JupyterLab's .jp-RenderedHTMLCommon td/th rules right-align: only an inline style wins.
    cells = re.findall(r"<t[hd][ >][^>]*>", html)
    assert len(cells) == 2 * 9 + 9 and all('style="text-align:left"' in cell for cell in cells)
    assert THEME_CSS in html and "color:var(--lm-ok)" in html and "color:#" not in html.replace(THEME_CSS, "")


def test_calls_finishing_after_an_interrupt_are_labelled_with_their_cell(shell: Any, fake: FakeLambda) -> None:
    import _thread
    import time

    release = threading.Event()
    seen: list[int] = []
    lock = threading.Lock()

    def handler(call: Any) -> Reply:
        with lock:
            seen.append(call.payload["id"])
            if len(seen) == 4:
                _thread.interrupt_main()
        release.wait(10)  # the calls in flight finish only after the cell has ended
        return Reply.ok(call.payload)

    fake.on("fn", handler)
    cell = "%%lambda_invoke fn --each --concurrency 4 -o res\n" + str([{"id": i} for i in range(40)])
    result = shell.run_cell(cell.replace("'", '"'), store_history=True)
    assert type(result.error_in_exec) is UsageError
    in_flight = shell.user_ns["res"].indices("in flight")
    assert in_flight and not history.select()  # nothing has finished yet
    run(shell, "x = 1")  # another cell runs meanwhile
    release.set()
    deadline = time.monotonic() + 10
    while len(history) < len(in_flight) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(history) == len(in_flight)
    assert {entry.where for entry in history} == {f"In [{result.execution_count}]"}
    assert {entry.source for entry in history} == {cell.replace("'", '"')}
