"""The live display of a streamed response, fed chunk by chunk."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.displaypub import DisplayPublisher

from lambda_magic._stream_display import LIVE_LIMIT, LiveChunks, live_chunks


class Recorder(DisplayPublisher):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.seen: list[tuple[str, bool]] = []

    def publish(self, data: dict[str, Any], *args: Any, update: bool = False, **kw: Any) -> None:
        self.seen.append((data["text/plain"], update))


@pytest.fixture
def recorder(shell: Any) -> Any:
    publisher = Recorder(shell=shell)
    terminal, shell.display_pub = shell.display_pub, publisher
    yield publisher
    shell.display_pub = terminal


def test_a_character_split_across_chunks_is_shown_whole(shell: Any, recorder: Recorder) -> None:
    live = live_chunks(shell)
    assert live.notebook
    for chunk in (b"caf", "é".encode()[:1], "é".encode()[1:] + b" ok"):
        live(chunk)
    live.close()
    assert [text for text, _ in recorder.seen] == ["caf", "caf", "café ok", "streamed 3 chunks (8 bytes)"]
    assert [update for _, update in recorder.seen] == [False, True, True, True]


def test_the_live_text_keeps_the_newest_characters(shell: Any, recorder: Recorder) -> None:
    live = live_chunks(shell)
    live(b"a" * LIVE_LIMIT)
    live(b"end")
    assert recorder.seen[-1][0] == "a" * (LIVE_LIMIT - 3) + "end"


def test_terminal_prints_and_closes_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    live = LiveChunks(notebook=False)
    live(b"one\n")
    live(b"two")
    live.close()
    assert capsys.readouterr().out == "one\ntwo\n--- streamed 2 chunks (7 bytes) ---\n"


def test_nothing_streamed_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    LiveChunks(notebook=False).close()
    assert capsys.readouterr().out == ""
