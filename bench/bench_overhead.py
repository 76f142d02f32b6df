"""Per-call overhead of ``%%lambda_invoke`` and ``invoke()`` next to a raw boto3 loop.

Every variant sends the same request (payload, and ``LogType=Tail`` as lambda_magic asks by
default) over one reused client (boto3's own, or lambda_magic's cached one); the variants run interleaved in rounds so
drift on a busy machine hits them alike, and the table shows medians of the per-round
means. ``magic (run_cell)`` is what a notebook cell costs, IPython's cell machinery
included; ``magic (run_cell_magic)`` is the magic alone. Display is off (``--quiet``).
Endpoints run in their own processes: a FakeLambda answering after a fixed latency, and the
sandbox's ``echo``. ``invoke()`` runs on each Invoke transport (the ``transport`` setting):
its target is to cost no more than the raw boto3 call (ratio <= 1.0); the magics' is 1.05.
Run: ``python bench/bench_overhead.py [--rounds 15] [--calls 60]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from _servers import bench_env, fake_server, sandbox_server

PAYLOAD = {"hello": "world", "n": 1}
TARGET = 1.05
#: Targets that differ from TARGET.
TARGETS = {"lambda_magic.invoke() (lean)": 1.0, "lambda_magic.invoke() (botocore)": 1.0}


def variants(url: str, function: str) -> dict[str, Callable[[], Any]]:
    """One call of each variant, all against ``url``."""
    import boto3
    from IPython.core.interactiveshell import InteractiveShell

    import lambda_magic

    lambda_magic.session_settings().update(endpoint_url=url, region="us-east-1")
    raw = boto3.client("lambda", endpoint_url=url, region_name="us-east-1")
    body = json.dumps(PAYLOAD).encode()
    shell = InteractiveShell.instance()
    if "lambda_invoke" not in shell.magics_manager.magics["cell"]:
        shell.run_line_magic("load_ext", "lambda_magic")
    shell.user_ns.update(_raw=raw, _body=body)
    cell = f"%%lambda_invoke {function} --quiet\n{json.dumps(PAYLOAD)}"
    raw_cell = f"_out = _raw.invoke(FunctionName={function!r}, Payload=_body, LogType='Tail')['Payload'].read()"
    session = lambda_magic.session_settings()

    def on(transport: str, send: Callable[[], Any]) -> Callable[[], Any]:
        """``send`` with the ``transport`` setting (set once per round, not per call)."""

        def call() -> Any:
            if session.transport != transport:
                session.update(transport=transport)
            return send()

        return call

    return {
        "boto3 client.invoke": lambda: raw.invoke(FunctionName=function, Payload=body, LogType="Tail")[
            "Payload"
        ].read(),
        "lambda_magic.invoke() (lean)": on("lean", lambda: lambda_magic.invoke(function, PAYLOAD)),
        "lambda_magic.invoke() (botocore)": on("botocore", lambda: lambda_magic.invoke(function, PAYLOAD)),
        "%%lambda_invoke (run_cell_magic)": on(
            "lean", lambda: shell.run_cell_magic("lambda_invoke", f"{function} --quiet", json.dumps(PAYLOAD))
        ),
        "boto3 in a cell (run_cell)": lambda: shell.run_cell(raw_cell, store_history=False),
        "%%lambda_invoke cell (run_cell)": on("lean", lambda: shell.run_cell(cell, store_history=False)),
    }


#: Each variant's baseline: boto3 called the same way (a cell is compared with a boto3 cell).
BASELINES = {
    "lambda_magic.invoke() (lean)": "boto3 client.invoke",
    "lambda_magic.invoke() (botocore)": "boto3 client.invoke",
    "%%lambda_invoke (run_cell_magic)": "boto3 client.invoke",
    "%%lambda_invoke cell (run_cell)": "boto3 in a cell (run_cell)",
}


def measure(calls: dict[str, Callable[[], Any]], rounds: int, per_round: int) -> dict[str, tuple[float, float]]:
    """Median over rounds of each variant's mean wall and CPU seconds per call, interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm up: connections, caches, first imports
        for _ in range(3):
            call()
    names = list(calls)
    for round_ in range(rounds):
        shift = round_ % len(names)  # rotate the order: no variant always follows the same one
        for name in names[shift:] + names[:shift]:
            call = calls[name]
            gc.collect()  # each variant pays for its own garbage, not the previous one's
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                call()
            samples[name].append((time.perf_counter() - started) / per_round)
            cpu[name].append((time.process_time() - cpu_started) / per_round)
    return {name: (statistics.median(samples[name]), statistics.median(cpu[name])) for name in calls}


def table(title: str, medians: dict[str, tuple[float, float]]) -> str:
    """Markdown rows: wall and CPU per call; for lambda_magic's variants, what they add.

    The CPU time is this process's only (the endpoint runs elsewhere): the steadiest figure
    of what lambda_magic itself costs per call.
    """
    lines = [
        f"\n{title}\n",
        "| variant | wall per call | compared with | added wall | ratio | target | CPU per call | added CPU |",
        "|---|---:|---|---:|---:|:---:|---:|---:|",
    ]
    for name, (wall, cpu) in medians.items():
        base_name = BASELINES.get(name)
        if base_name is None:
            lines.append(f"| {name} | {wall * 1000:.3f} ms | | | | | {cpu * 1e6:.0f} us | |")
            continue
        base, base_cpu = medians[base_name]
        ratio, target = wall / base, TARGETS.get(name, TARGET)
        lines.append(
            f"| {name} | {wall * 1000:.3f} ms | {base_name} | {(wall - base) * 1e6:+.0f} us | "
            f"{ratio:.3f} | {'met' if ratio <= target else 'missed'} <= {target:g} | {cpu * 1e6:.0f} us | "
            f"{(cpu - base_cpu) * 1e6:+.0f} us |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=60, help="calls per variant per round")
    parser.add_argument("--latency", type=float, default=0.05, help="the fake's fixed latency (s)")
    args = parser.parse_args()
    bench_env()
    with fake_server(args.latency) as url:
        slow = max(3, args.calls // 12)  # 50 ms calls: fewer per round keep the run short
        print(
            table(
                f"FakeLambda, fixed latency {args.latency * 1000:g} ms ({args.rounds} rounds x {slow} calls)",
                measure(variants(url, "fn"), args.rounds, slow),
            )
        )
    with sandbox_server() as url:
        if url is None:
            print("\nsandbox: could not start here; column left out")
        else:
            print(
                table(
                    f"sandbox echo ({args.rounds} rounds x {args.calls} calls)",
                    measure(variants(url, "echo"), args.rounds, args.calls),
                )
            )
    with fake_server(0.0) as url:
        print(
            table(
                f"FakeLambda, no latency: the overhead alone ({args.rounds} rounds x {args.calls} calls)",
                measure(variants(url, "fn"), args.rounds, args.calls),
            )
        )


if __name__ == "__main__":
    main()
