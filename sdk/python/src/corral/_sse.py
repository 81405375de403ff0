"""Server-sent events, read a line at a time (the same code for sync and async streams)."""

from __future__ import annotations

from dataclasses import dataclass


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
