"""Bad input, as a new user types it: every case one clear line, and nothing sent.

Each shell case runs its cells in a real IPython ``InteractiveShell`` whose settings point at
a counting loopback endpoint (``Counting``: it answers like Invoke and counts every
connection and every request), and asserts for the last cell: IPython's own ``UsageError``
(not a subclass, which IPython prints with a traceback), one line, a message that names
what to fix and says what to do, and no connection at all to the endpoint. The cells before
the last set the stage and must succeed. The Python API cases assert the same of the
package's own ``LambdaMagicError``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError

from lambda_magic import LambdaMagicError, invoke, invoke_many, session_settings

#: Words that tell the user what to do; every message must hold one.
ADVICE_RE = re.compile(
    r"\b(use|write|give|check|set|pass|define|choose|save|put|name|send|wrap|remove|run|raise|"
    r"lower|point|export|convert|leave|add|fix|flatten|see|install|store|select|quote|pick|"
    r"e\.g\.)\b|%\w+",
    re.IGNORECASE,
)
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Counting

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self) -> None:
        with self.server.lock:
            self.server.requests.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"null"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Amz-Executed-Version", "$LATEST")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = do_DELETE = _answer


class Counting(ThreadingHTTPServer):
    """A loopback endpoint that answers like Invoke (200, ``null``) and counts what arrives."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[str] = []

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.lock:
            self.connections += 1
        return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.connections = 0
            self.requests.clear()


@pytest.fixture
def endpoint(aws_env: None) -> Iterator[Counting]:
    server = Counting()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    session_settings().update(endpoint_url=server.url, region="us-east-1")
    yield server
    server.shutdown()
    server.server_close()


def _create_ticket(calls: list[int]) -> Callable[[], int]:
    def create_ticket() -> int:
        calls.append(1)
        return len(calls)

    return create_ticket


