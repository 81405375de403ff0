"""Where the server is and how to prove who we are, found as the ``corral`` CLI finds them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import ConfigurationError

DEFAULT_URL = "http://127.0.0.1:7316"
SERVER_FILE = "server.json"
TOKEN_FILE = "api-token"


@dataclass(frozen=True)
class Location:
    """A server's base URL and its API token."""

    url: str
    token: str = field(repr=False)


def default_data_dir() -> Path | None:
    """``$CORRAL_DATA_DIR``, else ``$XDG_DATA_HOME/corral``, else ``~/.local/share/corral``."""
    for variable, tail in (("CORRAL_DATA_DIR", ""), ("XDG_DATA_HOME", "corral")):
        value = os.environ.get(variable)
        if value:
            return Path(value) / tail if tail else Path(value)
    home = os.environ.get("HOME")
    return Path(home) / ".local/share/corral" if home else None


def locate(
    url: str | None = None, token: str | None = None, data_dir: str | os.PathLike[str] | None = None
) -> Location:
    """The server to talk to: arguments first, then ``CORRAL_URL``/``CORRAL_TOKEN``, then the
    data directory's ``server.json`` and ``api-token`` files (what ``corral serve`` writes).

    Raises :class:`ConfigurationError` naming every place it looked when no token is found.
    """
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    url = url or os.environ.get("CORRAL_URL") or _server_url(directory) or DEFAULT_URL
    token = token or os.environ.get("CORRAL_TOKEN") or _token(directory)
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the server's URL must start with http:// or https://: {url!r}")
    if not token:
        where = f"{directory / TOKEN_FILE}" if directory else "a data directory (HOME is not set)"
        raise ConfigurationError(
            "no API token: pass token=, set CORRAL_TOKEN, or start `corral serve`, "
            f"which writes it to {where} (looked there; set CORRAL_DATA_DIR for another)"
        )
    return Location(url=url.rstrip("/"), token=token)


def _server_url(directory: Path | None) -> str | None:
    if directory is None:
        return None
    try:
        info = json.loads((directory / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None
    value = info.get("url") if isinstance(info, dict) else None
    return value if isinstance(value, str) and value else None


def _token(directory: Path | None) -> str | None:
    if directory is None:
        return None
    try:
        return (directory / TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None
