"""An exec's output gathered from its events, cut in the middle past a size as the server cuts."""

from __future__ import annotations

# What the server keeps of each stream of a waited-for exec: the first and
# last half of this many bytes.
LIMIT = 1 << 20


class Capture:
    """Keeps the head and the tail of a stream of text, and whether the middle was cut."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._half = limit // 2
        self._head: list[str] = []
        self._head_size = 0
        self._tail = ""
        self.truncated = False

    def add(self, text: str) -> None:
        """Adds the next piece."""
        if self._head_size < self._half and not self._tail:
            room = self._half - self._head_size
            self._head.append(text[:room])
            self._head_size += len(text[:room])
            text = text[room:]
        if text:
            self._tail += text
            if len(self._tail) > self._half:
                self._tail = self._tail[-self._half :]
                self.truncated = True

    def text(self) -> str:
        """What was kept: the head, then the tail."""
        return "".join(self._head) + self._tail
