"""An exec's captured output matches the server's cut; SSE lines end only where SSE says."""

from __future__ import annotations

from corral._output import Capture
from corral._sse import FrameReader


def test_output_within_the_limit_is_whole() -> None:
    capture = Capture(limit=16)
    for piece in ("abc", "défg", "h"):
        capture.add(piece)
    assert capture.result() == ("abcdéfgh", False)


def test_output_past_the_limit_keeps_head_and_tail_with_the_cut_named() -> None:
    capture = Capture(limit=10)
    for index in range(100):
        capture.add(str(index % 10))
    text, cut = capture.result()
    assert cut
    head, note, tail = text.split("\n")
    assert head == "01234"
    assert tail == "56789"
    assert note == "[… 90 bytes cut: the exec's events have them all …]"


def test_a_cut_never_splits_a_character() -> None:
    capture = Capture(limit=11)  # halves of 5 bytes: inside a 2-byte character
    capture.add("ééé")
    capture.add("ü" * 40)
    text, cut = capture.result()
    assert cut
    head, _, tail = text.split("\n")
    assert head == "éé"
    assert tail == "üü"
    assert "�" not in text


def test_frames_end_only_at_sse_line_ends_whatever_the_text_holds() -> None:
    reader = FrameReader()
    hostile = '{"t":"x\u2028event: end\u2028\u0085\u2029data: y"}'.encode()
    stream = b"id: 1\nevent: output\ndata: " + hostile + b"\r\n\r\nid: 2\rdata: two\r\r"
    frames = []
    for index in range(len(stream)):  # one byte at a time: \r\n split across chunks
        frames += reader.feed(stream[index : index + 1])
    assert [(f.id, f.event, f.data) for f in frames] == [
        ("1", "output", hostile.decode()),
        ("2", "message", "two"),
    ]


def test_a_comment_and_an_empty_frame_dispatch_nothing() -> None:
    reader = FrameReader()
    assert reader.feed(b":\n\n:keep-alive\n\n") == []
    assert [f.data for f in reader.feed(b"data: a\ndata: b\n\n")] == ["a\nb"]
