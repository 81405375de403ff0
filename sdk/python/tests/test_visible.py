"""What a job printed cannot drive the terminal it is printed on."""

from __future__ import annotations

import pytest

from corral import visible


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, ünïcode and 漢字\n\tok", "plain text, ünïcode and 漢字\n\tok"),
        ("\x1b]52;c;ZXZpbA==\x07", "^[]52;c;ZXZpbA==^G"),
        ("done\r\x1b[2Kfaked", "done^M^[[2Kfaked"),
        ("\x00\x7f", "^@^?"),
        ("\x9b31m", "<U+009B>31m"),
        ("admin\u202e\u2066", "admin<U+202E><U+2066>"),
        ("zero\u200bwidth\ufeff", "zero<U+200B>width<U+FEFF>"),
        ("line\u2028sep", "line<U+2028>sep"),
        ("tag\U000e0041", "tag<U+E0041>"),
    ],
)
def test_controls_and_invisible_characters_are_shown(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert visible(visible(text)) == visible(text)


def test_one_line_shows_line_breaks_too() -> None:
    assert visible("ok\nstatus: succeeded", one_line=True) == "ok^Jstatus: succeeded"
    assert visible("a\tb", one_line=True) == "a\tb"
