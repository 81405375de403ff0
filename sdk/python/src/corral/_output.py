"""An exec's output gathered from its events, cut in the middle as the server cuts it."""

from __future__ import annotations

# What the server keeps of each stream of a waited-for exec: this many
# bytes of UTF-8, or its first and last halves around a note of the cut.
LIMIT = 1 << 20


class Capture:
    """Keeps a stream's text as the server's ``?wait`` answer does: whole up to ``limit``
    bytes, else the first and last half with ``[… N bytes cut: …]`` between them."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._half = limit // 2
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._cutting = False

    def add(self, text: str) -> None:
        """Adds the next piece."""
        data = text.encode()
        self._total += len(data)
        if not self._cutting and len(self._head) + len(data) <= self._limit:
            self._head += data
            return
        if not self._cutting:
            # First overflow: the head keeps its first half, the rest is tail.
            self._cutting = True
            split = _floor(self._head, self._half)
            self._tail = self._head[split:]
            del self._head[split:]
        self._tail += data
        # Trimmed now and then, not on every piece: each trim copies the tail.
        if len(self._tail) > 4 * self._half:
            del self._tail[: _ceil(self._tail, len(self._tail) - self._half)]

    def result(self) -> tuple[str, bool]:
        """What was kept, and whether anything was cut."""
        head = self._head.decode("utf-8", "replace")
        if not self._cutting:
            return head, False
        start = (
            _ceil(self._tail, len(self._tail) - self._half) if len(self._tail) > self._half else 0
        )
        tail = self._tail[start:].decode("utf-8", "replace")
        cut = self._total - len(self._head) - (len(self._tail) - start)
        if cut == 0:
            return head + tail, False
        return f"{head}\n[… {cut} bytes cut: the exec's events have them all …]\n{tail}", True


def _floor(data: bytearray, at: int) -> int:
    """``at``, moved back to the start of a UTF-8 character."""
    at = min(at, len(data))
    while 0 < at < len(data) and data[at] & 0xC0 == 0x80:
        at -= 1
    return at


def _ceil(data: bytearray, at: int) -> int:
    """``at``, moved on to the start of a UTF-8 character."""
    while at < len(data) and data[at] & 0xC0 == 0x80:
        at += 1
    return at
