"""Fan-out of 1,000 invocations of a 50 ms function at concurrency 32.

Wall time against the ideal (N x latency / concurrency), and against a plain
``ThreadPoolExecutor`` of 32 threads over a default boto3 client (pool of 10, standard
retries). Variants run interleaved in rounds; the table shows medians. ``pool overruns``
counts urllib3's "Connection pool is full" warnings: connections opened and thrown away.
Endpoints run in their own processes: a FakeLambda answering after 50 ms, and the sandbox's
``sleep`` function asked to sleep 50 ms. Run: ``python bench/bench_fanout.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import logging
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _servers import bench_env, fake_server, sandbox_server

N, LATENCY, CONCURRENCY, TARGET = 1000, 0.05, 32, 1.3


class PoolOverruns(logging.Handler):
    """Counts urllib3's "Connection pool is full" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count, print nothing."""
        self.count += "Connection pool is full" in record.getMessage()


def variants(url: str, function: str, event: Callable[[int], dict[str, Any]]) -> dict[str, Callable[[], Any]]:
    """Each variant sends N events to ``function`` at ``url``."""
    import boto3
    from IPython.core.interactiveshell import InteractiveShell

    import lambda_magic

    lambda_magic.session_settings().update(endpoint_url=url, region="us-east-1", log_tail=False)
    raw = boto3.client("lambda", endpoint_url=url, region_name="us-east-1")
    shell = InteractiveShell.instance()
    if "lambda_invoke" not in shell.magics_manager.magics["cell"]:
        shell.run_line_magic("load_ext", "lambda_magic")
    cell = json.dumps([event(i) for i in range(N)])

    def plain_pool() -> None:
        def one(i: int) -> bytes:
            return raw.invoke(FunctionName=function, Payload=json.dumps(event(i)).encode())["Payload"].read()

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(one, range(N)))

    def with_progress() -> None:
        with contextlib.redirect_stderr(io.StringIO()):  # the bar is drawn, just not shown here
            lambda_magic.invoke_many(function, (event(i) for i in range(N)), concurrency=CONCURRENCY)

    return {
        "invoke_many (no progress bar)": lambda: lambda_magic.invoke_many(
            function, (event(i) for i in range(N)), concurrency=CONCURRENCY, progress=False
        ),
        "invoke_many (progress bar)": with_progress,
        "%%lambda_invoke --each --quiet": lambda: shell.run_cell_magic(
            "lambda_invoke", f"{function} --each --concurrency {CONCURRENCY} --quiet", cell
        ),
        "ThreadPoolExecutor + boto3 default client": plain_pool,
    }


def measure(calls: dict[str, Callable[[], Any]], rounds: int) -> dict[str, tuple[float, float, int]]:
    """Median wall and CPU time of each variant (interleaved, rotated), and its pool overruns."""
    overruns = PoolOverruns()
    logging.getLogger("urllib3.connectionpool").addHandler(overruns)
    logging.getLogger("urllib3.connectionpool").propagate = False
    samples: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    counts = dict.fromkeys(calls, 0)
    names = list(calls)
    for call in calls.values():  # warm up: workers, connections
        call()
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            before = overruns.count
            started, cpu_started = time.perf_counter(), time.process_time()
            calls[name]()
            samples[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            counts[name] += overruns.count - before
    return {name: (statistics.median(samples[name]), statistics.median(cpu[name]), counts[name]) for name in calls}


def table(title: str, results: dict[str, tuple[float, float, int]], latency: float) -> str:
    """Markdown rows: wall time, x ideal, x the plain thread pool, client CPU, overruns.

    ``client CPU`` is this process's CPU time over all threads: near the wall time, the
    client itself (botocore, under one GIL) is what limits the rate.
    """
    ideal = N * latency / CONCURRENCY
    pool = results["ThreadPoolExecutor + boto3 default client"][0]
    lines = [
        f"\n{title}: ideal {N} x {latency * 1000:.1f} ms / {CONCURRENCY} = {ideal:.3f} s\n",
        "| variant | wall time | x ideal | <= 1.3 | x ThreadPoolExecutor | client CPU | pool overruns |",
        "|---|---:|---:|:---:|---:|---:|---:|",
    ]
    for name, (wall, cpu, overruns) in results.items():
        ratio = wall / ideal
        lines.append(
            f"| {name} | {wall:.3f} s | {ratio:.2f} | {'met' if ratio <= TARGET else 'missed'} | "
            f"{wall / pool:.2f} | {cpu:.2f} s | {overruns} |"
        )
    return "\n".join(lines)


def single_latency(url: str, function: str, event: dict[str, Any]) -> float:
    """Median round trip of one call on its own: the latency the ideal should use."""
    import boto3

    client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1")
    times = []
    for _ in range(20):
        started = time.perf_counter()
        client.invoke(FunctionName=function, Payload=json.dumps(event).encode())["Payload"].read()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_env()
    with fake_server(LATENCY) as url:
        print(
            table(
                f"FakeLambda answering after {LATENCY * 1000:g} ms ({args.rounds} rounds)",
                measure(variants(url, "fn", lambda i: {"id": i}), args.rounds),
                LATENCY,
            )
        )
    with sandbox_server(max_workers=CONCURRENCY) as url:
        if url is None:
            print("\nsandbox: could not start here; column left out")
            return
        sleep = {"seconds": LATENCY}
        measured = single_latency(url, "sleep", sleep)
        results = measure(variants(url, "sleep", lambda i: {**sleep, "id": i}), args.rounds)
        print(table(f"sandbox `sleep` 50 ms ({args.rounds} rounds), nominal latency", results, LATENCY))
        print(table(f"same runs, against the measured single-call latency {measured * 1000:.1f} ms", results, measured))


if __name__ == "__main__":
    main()