@pytest.fixture
def stage(shell: Any, endpoint: Counting, tmp_path: Path) -> Iterator[Path]:
    """Files and notebook names the cases refer to; ``{files}`` in a cell is this folder."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "latin1.json").write_bytes('{"name": "Jos\xe9"}'.encode("latin-1"))
    (files / "trailing.json").write_text('{"a": 1,}')
    (files / "nan.json").write_text('{"a": NaN}')
    (files / "events.json").write_text('{"not": "a list"}')
    (files / "empty-secret").write_text("")
    (files / "latin1-secret").write_bytes("s\xe9cret".encode("latin-1"))
    (files / "secret").write_text(SECRET)
    (files / "template.yaml").write_text("Resources: [unclosed\n")
    (files / "not-sam.yaml").write_text("just: a mapping\n")
    (files / "a dir").mkdir()
    for path in files.iterdir():
        if "secret" in path.name:
            path.chmod(0o600)
    calls: list[int] = []
    saved = dict(shell.user_ns)  # a case that wrongly stores -o print must not break the next ones
    shell.user_ns.update(
        calls=calls,
        create_ticket=_create_ticket(calls),
        obj=object(),
        numbers=5,
        text="abc",
        mapping={"a": 1},
        ctx_list=[1],
        nan_event={"x": float("nan")},
        big={"blob": "x" * (6 * 1024 * 1024)},
        event_big={"blob": "x" * (1024 * 1024 + 1)},
        inf_event=[float("inf")],
        a_set={1, 2},
        huge_ctx={"custom": {"blob": "x" * 4000}},
    )
    yield files
    shell.user_ns.clear()
    shell.user_ns.update(saved)
    from lambda_magic.sandbox._magics import session_sandbox

    if session_sandbox() is not None:  # a case that wrongly started one must not leak it
        shell.run_line_magic("lambda_sandbox", "stop")


@dataclass(frozen=True)
class Case:
    """Cells to run (all but the last must succeed), what the error must name, and files
    to write first (paths relative to the test's tmp_path: ``work`` is the cwd)."""

    cells: tuple[str, ...]
    names: str
    write: dict[str, str | bytes] = field(default_factory=dict)
    kernel: bool = False


CASES: dict[str, Case] = {}


def case(id: str, *cells: str, names: str, write: dict[str, str | bytes] | None = None, kernel: bool = False) -> None:
    assert id not in CASES, id
    CASES[id] = Case(cells, names, write or {}, kernel)


def invoke_case(id: str, line: str, body: str, names: str, **kw: Any) -> None:
    """``%%lambda_invoke line`` with ``body``; the line magic when there is no body."""
    case(id, f"%%lambda_invoke {line}\n{body}" if body else f"%lambda_invoke {line}", names=names, **kw)


# --- %%lambda_invoke: the function, and every option ----------------------------------------
invoke_case("no-function", "", "{}", "function")
invoke_case("only-options", "-q prod", "{}", "function")
invoke_case("space-in-name", "'my fn'", "{}", "malformed function name 'my fn'")
invoke_case("slash-in-name", "'a/b/c'", "{}", "logical id 'b/c'")
invoke_case("hash-in-name", "'fn#1'", "{}", "fn#1")
invoke_case("65-characters", "f" * 65, "{}", "65 characters")
invoke_case("257-characters", "arn:aws:lambda:us-east-1:123456789012:function:" + "f" * 210, "{}", "malformed")
invoke_case("arn-short-account", "arn:aws:lambda:us-east-1:123:function:fn", "{}", "malformed function name")
invoke_case("arn-other-service", "arn:aws:s3:::bucket", "{}", "malformed function name")
invoke_case("arn-bad-region", "arn:aws:lambda:mars:123456789012:function:fn", "{}", "malformed function name")
invoke_case("name-qualifier-clash", "fn:prod -q dev", "{}", "-q says dev")
invoke_case("arn-qualifier-clash", "arn:aws:lambda:us-east-1:123456789012:function:fn:1 -q 2", "{}", "-q says 2")
invoke_case("empty-alias-suffix", "fn:", "{}", "fn:")
invoke_case("qualifier-space", "fn -q 'bad alias'", "{}", "malformed qualifier 'bad alias'")
invoke_case("qualifier-empty", "fn -q ''", "{}", "qualifier")
invoke_case("qualifier-129", f"fn -q {'q' * 129}", "{}", "malformed qualifier")
invoke_case("qualifier-symbol", "fn -q 'v1!'", "{}", "malformed qualifier")
invoke_case("type-unknown", "fn -t sometimes", "{}", "unknown invocation type 'sometimes'")
invoke_case("type-empty", "fn -t ''", "{}", "invocation type")
invoke_case("type-missing-value", "fn -t", "{}", "-t")
invoke_case("tenant-symbol", "fn --tenant-id 'a#b'", "{}", "malformed tenant id")
invoke_case("tenant-empty", "fn --tenant-id ''", "{}", "tenant id")
invoke_case("tenant-257", f"fn --tenant-id {'t' * 257}", "{}", "tenant id")
invoke_case("durable-space", "fn --durable-execution-name 'a b'", "{}", "durable execution name")
invoke_case("durable-65", f"fn --durable-execution-name {'d' * 65}", "{}", "durable execution name")
invoke_case("durable-with-each", "fn --each --durable-execution-name run1", "[{}]", "--durable-execution-name")
invoke_case("context-list", "fn -c '[1]'", "{}", "client context must be a JSON object")
invoke_case("context-text", "fn -c '\"text\"'", "{}", "client context must be a JSON object")
invoke_case("context-broken", "fn -c '{bad'", "{}", "client context is not valid JSON")
invoke_case("context-nan", """fn -c '{"x": NaN}'""", "{}", "NaN")
invoke_case("context-infinity", """fn -c '{"x": -Infinity}'""", "{}", "Infinity")
invoke_case("context-undefined", "fn -c $nothing_here", "{}", "nothing_here")
invoke_case("context-variable-list", "fn -c $ctx_list", "{}", "client context must be a JSON object")
invoke_case("context-variable-nan", "fn -c $nan_event", "{}", "client context")
invoke_case("context-too-large", "fn -c $huge_ctx", "{}", "3,583")
invoke_case("output-space", "fn -o 'not a name'", "{}", "is not a Python variable name")
invoke_case("output-digit", "fn -o 1x", "{}", "'1x'")
invoke_case("output-empty", "fn -o ''", "{}", "-o")
invoke_case("output-class", "fn -o class", "{}", "keyword")
invoke_case("output-None", "fn -o None", "{}", "keyword")
invoke_case("output-lambda", "fn -o lambda", "{}", "keyword")
invoke_case("output-builtins", "fn -o __builtins__", "{}", "__builtins__")
invoke_case("output-print", "fn -o print", "{}", "builtin")
invoke_case("output-underscore", "fn -o _", "{}", "IPython")
invoke_case("output-history-5", "fn -o _5", "{}", "IPython")
invoke_case("output-input-history", "fn -o _i3", "{}", "IPython")
invoke_case("output-In", "fn -o In", "{}", "IPython")
invoke_case("output-Out", "fn -o Out", "{}", "IPython")
invoke_case("output-get_ipython", "fn -o get_ipython", "{}", "IPython")
invoke_case("output-dunder", "fn -o __name__", "{}", "__name__")
invoke_case("output-dotted", "fn -o resp.payload", "{}", "resp.payload")
invoke_case("unknown-option", "fn --bogus", "{}", "--bogus")
invoke_case("unknown-short-option", "fn -z 1", "{}", "-z")
invoke_case("two-functions", "fn other", "{}", "other")
invoke_case("unclosed-quote", "fn -c '{unclosed", "{}", "quotes")
invoke_case("timeout-negative", "fn --timeout -1", "{}", "read_timeout must be a positive number")
invoke_case("timeout-zero", "fn --timeout 0", "{}", "read_timeout")
invoke_case("timeout-nan", "fn --timeout nan", "{}", "finite")
invoke_case("timeout-inf", "fn --timeout inf", "{}", "finite")
invoke_case("timeout-1e300", "fn --timeout 1e300", "{}", "at most")
invoke_case("timeout-2-hours", "fn --timeout 7200", "{}", "at most 3,600")
invoke_case("timeout-word", "fn --timeout soon", "{}", "--timeout")
invoke_case("timeout-missing-value", "fn --timeout", "{}", "--timeout")
invoke_case("concurrency-without-each", "fn --concurrency 4", "[{}]", "--concurrency needs --each")
invoke_case("concurrency-zero", "fn --each --concurrency 0", "[{}]", "at least 1")
invoke_case("concurrency-negative", "fn --each --concurrency -5", "[{}]", "at least 1")
invoke_case("concurrency-2000", "fn --each --concurrency 2000", "[{}]", "1,000")
invoke_case("concurrency-billion", "fn --each --concurrency 1000000000", "[{}]", "1,000")
invoke_case("concurrency-fraction", "fn --each --concurrency 2.5", "[{}]", "--concurrency")
invoke_case("concurrency-word", "fn --each --concurrency many", "[{}]", "--concurrency")
invoke_case("region-spaces", "fn --region 'us east 1'", "{}", "region 'us east 1'")
invoke_case("region-empty", "fn --region ''", "{}", "region")
invoke_case("region-underscore", "fn --region us_east_1", "{}", "region 'us_east_1'")
invoke_case("region-slash", "fn --region us-east-1/x", "{}", "region")
invoke_case("region-too-long", f"fn --region {'r' * 64}", "{}", "region")
invoke_case("endpoint-ftp", "fn --endpoint-url ftp://127.0.0.1/x", "{}", "endpoint_url 'ftp://127.0.0.1/x'")
invoke_case("endpoint-no-scheme", "fn --endpoint-url 127.0.0.1:9001", "{}", "endpoint_url")
invoke_case("endpoint-no-host", "fn --endpoint-url http://", "{}", "endpoint_url")
invoke_case("endpoint-bad-port", "fn --endpoint-url http://127.0.0.1:99999", "{}", "endpoint_url")
invoke_case("endpoint-word-port", "fn --endpoint-url http://127.0.0.1:port", "{}", "endpoint_url")
invoke_case("endpoint-space", "fn --endpoint-url 'http://local host'", "{}", "endpoint_url")
invoke_case("endpoint-empty", "fn --endpoint-url ''", "{}", "endpoint_url")
invoke_case("profile-unknown", "fn --profile ghost", "{}", "'ghost'")
invoke_case("profile-empty", "fn --profile ''", "{}", "profile")
invoke_case("stack-space", "'my stack/Fn'", "{}", "stack name")
invoke_case("stack-logical-id-dash", "mystack/Health-Check", "{}", "logical id")
invoke_case("stack-name-option-bad", "Fn --stack-name 1stack", "{}", "stack name")
invoke_case("stack-bad-type", "mystack/Fn -t sometimes", "{}", "invocation type")
invoke_case("stack-bad-qualifier", "mystack/Fn -q 'a b'", "{}", "qualifier")
invoke_case("stack-bad-payload", "mystack/Fn", '{"a": 1,}', "payload is not valid JSON")
invoke_case("stack-bad-context", "mystack/Fn -c '[1]'", "{}", "client context")

# --- the payload: body, --payload, @file, $name, ${}, --each --------------------------------
invoke_case("json-trailing-comma", "fn", '{"a": 1,}', "line 1, column 9")
invoke_case("json-missing-value", "fn", '{"a": 1,\n "b": }', "line 2, column 7")
invoke_case("json-single-quotes", "fn", "{'a': 1}", "payload is not valid JSON")
invoke_case("json-bare-key", "fn", "{a: 1}", "payload is not valid JSON")
invoke_case("json-python-true", "fn", '{"a": True}', "payload is not valid JSON")
invoke_case("json-python-none", "fn", '{"a": None}', "payload is not valid JSON")
invoke_case("json-two-documents", "fn", "{}\n{}", "payload is not valid JSON")
invoke_case("json-unclosed", "fn", '{"a": [1, 2}', "payload is not valid JSON")
invoke_case("json-comment", "fn", '{"a": 1} // note', "payload is not valid JSON")
invoke_case("json-nan", "fn", '{"a": NaN}', "NaN is not a JSON value")
invoke_case("json-infinity", "fn", '{"a": Infinity}', "Infinity is not a JSON value")
invoke_case("json-minus-infinity", "fn", '{"a": -Infinity}', "-Infinity is not a JSON value")
invoke_case("json-nested-nan", "fn", '{"a": [1, {"b": NaN}]}', "NaN")
invoke_case("json-bare-nan", "fn", "NaN", "NaN")
invoke_case("json-huge-integer", "fn", '{"n": ' + "9" * 5000 + "}", "integer too long")
invoke_case("json-deep-nesting", "fn", "[" * 100000 + "]" * 100000, "nested too deeply")
invoke_case("json-control-character", "fn", '{"a": "x\ty"}', "payload is not valid JSON")
invoke_case("json-nan-next-to-expression", "fn", '{"a": ${1}, "b": NaN}', "NaN")
invoke_case("name-undefined", "fn", "$nothing_here", "'nothing_here' is not defined")
invoke_case("name-object", "fn", "$obj", "$obj cannot be sent as JSON")
invoke_case("name-set", "fn", "$a_set", "cannot be sent as JSON")
invoke_case("name-nan", "fn", "$nan_event", "cannot be sent as JSON")
invoke_case("name-too-large", "fn", "$big", "6,291,456-byte limit")
invoke_case("name-too-large-event", "fn -t event", "$event_big", "1,048,576-byte limit")
invoke_case("expr-undefined", "fn", '{"a": ${nothing_here}}', "nothing_here")
invoke_case("expr-raises", "fn", '{"a": ${1 / 0}}', "ZeroDivisionError")
invoke_case("expr-object", "fn", '{"a": ${object()}}', "cannot be sent as JSON")
invoke_case("expr-nan", "fn", '{"a": ${float("nan")}}', "cannot be sent as JSON")
invoke_case("expr-inf-in-list", "fn", '{"a": ${inf_event}}', "cannot be sent as JSON")
invoke_case("expr-unclosed", "fn", '{"a": ${1 + }', "not a Python expression")
invoke_case("expr-empty", "fn", '{"a": ${}}', "not a Python expression")
invoke_case("expr-syntax", "fn", '{"a": ${1 +* 2}}', "not a Python expression")
invoke_case("expr-then-trailing-comma", "fn", '{"a": ${create_ticket()},}', "payload is not valid JSON")
invoke_case("expr-in-key-position", "fn", "{${1}: 2}", "payload is not valid JSON")
invoke_case("expr-makes-invalid-json", "fn", '{"a": ${1}${2}}', "payload is not valid JSON")
invoke_case("payload-and-body", """fn --payload '{"a": 1}'""", '{"b": 2}', "not both")
invoke_case("payload-invalid", "fn --payload '{bad'", "", "payload is not valid JSON")
invoke_case("payload-nan", "fn --payload NaN", "", "NaN")
invoke_case("payload-file-missing", "fn --payload @{files}/missing.json", "", "cannot read payload file")
invoke_case("payload-file-directory", "fn --payload '@{files}/a dir'", "", "a dir")
invoke_case("payload-file-latin1", "fn --payload @{files}/latin1.json", "", "not UTF-8")
invoke_case("payload-file-invalid", "fn --payload @{files}/trailing.json", "", "payload is not valid JSON")
invoke_case("payload-file-nan", "fn --payload @{files}/nan.json", "", "NaN")
invoke_case("payload-file-empty-name", "fn --payload @", "", "--payload @ names no file")
invoke_case("payload-name-undefined", "fn --payload $nothing_here", "", "nothing_here")
invoke_case("payload-expr-raises", """fn --payload '{"a": ${1/0}}'""", "", "ZeroDivisionError")
invoke_case("each-empty", "fn --each", "", "--each needs events")
invoke_case("each-object", "fn --each", '{"a": 1}', "not a JSON object")
invoke_case("each-string", "fn --each", '"abc"', "not a JSON string")
invoke_case("each-number", "fn --each", "5", "JSON array")
invoke_case("each-invalid", "fn --each", "[1,]", "payload is not valid JSON")
invoke_case("each-nan", "fn --each", "[NaN]", "NaN")
invoke_case("each-undefined", "fn --each", "$nothing_here", "nothing_here")
invoke_case("each-number-variable", "fn --each", "$numbers", "$numbers is a int")
invoke_case("each-text-variable", "fn --each", "$text", "$text is a str")
invoke_case("each-dict-variable", "fn --each", "$mapping", "$mapping is a dict")
invoke_case("each-payload-file", "fn --each --payload @{files}/events.json", "", "not a JSON object")
invoke_case("each-payload-latin1", "fn --each --payload @{files}/latin1.json", "", "not UTF-8")
invoke_case("each-bad-function", "'my fn' --each", "[{}]", "malformed function name")
invoke_case("each-bad-type", "fn --each -t sometimes", "[{}]", "invocation type")
invoke_case("each-bad-context", "fn --each -c '[1]'", "[{}]", "client context")
invoke_case("each-bad-region", "fn --each --region 'us east'", "[{}]", "region")
invoke_case("each-bad-output", "fn --each -o class", "[{}]", "keyword")
invoke_case("each-timeout-nan", "fn --each --timeout nan", "[{}]", "finite")
invoke_case("line-magic-bad-json", "fn --payload '[1,]'", "", "payload is not valid JSON")
case("line-magic-nan", "%lambda_invoke fn --payload '{\"a\": NaN}'", names="NaN")
case("line-magic-no-function", "%lambda_invoke", names="function")

# --- %lambda_config -------------------------------------------------------------------------
for _id, _line, _names in [
    ("unknown-key", "regoin=eu-west-1", "'regoin=eu-west-1'"),
    ("no-equals", "region", "'region' is not key=value"),
    ("timeout-word", "read_timeout=soon", "read_timeout"),
    ("timeout-nan", "read_timeout=nan", "finite"),
    ("timeout-inf", "read_timeout=inf", "finite"),
    ("timeout-negative", "read_timeout=-1", "positive"),
    ("timeout-zero", "read_timeout=0", "positive"),
    ("timeout-1e300", "read_timeout=1e300", "at most"),
    ("connect-inf", "connect_timeout=inf", "finite"),
    ("connect-zero", "connect_timeout=0", "positive"),
    ("connect-hour", "connect_timeout=3600", "at most 300"),
    ("concurrency-fraction", "max_concurrency=2.7", "whole number"),
    ("concurrency-zero", "max_concurrency=0", "at least 1"),
    ("concurrency-2000", "max_concurrency=2000", "1,000"),
    ("concurrency-word", "max_concurrency=many", "whole number"),
    ("retries-negative", "throttle_retries=-1", "at least 0"),
    ("retries-fraction", "throttle_retries=1.5", "whole number"),
    ("retries-many", "throttle_retries=101", "at most 100"),
    ("max-wait-nan", "throttle_max_wait=nan", "finite"),
    ("log-tail-maybe", "log_tail=maybe", "true or false"),
    ("raise-2", "raise_on_error=2", "true or false"),
    ("region-spaces", "region='us east 1'", "region 'us east 1'"),
    ("region-underscore", "region=us_east_1", "region"),
    ("endpoint-ftp", "endpoint_url=ftp://127.0.0.1", "endpoint_url"),
    ("endpoint-no-host", "endpoint_url=http://:80", "endpoint_url"),
    ("reset-key-value", "--reset region=x", "--reset takes setting names"),
    ("reset-unknown", "--reset colour", "unknown setting 'colour'"),
    ("unclosed-quote", 'region="eu-west-1', "quotes"),
    ("access-key-typo", f"access_key_id={KEY_ID}", "access_key"),
    ("one-bad-of-two", "region=eu-west-1 read_timeout=nan", "finite"),
]:
    case(f"config-{_id}", f"%lambda_config {_line}", names=_names)

# --- settings files: project, pyproject, user -----------------------------------------------
for _id, _text, _names in [
    ("timeout-nan", "read_timeout = nan\n", "finite"),
    ("timeout-inf", "read_timeout = inf\n", "finite"),
    ("timeout-true", "read_timeout = true\n", "is not a number"),
    ("timeout-list", "read_timeout = [1]\n", "is not a number"),
    ("timeout-text", 'read_timeout = "soon"\n', "is not a number"),
    ("timeout-negative", "read_timeout = -1\n", "positive"),
    ("concurrency-fraction", "max_concurrency = 2.7\n", "whole number"),
    ("concurrency-2000", "max_concurrency = 2000\n", "1,000"),
    ("region-spaces", 'region = "us east 1"\n', "region 'us east 1'"),
    ("region-number", "region = 5\n", "is not text"),
    ("region-list", 'region = ["eu-west-1"]\n', "is not text"),
    ("endpoint-ftp", 'endpoint_url = "ftp://127.0.0.1"\n', "endpoint_url"),
    ("unknown-key", 'regoin = "eu-west-1"\n', "unknown setting 'regoin'"),
    ("broken-toml", "region = [\n", "cannot read settings file"),
    ("log-tail-text", 'log_tail = "maybe"\n', "true or false"),
    ("retries-float", "throttle_retries = 2.0\n", "whole number"),
]:
    case(f"project-file-{_id}", "%%lambda_invoke fn\n{}", names=_names, write={"work/lambda_magic.toml": _text})
case(
    "project-file-latin1",
    "%%lambda_invoke fn\n{}",
    names="not UTF-8",
    write={"work/lambda_magic.toml": 'region = "s\xe9"\n'.encode("latin-1")},
)
case(
    "pyproject-bad-value",
    "%%lambda_invoke fn\n{}",
    names="pyproject.toml",
    write={"work/pyproject.toml": "[tool.lambda_magic]\nread_timeout = nan\n"},
)
case(
    "pyproject-unknown-key",
    "%%lambda_invoke fn\n{}",
    names="unknown setting 'colour'",
    write={"work/pyproject.toml": '[tool.lambda_magic]\ncolour = "blue"\n'},
)
case(
    "user-file-bad-value",
    "%%lambda_invoke fn\n{}",
    names="config.toml",
    write={"home/.config/lambda_magic/config.toml": "max_concurrency = 0\n"},
)
case(
    "user-file-latin1",
    "%%lambda_invoke fn\n{}",
    names="not UTF-8",
    write={"home/.config/lambda_magic/config.toml": b"region = '\xff'\n"},
)
case(
    "project-file-bad-in-config-view",
    "%lambda_config",
    names="finite",
    write={"work/lambda_magic.toml": "read_timeout = nan\n"},
)
case(
    "project-file-bad-each",
    "%%lambda_invoke fn --each\n[{}]",
    names="finite",
    write={"work/lambda_magic.toml": "read_timeout = inf\n"},
)

# --- secret paths ---------------------------------------------------------------------------
_KEYS = f"%lambda_config access_key={KEY_ID} secret_key_path="
for _id, _path, _names in [
    ("missing-file", "{files}/missing", "cannot be read"),
    ("empty-file", "{files}/empty-secret", "is empty"),
    ("latin1-file", "{files}/latin1-secret", "not UTF-8"),
    ("directory", "'{files}/a dir'", "a dir"),
    ("env-no-name", "env:", "names no variable"),
    ("env-unset", "env:LAMBDA_MAGIC_UNSET_VARIABLE", "LAMBDA_MAGIC_UNSET_VARIABLE is not set"),
    ("keyring-no-user", "keyring:service", "keyring:SERVICE/USERNAME"),
]:
    case(f"secret-{_id}", _KEYS + _path, "%%lambda_invoke fn\n{}", names=_names)
case(
    "secret-without-key-id",
    "%lambda_config secret_key_path={files}/secret",
    "%%lambda_invoke fn\n{}",
    names="access_key is not",
)
case(
    "key-id-without-secret",
    f"%lambda_config access_key={KEY_ID}",
    "%%lambda_invoke fn\n{}",
    names="secret_key_path is not",
)
case(
    "secret-missing-expression",
    _KEYS + "{files}/missing",
    '%%lambda_invoke fn\n{"a": ${create_ticket()}}',
    names="cannot be read",
)
case("profile-unknown-expression", '%%lambda_invoke fn --profile ghost\n{"a": ${create_ticket()}}', names="'ghost'")
case("secret-missing-each", _KEYS + "{files}/missing", "%%lambda_invoke fn --each\n[{}]", names="cannot be read")
case("secret-missing-line-magic", _KEYS + "{files}/missing", "%lambda_invoke fn", names="cannot be read")

# --- %lambda_sandbox ------------------------------------------------------------------------
for _id, _line, _names in [
    ("unknown-action", "begin", "begin"),
    ("port-negative", "start --port -1", "--port"),
    ("port-too-large", "start --port 70000", "--port"),
    ("port-word", "start --port http", "--port"),
    ("template-missing", "start --template {files}/missing.yaml", "missing.yaml"),
    ("template-broken", "start --template {files}/template.yaml", "template.yaml"),
    ("template-directory", "start --template '{files}/a dir'", "a dir"),
    ("unknown-option", "start --bogus", "--bogus"),
    ("port-with-status", "status --port 9001", "--port"),
    ("template-with-stop", "stop --template {files}/template.yaml", "--template"),
    ("no-demo-with-status", "status --no-demo", "--no-demo"),
    ("two-actions", "start stop", "stop"),
]:
    case(f"sandbox-{_id}", f"%lambda_sandbox {_line}", names=_names)

# --- %lambda_history and %lambda_export -----------------------------------------------------
_ONE = "%%lambda_invoke fn --quiet\n{}"
for _id, _line, _names in [
    ("word", "abc", "abc"),
    ("backwards-range", "5-3", "5-3"),
    ("zero", "0", "0"),
    ("negative", "-1", "-1"),
    ("missing-entry", "9999999", "no entry 9999999"),  # numbers go on across tests: never reached
    ("double-comma", "1,,2", "1,,2"),
    ("clear-with-selection", "--clear 1", "--clear"),
    ("unknown-option", "--bogus", "--bogus"),
]:
    case(f"history-{_id}", _ONE, f"%lambda_history {_line}", names=_names)
for _id, _line, _names in [
    ("no-format", "", "format"),
    ("unknown-format", "yaml", "yaml"),
    ("bad-selection", "rundeck abc", "abc"),
    ("missing-entry", "rundeck 9999999", "no entry 9999999"),
    ("directory-output", "rundeck -o '{files}/a dir'", "a dir"),
    ("missing-directory", "python -o {files}/no/such/dir/x.py", "x.py"),
    ("unknown-option", "rundeck --bogus", "--bogus"),
    ("empty-name", "rundeck --name ''", "name"),
]:
    case(f"export-{_id}", _ONE, f"%lambda_export {_line}", names=_names)
case("export-nothing-yet", "%lambda_export rundeck", names="history is empty")
case(
    "export-failed-entry",
    "%lambda_config throttle_retries=0",
    "from lambda_magic import invoke, history\ntry:\n    invoke('fn', endpoint_url='http://127.0.0.1:9')\n"
    "except Exception:\n    pass\nn = history[-1].index",
    "%lambda_export python $n",
    names="--include-failed",
)

# --- %lambda_form's line (in a kernel) ------------------------------------------------------
for _id, _line, _names in [
    ("output-digit", "-o 1x", "'1x'"),
    ("output-keyword", "-o class", "keyword"),
    ("output-builtin", "-o print", "builtin"),
    ("region-spaces", "fn --region 'us east 1'", "region"),
    ("endpoint-ftp", "fn --endpoint-url ftp://127.0.0.1", "endpoint_url"),
    ("function-space", "'my fn'", "malformed function name"),
    ("function-65", "f" * 65, "65 characters"),
    ("unknown-option", "fn --bogus", "--bogus"),
    ("unclosed-quote", "'fn", "quotes"),
    ("profile-unknown", "fn --profile ghost", "ghost"),
]:
    case(f"form-{_id}", f"%lambda_form {_line}", names=_names, kernel=True)


def _write(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def assert_one_clear_line(message: str, names: str) -> None:
    assert "\n" not in message, message
    assert names in message, f"{names!r} not in {message!r}"
    assert ADVICE_RE.search(message), f"says nothing to do: {message!r}"
    assert SECRET not in message and KEY_ID not in message, message
    assert "Traceback" not in message


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_sends_nothing(
    name: str, shell: Any, endpoint: Counting, stage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = CASES[name]
    _write(tmp_path, spec.write)
    if spec.kernel:
        monkeypatch.setattr(shell, "kernel", object(), raising=False)
    cells = [cell.replace("{files}", str(stage)) for cell in spec.cells]
    for cell in cells[:-1]:
        result = shell.run_cell(cell)
        assert result.success, f"setup cell failed: {cell!r}: {result.error_in_exec!r}"
    endpoint.reset()
    result = shell.run_cell(cells[-1])
    assert result.error_before_exec is None, repr(result.error_before_exec)
    error = result.error_in_exec
    assert type(error) is UsageError, f"expected IPython's UsageError, got {error!r}"
    assert_one_clear_line(str(error), spec.names)
    assert endpoint.connections == 0 and endpoint.requests == [], endpoint.requests
    assert shell.user_ns["calls"] == [], "a ${} expression ran for a refused cell"


def test_the_endpoint_counts_what_a_good_cell_sends(shell: Any, endpoint: Counting, stage: Path) -> None:
    """The control: the same shell and endpoint, a valid cell, one request."""
    result = shell.run_cell('%%lambda_invoke fn --quiet -o resp\n{"a": ${create_ticket()}}')
    assert result.success, result.error_in_exec
    assert len(endpoint.requests) == 1 and endpoint.requests[0].startswith("POST /2015-03-31/functions/fn/")
    assert shell.user_ns["calls"] == [1]


def test_there_are_at_least_150_cases() -> None:
    assert len(CASES) + len(API_CASES) >= 150


# --- the Python API: the package's own errors, nothing sent ---------------------------------

API_CASES: dict[str, tuple[Callable[[], Any], str]] = {
    "function-space": (lambda: invoke("my fn"), "malformed function name"),
    "function-65": (lambda: invoke("f" * 65), "65 characters"),
    "function-empty": (lambda: invoke(""), "no function given"),
    "function-not-text": (lambda: invoke(5), "function"),  # type: ignore[arg-type]
    "qualifier-clash": (lambda: invoke("fn:prod", qualifier="dev"), "-q says dev"),
    "qualifier-space": (lambda: invoke("fn", qualifier="a b"), "qualifier"),
    "type-unknown": (lambda: invoke("fn", invocation_type="later"), "invocation type"),
    "payload-nan": (lambda: invoke("fn", {"x": float("nan")}), "cannot be sent as JSON"),
    "payload-text-nan": (lambda: invoke("fn", '{"x": NaN}'), "NaN"),
    "payload-text-invalid": (lambda: invoke("fn", '{"x": 1,}'), "payload is not valid JSON"),
    "payload-object": (lambda: invoke("fn", object()), "cannot be sent as JSON"),
    "payload-huge-integer": (lambda: invoke("fn", '{"n": ' + "9" * 5000 + "}"), "integer too long"),
    "payload-too-large": (lambda: invoke("fn", {"b": "x" * (6 * 1024 * 1024)}), "limit"),
    "context-list": (lambda: invoke("fn", client_context=[1]), "client context"),
    "context-nan": (lambda: invoke("fn", client_context={"x": float("nan")}), "client context"),
    "tenant-symbol": (lambda: invoke("fn", tenant_id="a#b"), "tenant id"),
    "durable-space": (lambda: invoke("fn", durable_execution_name="a b"), "durable execution name"),
    "timeout-nan": (lambda: invoke("fn", read_timeout=float("nan")), "finite"),
    "timeout-inf": (lambda: invoke("fn", read_timeout=float("inf")), "finite"),
    "timeout-true": (lambda: invoke("fn", read_timeout=True), "read_timeout"),
    "timeout-list": (lambda: invoke("fn", read_timeout=[30]), "read_timeout"),  # type: ignore[arg-type]
    "region-spaces": (lambda: invoke("fn", region="us east 1"), "region 'us east 1'"),
    "region-number": (lambda: invoke("fn", region=5), "region"),  # type: ignore[arg-type]
    "endpoint-ftp": (lambda: invoke("fn", endpoint_url="ftp://127.0.0.1"), "endpoint_url"),
    "profile-unknown": (lambda: invoke("fn", profile="ghost"), "ghost"),
    "raise-on-error-text": (lambda: invoke("fn", raise_on_error="yes please"), "raise_on_error"),  # type: ignore[arg-type]
    "stack-bad": (lambda: invoke("my stack/Fn"), "stack name"),
    "many-string": (lambda: invoke_many("fn", "abc", progress=False), "not a str"),
    "many-dict": (lambda: invoke_many("fn", {"a": 1}, progress=False), "not a dict"),
    "many-number": (lambda: invoke_many("fn", 5, progress=False), "not a int"),  # type: ignore[arg-type]
    "many-concurrency-zero": (lambda: invoke_many("fn", [{}], concurrency=0, progress=False), "at least 1"),
    "many-concurrency-2000": (lambda: invoke_many("fn", [{}], concurrency=2000, progress=False), "1,000"),
    "many-concurrency-fraction": (
        lambda: invoke_many("fn", [{}], concurrency=2.5, progress=False),  # type: ignore[arg-type]
        "whole number",
    ),
    "many-concurrency-true": (lambda: invoke_many("fn", [{}], concurrency=True, progress=False), "max_concurrency"),
    "many-function": (lambda: invoke_many("my fn", [{}], progress=False), "malformed function name"),
    "many-type": (lambda: invoke_many("fn", [{}], invocation_type="later", progress=False), "invocation type"),
    "many-context": (lambda: invoke_many("fn", [{}], client_context=[1], progress=False), "client context"),
    "many-timeout-inf": (lambda: invoke_many("fn", [{}], read_timeout=float("inf"), progress=False), "finite"),
    "many-region": (lambda: invoke_many("fn", [{}], region="us east", progress=False), "region"),
    "many-generator-concurrency": (
        lambda: invoke_many("fn", ({} for _ in range(3)), concurrency=10**9, progress=False),
        "1,000",
    ),
}


@pytest.mark.parametrize("name", list(API_CASES))
def test_api_bad_input_raises_the_package_error_and_sends_nothing(name: str, endpoint: Counting) -> None:
    call, names = API_CASES[name]
    with pytest.raises(LambdaMagicError) as caught:
        call()
    assert_one_clear_line(str(caught.value), names)
    assert endpoint.connections == 0 and endpoint.requests == [], endpoint.requests


def test_concurrency_above_the_cap_starts_no_thread_and_reads_no_event(
    shell: Any, endpoint: Counting, stage: Path
) -> None:
    events = ({"id": i} for i in range(5000))
    shell.user_ns["events"] = events
    before = threading.active_count()
    for line in ("--concurrency 2000", "--concurrency 1000000000"):
        result = shell.run_cell(f"%%lambda_invoke fn --each {line}\n$events")
        assert type(result.error_in_exec) is UsageError and "1,000" in str(result.error_in_exec)
    assert threading.active_count() == before
    assert next(events) == {"id": 0}
    assert endpoint.requests == []
