"""Fan-out throughput at the machine's limit: calls per second against a zero-latency endpoint.

The endpoint is ``fast_endpoint.js`` under Node.js (its own process and core, answering an
echo at once), so the client is what limits the rate; without ``node`` the sandbox's echo
stands in (and the table says so). Variants, at each concurrency, interleaved in rounds:

- ``boto3 ThreadPoolExecutor``: N threads calling ``client.invoke`` on one shared boto3
  client (its connection pool as large as the threads), the baseline;
- ``invoke_many (lean)`` and ``invoke_many (botocore)``: lambda_magic's fan-out on each
  transport (the ``transport`` setting).

Each variant sends ``--calls`` invocations per round; the table shows the best and the
median round in calls/s, then the ratios to the thread pool. The machine's load average is
printed before and after (the machine is shared: run it more than once, keep the best).
Run: ``python bench/bench_throughput.py [--calls 3000] [--rounds 3] [--concurrency 32 128 512]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

from _servers import bench_env, node_server, sandbox_server

TARGETS = {32: 3.0, 128: 3.0, 512: 2.0}
POOL = "boto3 ThreadPoolExecutor"


def variants(url: str, function: str, concurrency: int, calls: int) -> dict[str, Callable[[], int]]:
    """Each variant sends ``calls`` events to ``function``; returns how many succeeded."""
    import boto3
    from botocore.config import Config

    import lambda_magic

    lambda_magic.session_settings().update(endpoint_url=url, region="us-east-1", log_tail=False)
    raw = boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1", config=Config(max_pool_connections=concurrency)
    )
    events = [{"id": i} for i in range(calls)]

    def plain_pool() -> int:
        def one(event: dict[str, Any]) -> bytes:
            answer = raw.invoke(FunctionName=function, Payload=json.dumps(event).encode())
            return answer["Payload"].read()  # type: ignore[no-any-return]

        with ThreadPoolExecutor(concurrency) as pool:
            return sum(1 for _ in pool.map(one, events))

    def fan_out(transport: str) -> Callable[[], int]:
        def run() -> int:
            lambda_magic.session_settings().update(transport=transport)
            results = lambda_magic.invoke_many(function, events, concurrency=concurrency, progress=False)
            return int(results.summary()["ok"])

        return run

    return {POOL: plain_pool, "invoke_many (lean)": fan_out("lean"), "invoke_many (botocore)": fan_out("botocore")}


def measure(calls: dict[str, Callable[[], int]], rounds: int, expected: int) -> dict[str, list[float]]:
    """Calls per second of each variant in each round (interleaved, rotated)."""
    rates: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for call in calls.values():  # warm up: threads, connections, clients
        call()
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            started = time.perf_counter()
            ok = calls[name]()
            rates[name].append(expected / (time.perf_counter() - started))
            print(f"  {name}: {rates[name][-1]:,.0f} calls/s (load {os.getloadavg()[0]:.1f})", flush=True)
            if ok != expected:
                raise SystemExit(f"{name}: {ok} of {expected} calls succeeded")
    return rates


def table(results: dict[int, dict[str, list[float]]]) -> str:
    """Markdown: calls/s (best, median) per variant and concurrency, then the ratios."""
    levels = sorted(results)
    lines = [
        "| variant | " + " | ".join(f"c={c} best | c={c} median" for c in levels) + " |",
        "|---|" + "---:|---:|" * len(levels),
    ]
    for name in results[levels[0]]:
        cells = [f"{max(results[c][name]):,.0f} | {statistics.median(results[c][name]):,.0f}" for c in levels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| ratio to the thread pool (best) | " + " | ".join(f"c={c}" for c in levels) + " |",
        "|---|" + "---:|" * len(levels),
    ]
    for name in list(results[levels[0]])[1:]:
        cells = []
        for c in levels:
            ratio = max(results[c][name]) / max(results[c][POOL])
            target = TARGETS.get(c) if "lean" in name else None
            verdict = f" ({'met' if ratio >= target else 'missed'} >= {target:g}x)" if target else ""
            cells.append(f"{ratio:.2f}x{verdict}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 128, 512])
    args = parser.parse_args()
    bench_env()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with node_server() as url:
        function = "fn"
        endpoint = "Node.js zero-latency echo (bench/fast_endpoint.js)"
        with sandbox_server(max_workers=8) if url is None else nullcontext() as fallback:
            if url is None:
                url, function = fallback, "echo"
                endpoint = "the sandbox's echo (node is not installed: apt-get install nodejs)"
            if url is None:
                raise SystemExit("no endpoint could start")
            results = {}
            for c in args.concurrency:
                print(f"concurrency {c}:", flush=True)
                results[c] = measure(variants(url, function, c, args.calls), args.rounds, args.calls)
    print(f"\nendpoint: {endpoint}; {args.calls:,} calls per variant per round, {args.rounds} rounds\n")
    print(table(results))
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
