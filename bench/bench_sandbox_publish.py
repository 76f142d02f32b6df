"""Publishing a large code folder again (AutoPublishAlias on every start), next to a plain copy.

A later sandbox that publishes code it has seen before neither reads (digest remembered by
the files' stat signature) nor copies it (the frozen copy is kept per digest). The baseline
is what publishing cost before: hashing every byte and copying the folder, measured in the
same run on the same folder. Run: ``python bench/bench_sandbox_publish.py [--mb 300]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from lambda_magic.sandbox import Sandbox


def _make_code(folder: Path, megabytes: int) -> None:
    folder.mkdir(parents=True)
    (folder / "app.py").write_text("def handler(event, context):\n    return 1\n")
    block = os.urandom(1 << 20)
    for index in range(megabytes // 8):
        (folder / f"data-{index:03d}.bin").write_bytes(block * 8)


def _baseline(code: Path, target: Path) -> float:
    """Hash every byte, then copy the folder: what each publish did before."""
    started = time.perf_counter()
    digest = hashlib.sha256()
    for path in sorted(code.iterdir()):
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    shutil.copytree(code, target)
    return time.perf_counter() - started


def _publish(code: Path, cache: Path) -> float:
    started = time.perf_counter()
    sandbox = Sandbox(demo=False, cache_dir=cache)
    sandbox.add_function("big", code=code, handler="app.handler", publish=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=300, help="size of the code folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        code, cache = Path(tmp) / "code", Path(tmp) / "cache"
        _make_code(code, args.mb)
        baseline = _baseline(code, Path(tmp) / "copy")
        first = _publish(code, cache)
        again = _publish(code, cache)
    print(f"code folder: {args.mb} MB")
    print(f"baseline (hash + copy):        {baseline * 1000:9.1f} ms")
    print(f"first publish (hash + freeze): {first * 1000:9.1f} ms  ({first / baseline:.2f}x)")
    print(f"publish again, later sandbox:  {again * 1000:9.1f} ms  ({again / baseline:.4f}x)")


if __name__ == "__main__":
    main()
