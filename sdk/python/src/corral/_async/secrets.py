"""Sealed secrets, granted to jobs and sandboxes by name; their values are write-only."""

from __future__ import annotations

from .. import models
from .http import AsyncHttp, segment


class AsyncSecrets:
    """The server's secrets: ``client.secrets``."""

    def __init__(self, http: AsyncHttp) -> None:
        self._http = http

    async def set(self, name: str, value: str) -> models.SecretInfo:
        """Stores (or replaces) a secret; the server seals it and never shows it again."""
        response = await self._http.request(
            "PUT", f"/v1/secrets/{segment(name)}", json={"value": value}
        )
        return models.SecretInfo.model_validate_json(response.content)

    async def list(self) -> list[models.SecretInfo]:
        """The stored secrets' names and times, never their values."""
        response = await self._http.request("GET", "/v1/secrets")
        return models.SecretList.model_validate_json(response.content).secrets

    async def remove(self, name: str) -> None:
        """Deletes a secret; ``NotFound`` when there is none of that name."""
        await self._http.request("DELETE", f"/v1/secrets/{segment(name)}")
