"""What ``%load_ext lambda_magic`` adds to starting IPython, in fresh processes.

Each repetition starts two fresh interpreters, in alternating order: one creates an
``InteractiveShell`` (``import IPython`` and the shell alone), the other does the same and
then ``%load_ext lambda_magic``. The table shows the medians of the whole process's wall time
and of the in-process time of ``load_ext`` itself, and which heavy modules loading pulled in
(none should: boto3, ipywidgets, tqdm and pandas are imported on first use).
Run: ``python bench/bench_load.py [--repeat 25]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

TARGET_MS = 20.0
HEAVY = ("boto3", "botocore", "ipywidgets", "tqdm", "pandas", "yaml", "awslambdaric")

_CHILD = """
import json, sys, time
started = time.perf_counter()
import IPython
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
ready = time.perf_counter()
before = set(sys.modules)
if {load}:
    shell.run_line_magic("load_ext", "lambda_magic")
done = time.perf_counter()
new = sorted(set(sys.modules) - before)
print(json.dumps({{"ipython_ms": (ready - started) * 1000, "load_ms": (done - ready) * 1000, "new": new}}))
"""


def run_child(load: bool) -> tuple[float, dict[str, object]]:
    """Start a fresh interpreter; its wall time (ms) and what it measured inside."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD.format(load=load)], capture_output=True,
                         text=True, check=True)
    return (time.perf_counter() - started) * 1000, json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    walls: dict[bool, list[float]] = {False: [], True: []}
    inside: dict[bool, list[float]] = {False: [], True: []}
    ipython: list[float] = []
    new: list[str] = []
    run_child(False), run_child(True)  # warm the OS file cache
    for index in range(args.repeat):
        for load in ((False, True) if index % 2 else (True, False)):
            wall, child = run_child(load)
            walls[load].append(wall)
            inside[load].append(float(child["load_ms"]))  # type: ignore[arg-type]
            ipython.append(float(child["ipython_ms"]))  # type: ignore[arg-type]
            if load:
                new = list(child["new"])  # type: ignore[call-overload]
    print(report(walls, inside, ipython, new, args.repeat))


def report(walls: dict[bool, list[float]], inside: dict[bool, list[float]], ipython: list[float],
           new: list[str], repeat: int) -> str:
    """The markdown table and the list of modules loading imported."""
    added_wall = statistics.median(walls[True]) - statistics.median(walls[False])
    load_ms = statistics.median(inside[True])
    ours = [name for name in new if name.split(".")[0] == "lambda_magic"]
    heavy = sorted({name.split(".")[0] for name in new if name.split(".")[0] in HEAVY})
    verdict = "met" if max(added_wall, load_ms) <= TARGET_MS else "missed"
    return "\n".join([
        f"\nfresh processes, {repeat} of each, alternating\n",
        "| measure | median |",
        "|---|---:|",
        f"| process wall time, IPython shell alone | {statistics.median(walls[False]):.1f} ms |",
        f"| process wall time, IPython shell + %load_ext lambda_magic | {statistics.median(walls[True]):.1f} ms |",
        f"| added by loading (difference of medians) | {added_wall:+.1f} ms |",
        f"| %load_ext lambda_magic itself (in-process) | {load_ms:.1f} ms |",
        f"| import IPython + InteractiveShell (in-process, for scale) | {statistics.median(ipython):.1f} ms |",
        f"\ntarget: loading adds <= {TARGET_MS:g} ms: {verdict}",
        f"modules loading imported: {len(new)} ({len(ours)} of lambda_magic); "
        f"heavy ones: {', '.join(heavy) or 'none'}",
    ])


if __name__ == "__main__":
    main()
