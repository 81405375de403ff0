"""The one place requests are sent: the base URL, the token, and errors as exceptions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx

from .._errors import error_for, shown_url, unreachable
from .._locate import Location

USER_AGENT = "corral-sdk-python/0.1"


class AsyncHttp:
    """An ``httpx`` client bound to one server and token; answers of 4xx/5xx raise."""

    def __init__(
        self,
        location: Location,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base = shown_url(location.url)
        self._client = httpx.AsyncClient(
            base_url=location.url,
            headers={"Authorization": f"Bearer {location.token}", "User-Agent": USER_AGENT},
            timeout=timeout,
            transport=transport,
            # The server is normally on loopback: never send its token through
            # a proxy named by the environment.
            trust_env=False,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Sends one request and reads its answer; an error answer raises its exception."""
        try:
            response = await self._client.request(
                method,
                path,
                params=_query(params),
                json=json,
                content=content,
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as error:
            raise unreachable(self.base, error) from error
        if not response.is_success:
            # Errors, and redirects too: the token is never sent on.
            raise error_for(response.status_code, response.content)
        return response

    @asynccontextmanager
    async def stream(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """``GET path`` with its body left to read; a broken connection raises ServerUnavailable."""
        try:
            async with self._client.stream(
                "GET",
                path,
                params=_query(params),
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            ) as response:
                if not response.is_success:
                    raise error_for(response.status_code, await response.aread())
                yield response
        except httpx.TransportError as error:
            raise unreachable(self.base, error) from error

    async def aclose(self) -> None:
        """Closes the connections."""
        await self._client.aclose()


def _query(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Query parameters without the ones left out, booleans as the server reads them."""
    if params is None:
        return None
    out = {}
    for name, value in params.items():
        if value is None:
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def segment(value: str) -> str:
    """``value`` as one path segment: an id or a name cannot reach another route."""
    if value in ("", ".", ".."):
        raise ValueError(f"{value!r} is no id or name")
    return quote(value, safe="")
