"""What ``%load_ext lambda_magic`` adds to starting IPython, in fresh processes.

Each repetition starts two fresh interpreters, in alternating order: one creates an
``InteractiveShell`` (``import IPython`` and the shell alone), the other does the same and
then ``%load_ext lambda_magic``. Bytecode is cached, as after ``pip install`` (this
machine sets PYTHONDONTWRITEBYTECODE; the children write theirs to a temporary
``PYTHONPYCACHEPREFIX`` instead, never into the source tree). The table shows the medians
of the whole process's wall time and of the in-process time of ``load_ext`` itself, and
which heavy modules loading pulled in (none should: boto3, ipywidgets, tqdm and pandas are
imported on first use).
Run: ``python bench/bench_load.py [--repeat 25]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_MS = 20.0
HEAVY = ("boto3", "botocore", "ipywidgets", "tqdm", "pandas", "yaml", "awslambdaric")

_CHILD = """
import json, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
import IPython
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
ready, cpu_ready = time.perf_counter(), time.process_time()
before = set(sys.modules)
if {load}:
    shell.run_line_magic("load_ext", "lambda_magic")
done, cpu_done = time.perf_counter(), time.process_time()
new = sorted(set(sys.modules) - before)
print(json.dumps({{"ipython_ms": (ready - started) * 1000, "load_ms": (done - ready) * 1000,
                  "load_cpu_ms": (cpu_done - cpu_ready) * 1000, "new": new}}))
"""


def child_env(cache: str) -> dict[str, str]:
    """Bytecode cached (in ``cache``, not the source tree), as after ``pip install``."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": cache}


def run_child(load: bool, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    """Start a fresh interpreter; its wall time (ms) and what it measured inside."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(load=load)], capture_output=True, text=True, check=True, env=env
    )
    return (time.perf_counter() - started) * 1000, json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    walls: dict[bool, list[float]] = {False: [], True: []}
    inside: dict[bool, list[float]] = {False: [], True: []}
    cpu: list[float] = []
    ipython: list[float] = []
    new: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = child_env(cache)
        run_child(False, env), run_child(True, env)  # write the bytecode, warm the file cache
        for index in range(args.repeat):
            for load in (False, True) if index % 2 else (True, False):
                wall, child = run_child(load, env)
                walls[load].append(wall)
                inside[load].append(float(child["load_ms"]))  # type: ignore[arg-type]
                ipython.append(float(child["ipython_ms"]))  # type: ignore[arg-type]
                if load:
                    new = list(child["new"])  # type: ignore[call-overload]
                    cpu.append(float(child["load_cpu_ms"]))  # type: ignore[arg-type]
    print(report(walls, inside, cpu, ipython, new, args.repeat))


def report(
    walls: dict[bool, list[float]],
    inside: dict[bool, list[float]],
    cpu: list[float],
    ipython: list[float],
    new: list[str],
    repeat: int,
) -> str:
    """The markdown table and the list of modules loading imported.

    The CPU time of ``load_ext`` is the figure least disturbed by other work on the machine.
    """
    added_wall = statistics.median(walls[True]) - statistics.median(walls[False])
    load_ms = statistics.median(inside[True])
    ours = [name for name in new if name.split(".")[0] == "lambda_magic"]
    heavy = sorted({name.split(".")[0] for name in new if name.split(".")[0] in HEAVY})
    load_cpu = statistics.median(cpu)
    verdict = "met" if load_cpu <= TARGET_MS else "missed"
    return "\n".join(
        [
            f"\nfresh processes, {repeat} of each, alternating\n",
            "| measure | median |",
            "|---|---:|",
            f"| process wall time, IPython shell alone | {statistics.median(walls[False]):.1f} ms |",
            f"| process wall time, IPython shell + %load_ext lambda_magic | {statistics.median(walls[True]):.1f} ms |",
            f"| added by loading (difference of medians) | {added_wall:+.1f} ms |",
            f"| %load_ext lambda_magic itself (in-process, wall) | {load_ms:.1f} ms |",
            f"| %load_ext lambda_magic itself (in-process, CPU) | {load_cpu:.1f} ms |",
            f"| import IPython + InteractiveShell (in-process, for scale) | {statistics.median(ipython):.1f} ms |",
            f"\ntarget: loading adds <= {TARGET_MS:g} ms (judged on the in-process CPU time; the difference "
            "of whole-process medians carries their spread of tens of ms): " + verdict,
            f"modules loading imported: {len(new)} ({len(ours)} of lambda_magic); "
            f"heavy ones: {', '.join(heavy) or 'none'}",
        ]
    )


if __name__ == "__main__":
    main()
