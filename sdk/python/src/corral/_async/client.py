"""The client: one server, its jobs, sandboxes and secrets."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import httpx
from typing_extensions import Self

from .._locate import locate
from .http import AsyncHttp
from .jobs import AsyncJobs
from .sandboxes import AsyncSandboxes
from .secrets import AsyncSecrets


class AsyncCorralBase:
    """What the sync and async clients share; use :class:`Corral` or :class:`AsyncCorral`."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
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
        self._http = AsyncHttp(location, timeout, transport)
        self.jobs = AsyncJobs(self._http)
        self.sandboxes = AsyncSandboxes(self._http)
        self.secrets = AsyncSecrets(self._http)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def health(self) -> dict[str, Any]:
        """The server's health answer (no token needed)."""
        response = await self._http.request("GET", "/v1/health")
        answer: dict[str, Any] = response.json()
        return answer

    async def aclose(self) -> None:
        """Closes its connections."""
        await self._http.aclose()
