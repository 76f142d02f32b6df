"""What every lambda_magic magic does with its line and its failures.

``parse_line`` reads a line with shell quoting (options anywhere); ``usage_errors`` turns a
``LambdaMagicError`` into IPython's own one-line ``UsageError`` at the magic's boundary.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.error import UsageError
from IPython.utils.process import arg_split

from lambda_magic._exceptions import LambdaMagicError

__all__ = ["parse_line", "usage_errors"]


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn any ``LambdaMagicError`` into IPython's one-line ``UsageError``."""
    try:
        yield
    except LambdaMagicError as exc:
        raise UsageError(str(exc)) from None


def parse_line(magic: Any, line: str) -> Any:
    """Parse a magic's line with shell quoting, so JSON in quotes stays one argument.

    Every lambda_magic magic parses its line here; options may come before or after the
    positionals. IPython's own ``parse_argstring`` would keep the quote characters.
    """
    return argparse.Namespace(**vars(_parsed(magic.parser, line)))  # a copy: callers may change it


@functools.lru_cache(maxsize=256)
def _parsed(parser: Any, line: str) -> Any:
    # Cached: a re-run cell has the same line, and argparse is a third of the magic's own cost.
    try:
        argv = arg_split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"cannot parse the magic's line ({exc}): check its quotes") from None
    try:
        return parser.parse_intermixed_args(argv)
    except UsageError as exc:  # argparse's own words say what is wrong, not what to do
        raise UsageError(f"{exc}: see %{parser.prog}? for its options") from None
