"""A streamed response shown as it arrives: appended to one display, or printed.

In a notebook (any display publisher but the terminal's plain one) the chunks' text is
appended to a single output through a display handle, so it grows in place; in a terminal
each chunk is printed as it comes. When the call ends the live output is replaced by a
one-line summary, and the response itself (its payload decoded, JSON included) is shown as
the cell's result. Text is decoded incrementally, so a UTF-8 character split across two
chunks is shown whole.
"""

from __future__ import annotations

import codecs
import sys
from typing import Any

__all__ = ["LiveChunks", "live_chunks"]

#: Characters of streamed text kept in the live display (the response keeps everything).
LIVE_LIMIT = 20_000


class LiveChunks:
    """A chunk sink (``on_chunk``) that shows each chunk; ``close()`` when the call ends."""

    def __init__(self, *, notebook: bool) -> None:
        self.notebook = notebook
        self.count = 0
        self.size = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""
        self._handle: Any = None

    def __call__(self, chunk: bytes) -> None:
        self.count += 1
        self.size += len(chunk)
        text = self._decoder.decode(chunk)
        if not self.notebook:
            sys.stdout.write(text)
            sys.stdout.flush()
            self._text = text[-1:] or self._text
            return
        self._text = (self._text + text)[-LIVE_LIMIT:]
        self._show(self._text)

    def _show(self, text: str) -> None:
        from IPython.display import display

        bundle = {"text/plain": text}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def close(self) -> None:
        """The call ended: a summary replaces the live text (the response shows the rest)."""
        summary = f"streamed {self.count:,} chunk{'' if self.count == 1 else 's'} ({self.size:,} bytes)"
        if self.notebook:
            if self._handle is not None:
                self._handle.update({"text/plain": summary}, raw=True)
        elif self.count:
            sys.stdout.write(("" if self._text.endswith("\n") else "\n") + f"--- {summary} ---\n")
            sys.stdout.flush()


def live_chunks(shell: Any) -> LiveChunks:
    """A ``LiveChunks`` for ``shell``: a notebook's publisher updates displays in place."""
    from IPython.core.displaypub import DisplayPublisher

    publisher = getattr(shell, "display_pub", None)
    return LiveChunks(notebook=publisher is not None and type(publisher) is not DisplayPublisher)
