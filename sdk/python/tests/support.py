"""What the tests share beyond fixtures: the server's address, a port, a flaky proxy."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Server:
    url: str
    token: str
    data_dir: Path
    instance: str
    log: Path

    def env(self) -> dict[str, str]:
        """An environment that points a client at this server."""
        return {**os.environ, "CORRAL_URL": self.url, "CORRAL_TOKEN": self.token}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CuttingProxy:
    """A TCP proxy to the server that cuts each of its first `cuts` event streams after
    `after` bytes of the server's answer, mid-frame, as a flaky network would.

    Other requests pass whole. It tells them apart by a connection's first
    request line, so its clients must not reuse connections (see `transport`).
    """

    def __init__(self, upstream: str, after: int, cuts: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self._upstream = (host, int(port))
        self._after = after
        self._cuts_left = cuts
        self.cut = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(downstream,), daemon=True).start()

    def _serve(self, downstream: socket.socket) -> None:
        head = b""
        while b"\r\n" not in head:
            data = downstream.recv(4096)
            if not data:
                downstream.close()
                return
            head += data
        limit = None
        if b"/events/stream" in head.split(b"\r\n", 1)[0]:
            with self._lock:
                if self._cuts_left > 0:
                    self._cuts_left -= 1
                    limit = self._after
        upstream = socket.create_connection(self._upstream)
        upstream.sendall(head)
        threading.Thread(target=self._pipe, args=(downstream, upstream, None), daemon=True).start()
        self._pipe(upstream, downstream, limit)

    def _pipe(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: limit - sent])
                    with self._lock:
                        self.cut += 1
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self._listener.close()
