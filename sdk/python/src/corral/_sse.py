"""Server-sent events, read a line at a time (the same code for sync and async streams)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import ServerError

# SSE's line ends, and only those: text a job printed may hold U+2028,
# U+0085 and the like (JSON leaves them as they are), which Python's own
# line splitting would take for line ends, letting a job end a frame.
_LINE_END = re.compile(rb"\r\n|\r|\n")
# Longest line taken: events are at most a few hundred KiB.
MAX_LINE = 16 << 20


@dataclass(frozen=True)
class Frame:
    """One dispatched SSE event: its ``event`` name (``message`` when unnamed), ``id`` and data."""

    event: str
    id: str | None
    data: str


class SseParser:
    """Feeds lines (without their line ends) and hands back each complete frame."""

    def __init__(self) -> None:
        self._event = ""
        self._id: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> Frame | None:
        """The frame this line completes (an empty line ends one), else ``None``."""
        if not line:
            if not self._data:
                self._event, self._id = "", None
                return None
            frame = Frame(self._event or "message", self._id, "\n".join(self._data))
            self._event, self._id, self._data = "", None, []
            return frame
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None


class LineSplitter:
    """Cuts a byte stream into SSE lines (without their ends), whatever chunks it comes in."""

    def __init__(self) -> None:
        self._pending = b""
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[str]:
        """The lines this chunk completes."""
        if self._after_cr:
            self._after_cr = False
            chunk = chunk.removeprefix(b"\n")
        if not chunk:
            return []
        data = self._pending + chunk
        pieces = _LINE_END.split(data)
        self._pending = pieces.pop()
        self._after_cr = data.endswith(b"\r")
        if len(self._pending) > MAX_LINE:
            raise ServerError("an event stream line longer than 16 MiB")
        return [piece.decode("utf-8", "replace") for piece in pieces]


class FrameReader:
    """Bytes of an event stream in, complete frames out."""

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self._parser = SseParser()

    def feed(self, chunk: bytes) -> list[Frame]:
        """The frames this chunk completes."""
        frames = []
        for line in self._lines.feed(chunk):
            frame = self._parser.feed(line)
            if frame is not None:
                frames.append(frame)
        return frames
