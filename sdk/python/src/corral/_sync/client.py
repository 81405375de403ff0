# Generated from ../_async by scripts/generate.py: edit that, not this.
"""The client: one server, its jobs, sandboxes and secrets."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import httpx
from typing_extensions import Self

from .._locate import locate
from .http import SyncHttp
from .jobs import Jobs
from .sandboxes import Sandboxes
from .secrets import Secrets


class CorralBase:
    """What the sync and async clients share; use :class:`Corral` or :class:`AsyncCorral`."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Finds the server as the ``corral`` CLI does.

        ``url`` and ``token``, else ``CORRAL_URL`` and ``CORRAL_TOKEN``,
        else the files ``corral serve`` writes in its data directory
        (``data_dir``, else ``CORRAL_DATA_DIR``, else
        ``~/.local/share/corral``); the URL defaults to
        ``http://127.0.0.1:7316``. Raises :class:`ConfigurationError`
        naming where it looked when no token is found. ``timeout`` bounds
        each request (streams and waits have their own).
        """
        location = locate(url, token, data_dir)
        self.url = location.url
        self._http = SyncHttp(location, timeout, transport)
        self.jobs = Jobs(self._http)
        self.sandboxes = Sandboxes(self._http)
        self.secrets = Secrets(self._http)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def health(self) -> dict[str, Any]:
        """The server's health answer (no token needed)."""
        response = self._http.request("GET", "/v1/health")
        answer: dict[str, Any] = response.json()
        return answer

    def close(self) -> None:
        """Closes its connections."""
        self._http.close()
