"""The notebook output of large responses: its size and the time to produce it.

Each case is invoked for real (a FakeLambda in its own process sends the body, with a 4 KB
log tail), then IPython's display formatter builds the full mimebundle a notebook would
store, as ``Out[]`` does: every format the object offers. Timed on a fresh response (the
first display, nothing decoded yet) and again (the same object redisplayed); medians over
repetitions. Target: under 200 KB and under 200 ms. A large JSON body is shown indented,
re-indented from its raw text; a table compares that with decoding the body to indent it
(the baseline, measured in the same run). The last table times the fan-out's progress bar:
when it shows and how often it is updated while calls complete.
Run: ``python bench/bench_display.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from typing import Any

from _servers import bench_env, child_server, fake_server

SIZE = 6 * 1024 * 1024 - 1024  # just under Lambda's 6 MB synchronous limit
TARGET_BYTES, TARGET_MS = 200 * 1024, 200.0

_SERVER = """
import base64, json, sys
from lambda_magic.testing import FakeLambda, Reply, report_log
size = int(sys.argv[1])
record = {"id": 0, "name": "item", "tags": ["a", "b"], "value": 1.5}
items = [dict(record, id=i) for i in range(size // (len(json.dumps(record)) + 6))]
bodies = {
    "json-object": json.dumps({"items": items}),
    "json-array": json.dumps(items),
    "text": "x" * size,
    "one-long-string": json.dumps("y" * (size - 2)),
}
log = report_log(lines=tuple("log line " + "z" * 80 for _ in range(60)))
tail = {"X-Amz-Log-Result": base64.b64encode(log.encode()[-4096:]).decode()}
def reply(call):
    kind = call.payload["kind"]
    if kind == "binary":
        return Reply(200, bytes(range(256)) * (size // 256), {"X-Amz-Executed-Version": "1"})
    if kind == "function-error":
        return Reply.function_error("e" * size, trace=["  File x, line 1\\n"] * 1000, log=log)
    return Reply(200, bodies[kind].encode(), dict(tail))
fake = FakeLambda(default=reply).start()
print(fake.url, flush=True)
sys.stdin.read()
"""

CASES = ("json-object", "json-array", "text", "one-long-string", "binary", "function-error")


def server() -> AbstractContextManager[str]:
    """The FakeLambda that sends the large bodies, in a child process."""
    return child_server(_SERVER, str(SIZE))


def bundle_size(formatter: Any, obj: Any) -> tuple[int, float, list[str]]:
    """Bytes of the mimebundle (UTF-8), milliseconds to build it, and its MIME types."""
    started = time.perf_counter()
    data, metadata = formatter.format(obj)
    elapsed = (time.perf_counter() - started) * 1000
    size = sum(len(value.encode() if isinstance(value, str) else json.dumps(value).encode()) for value in data.values())
    return size + len(json.dumps(metadata).encode()), elapsed, sorted(data)


def measure(url: str, repeat: int) -> list[tuple[str, int, int, float, float, list[str]]]:
    """Per case: raw bytes, bundle bytes, first and repeated display time (medians)."""
    from IPython.core.interactiveshell import InteractiveShell

    import lambda_magic

    lambda_magic.session_settings().update(endpoint_url=url, region="us-east-1")
    formatter = InteractiveShell.instance().display_formatter
    rows = []
    for case in CASES:
        first, again, size, kinds, raw = [], [], 0, [], 0
        for _ in range(repeat):
            response = lambda_magic.invoke("fn", {"kind": case})
            raw = len(response.raw_payload)
            size, elapsed, kinds = bundle_size(formatter, response)
            first.append(elapsed)
            again.append(bundle_size(formatter, response)[1])
        rows.append((case, raw, size, statistics.median(first), statistics.median(again), kinds))
    return rows


def many() -> tuple[int, int, float]:
    """The summary display of 10,000 results, every tenth a function error."""
    from IPython.core.interactiveshell import InteractiveShell

    size, elapsed, _ = bundle_size(InteractiveShell.instance().display_formatter, _ten_thousand())
    return 10_000, size, elapsed


def _ten_thousand() -> Any:
    from lambda_magic._fanout_results import LambdaResponses, Outcome
    from lambda_magic._response import LambdaResponse

    entries = [
        LambdaResponse(
            function_name="fn",
            qualifier=None,
            invocation_type="RequestResponse",
            status_code=200,
            raw_payload=b'{"errorMessage": "bad"}' if i % 10 == 0 else b"{}",
            function_error="Unhandled" if i % 10 == 0 else None,
            elapsed=0.05 + i * 1e-6,
        )
        for i in range(10_000)
    ]
    outcome = Outcome(elapsed=20.0, concurrency=32, lowest_concurrency=32)
    return LambdaResponses(entries, function_name="fn", outcome=outcome)


def indent_cost(repeat: int) -> tuple[int, float, float]:
    """Milliseconds to show a ~6 MB JSON body indented: from the raw text (ours) and by
    decoding it first (json.loads, then json.dumps(indent=2) up to the same lines)."""
    from itertools import islice

    from lambda_magic._response import LambdaResponse
    from lambda_magic._response_display import DISPLAY_LINES, payload_preview

    record = {"id": 0, "name": "item", "tags": ["a", "b"], "value": 1.5}
    raw = json.dumps({"items": [dict(record, id=i) for i in range(SIZE // 60)]}).encode()
    ours, decoded = [], []
    for _ in range(repeat):
        response = LambdaResponse(
            function_name="fn", qualifier=None, invocation_type="RequestResponse", status_code=200, raw_payload=raw
        )
        started = time.perf_counter()
        payload_preview(response)
        ours.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        chunks = json.JSONEncoder(indent=2).iterencode(json.loads(raw))
        "".join(islice(chunks, DISPLAY_LINES * 4))
        decoded.append((time.perf_counter() - started) * 1000)
    return len(raw), statistics.median(ours), statistics.median(decoded)


_PROGRESS = """
import json, sys, time
started = time.perf_counter()
from lambda_magic import resolve_settings
from lambda_magic._fanout import fan_out
marks = {}
updates = []
class Bar:
    def refresh(self): marks.setdefault("shown", time.perf_counter() - started)
    def update(self, n): updates.append((time.perf_counter() - started, n))
    def set_postfix_str(self, text, refresh=True): pass
    def close(self): pass
settings = resolve_settings(endpoint_url=sys.argv[1], region="us-east-1", max_concurrency=16)
results = fan_out("fn", [{"id": i} for i in range(300)], settings, bar=Bar(), log=False)
assert results.ok
print(json.dumps({"shown": marks["shown"], "updates": updates}))
"""


def progress_timing() -> dict[str, float]:
    """A fan-out of 300 calls of a 50 ms function at concurrency 16, in a fresh process
    (boto3 not yet imported, as in a new kernel): when the bar shows, when the first
    completion shows, and how often it is updated while calls complete."""
    with fake_server(0.05) as url:
        out = subprocess.run([sys.executable, "-c", _PROGRESS, url], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    times = [t for t, _ in data["updates"]]
    span = times[-1] - times[0]
    return {
        "shown_ms": data["shown"] * 1000,
        "first_ms": times[0] * 1000,
        "updates": len(times),
        "span_s": span,
        "per_s": (len(times) - 1) / span,
        "calls_per_update": 300 / len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_env()
    with server() as url:
        rows = measure(url, args.repeat)
    count, many_size, many_ms = many()
    print(f"\n{len(CASES)} responses of ~{SIZE / 2**20:.1f} MB, each with a 4 KB log tail; medians of {args.repeat}\n")
    print("| response | payload | mimebundle | < 200 KB | first display | again | < 200 ms | formats |")
    print("|---|---:|---:|:---:|---:|---:|:---:|---|")
    for case, raw, size, first, again, kinds in rows:
        print(
            f"| {case} | {raw / 2**20:.2f} MB | {size / 1024:.1f} KB | {_ok(size <= TARGET_BYTES)} | "
            f"{first:.1f} ms | {again:.1f} ms | {_ok(max(first, again) <= TARGET_MS)} | {', '.join(kinds)} |"
        )
    print(
        f"| LambdaResponses of {count:,} (1,000 errors) | | {many_size / 1024:.1f} KB | "
        f"{_ok(many_size <= TARGET_BYTES)} | {many_ms:.1f} ms | | {_ok(many_ms <= TARGET_MS)} | |"
    )
    size, ours, decoded = indent_cost(args.repeat)
    print(f"\nIndenting a {size / 2**20:.2f} MB JSON object for display (medians of {args.repeat})\n")
    print("| from the raw text (ours) | decoding it first (baseline) | ratio |")
    print("|---:|---:|---:|")
    print(f"| {ours:.1f} ms | {decoded:.1f} ms | {ours / decoded:.3f} |")
    timing = progress_timing()
    print("\nFan-out progress bar: 300 calls of a 50 ms function at concurrency 16, fresh process\n")
    print("| bar shown | first completion shown | updates | while completing | per second | calls per update |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {timing['shown_ms']:.1f} ms | {timing['first_ms']:.1f} ms | {timing['updates']} | "
        f"{timing['span_s']:.2f} s | {timing['per_s']:.1f} (>= 10: {_ok(timing['per_s'] >= 10)}) | "
        f"{timing['calls_per_update']:.1f} |"
    )


def _ok(flag: bool) -> str:
    return "met" if flag else "missed"


if __name__ == "__main__":
    main()
