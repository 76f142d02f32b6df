"""Per-call cost of finding the cached client: credentials checked per call vs frozen.

``client_for`` now checks, on every call, the environment variables botocore reads and the
identity (``stat``) of the AWS config and credentials files, so a switch of keys, profile or
file is seen by the next call. Before (``--baseline``, default the commit this work started
from), the cache key was the settings alone and the credentials were frozen for the life of
the kernel. Both versions of ``_client.py`` are loaded side by side in this process and timed
interleaved, in rounds; the table shows medians of per-round means and the ratio new/old,
and the added time next to one invoke against a local endpoint with no latency.

Run: ``python bench/bench_credentials.py [--rounds 15] [--calls 20000]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from _servers import bench_env, fake_server

ROOT = Path(__file__).resolve().parent.parent


def baseline_module(ref: str) -> ModuleType:
    """``lambda_magic/_client.py`` as it was at ``ref``, loaded under another name."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:lambda_magic/_client.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_client.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def per_call(calls: dict[str, Callable[[], Any]], rounds: int, count: int) -> dict[str, float]:
    """Median over rounds of each variant's mean seconds per call, interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(count):
                call()
            samples[name].append((time.perf_counter() - started) / count)
    return {name: statistics.median(values) for name, values in samples.items()}


def settings_cases(secret: Path) -> dict[str, Any]:
    from lambda_magic._settings import Settings

    return {
        "AWS chain (env keys)": Settings(region="us-east-1", endpoint_url="http://127.0.0.1:9"),
        "access_key + secret file": Settings(
            access_key="AKIABENCHBENCH00",
            secret_key_path=str(secret),
            region="us-east-1",
            endpoint_url="http://127.0.0.1:9",
        ),
    }


def invoke_time(url: str, rounds: int) -> float:
    """Seconds per ``lambda_magic.invoke`` against a no-latency local endpoint."""
    import lambda_magic

    lambda_magic.session_settings().update(endpoint_url=url, region="us-east-1")
    return per_call({"invoke": lambda: lambda_magic.invoke("fn", {"a": 1})}, rounds, 50)["invoke"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20000, help="look-ups per variant per round")
    parser.add_argument("--baseline", default="c6b358a", help="git ref of the frozen-credentials _client.py")
    args = parser.parse_args()
    bench_env()
    from lambda_magic import _client

    old = baseline_module(args.baseline)
    secret = Path(tempfile.mkdtemp()) / "secret"
    secret.write_text("bench-secret")
    secret.chmod(0o600)
    print(f"client_for per call, {args.rounds} rounds x {args.calls:,} calls; baseline {args.baseline}\n")
    print("| settings | baseline (frozen) | now (checked per call) | ratio | added |")
    print("|---|---:|---:|---:|---:|")
    for name, settings in settings_cases(secret).items():
        times = per_call(
            {"old": lambda s=settings: old.client_for(s), "new": lambda s=settings: _client.client_for(s)},
            args.rounds,
            args.calls,
        )
        print(
            f"| {name} | {times['old'] * 1e6:.2f} us | {times['new'] * 1e6:.2f} us | "
            f"{times['new'] / times['old']:.2f} | {(times['new'] - times['old']) * 1e6:+.2f} us |"
        )
    with fake_server(0.0) as url:
        invoke = invoke_time(url, args.rounds)
    check = per_call({"digest": _client._environment_digest}, args.rounds, args.calls)["digest"]
    print(
        json.dumps(
            {
                "invoke_per_call_us": round(invoke * 1e6, 1),
                "credential_check_us": round(check * 1e6, 2),
                "check_share_of_an_invoke": round(check / invoke, 4),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
