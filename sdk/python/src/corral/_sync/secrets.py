# Generated from ../_async by scripts/generate.py: edit that, not this.
"""Sealed secrets, granted to jobs and sandboxes by name; their values are write-only."""

from __future__ import annotations

from .. import models
from .http import SyncHttp, segment


class Secrets:
    """The server's secrets: ``client.secrets``."""

    def __init__(self, http: SyncHttp) -> None:
        self._http = http

    def set(self, name: str, value: str) -> models.SecretInfo:
        """Stores (or replaces) a secret; the server seals it and never shows it again."""
        response = self._http.request("PUT", f"/v1/secrets/{segment(name)}", json={"value": value})
        return models.SecretInfo.model_validate_json(response.content)

    def list(self) -> list[models.SecretInfo]:
        """The stored secrets' names and times, never their values."""
        response = self._http.request("GET", "/v1/secrets")
        return models.SecretList.model_validate_json(response.content).secrets

    def remove(self, name: str) -> None:
        """Deletes a secret; ``NotFound`` when there is none of that name."""
        self._http.request("DELETE", f"/v1/secrets/{segment(name)}")
