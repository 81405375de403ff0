"""Each kind of failure has its exception, whatever the call."""

from __future__ import annotations

import pytest

from corral import (
    AsyncCorral,
    Corral,
    CorralError,
    ServerError,
    ServerUnavailable,
)
from corral._errors import error_for

from support import free_port


async def test_no_server_is_unavailable_sync_and_async() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServerUnavailable, match="cannot reach"):
        Corral(url, "t").jobs.list()
    with pytest.raises(ServerUnavailable, match="cannot reach"):
        await AsyncCorral(url, "t").jobs.list()


def test_answers_map_to_their_classes() -> None:
    assert isinstance(error_for(500, b'{"error":"internal error"}'), ServerError)
    assert isinstance(error_for(503, b""), ServerUnavailable)
    odd = error_for(418, b"teapot")
    assert type(odd) is CorralError
    assert odd.message == "HTTP 418: teapot"
    coded = error_for(409, b'{"error":"over budget","code":"budget_exceeded"}')
    assert (coded.code, coded.status, str(coded)) == ("budget_exceeded", 409, "over budget")
