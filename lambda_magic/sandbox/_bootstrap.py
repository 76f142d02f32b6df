"""The first code a worker runs: ``python -I -S _bootstrap.py HANDLER PATH...``.

``-I -S`` start the interpreter with the standard library only: no site-packages, no
``PYTHON*`` variables, no user site, no ``.pth`` files, not even this file's folder. The
bootstrap then puts exactly the given folders (the function's code, its dependencies, its
layers, the runtime folder) in front of the standard library, as Lambda's runtime does, and
hands over to ``awslambdaric``. It imports nothing outside the standard library itself.
"""

from __future__ import annotations

import runpy
import sys


def main() -> None:
    """Set ``sys.path`` and run ``python -m awslambdaric HANDLER``."""
    handler, paths = sys.argv[1], sys.argv[2:]
    sys.argv = [sys.argv[0], handler]
    sys.path[:0] = paths
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
