"""The exceptions the SDK raises: one class per kind of failure the API answers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._visible import visible


class CorralError(Exception):
    """Anything corral refused or could not do; the base of every other error here.

    ``status`` is the HTTP status when the server answered, ``code`` the
    server's stable code (``budget_exceeded``, …) where it gave one, and
    ``field`` the request field it named. ``message`` is the server's text
    as it came; ``str()`` of the error shows its control and invisible
    characters (it may quote what a sandbox wrote) and keeps it on one line.
    """

    status: int | None
    code: str | None
    field: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}" if self.field else self.message
        return visible(text, one_line=True)


class ConfigurationError(CorralError):
    """The client could not find the server's address or its API token."""


class BadRequest(CorralError):
    """HTTP 400: the request was wrong; ``field`` names what the server refused."""


class Unauthorized(CorralError):
    """HTTP 401: no API token, or not this server's."""


class Forbidden(CorralError):
    """HTTP 403: the server does not allow this at all."""


class NotFound(CorralError):
    """HTTP 404: no such job, sandbox, secret or file."""


class Conflict(CorralError):
    """HTTP 409: not in a state that allows it (an ended job, a stopped sandbox, …)."""


class PayloadTooLarge(CorralError):
    """HTTP 413: larger than the sandbox or server takes; nothing was written."""


class TooManyRequests(CorralError):
    """HTTP 429: as many execs run as the sandbox may run at once."""


class ServerError(CorralError):
    """HTTP 5xx, or a stream the server could not go on with."""


class BadGateway(ServerError):
    """HTTP 502: what the server asked of a sandbox or an upstream failed (the message says)."""


class ServerUnavailable(CorralError):
    """The server could not be reached, or the connection broke and did not come back."""


class WaitTimeout(CorralError, TimeoutError):
    """A wait given a ``timeout`` ran out first; the job or exec goes on."""


_BY_STATUS: dict[int, type[CorralError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: TooManyRequests,
    502: BadGateway,
    503: ServerUnavailable,
}


def error_for(status: int, body: bytes) -> CorralError:
    """The exception for an error answer: its class from the status, its text from the body."""
    message, code, field = f"HTTP {status}", None, None
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        message = parsed["error"]
        code = parsed.get("code") if isinstance(parsed.get("code"), str) else None
        field = parsed.get("field") if isinstance(parsed.get("field"), str) else None
    elif body:
        message = f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else CorralError)
    return kind(message, status=status, code=code, field=field)


def unreachable(base: str, error: httpx.TransportError) -> ServerUnavailable:
    """The error for a request that never got an answer."""
    base = shown_url(base)
    if isinstance(error, httpx.ConnectError):
        return ServerUnavailable(
            f"cannot reach the corral server at {base} (is `corral serve` running?)"
        )
    return ServerUnavailable(f"the connection to {base} failed: {error}")


def shown_url(url: str) -> str:
    """``url`` without a user or password in it, for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
