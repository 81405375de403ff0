"""Each kind of failure has its exception, whatever the call."""

from __future__ import annotations

import pytest

from corral import (
    AsyncCorral,
    BadRequest,
    Corral,
    CorralError,
    ServerError,
    ServerUnavailable,
    Unauthorized,
)
from corral._errors import error_for

from support import Server, free_port


def test_a_bad_field_is_named(client: Corral) -> None:
    with pytest.raises(BadRequest) as refused:
        client.jobs.run(["true"], memory="lots")
    assert refused.value.status == 400
    assert refused.value.field == "limits.memory"
    assert str(refused.value).startswith("limits.memory: ")
    with pytest.raises(BadRequest) as wait:
        client.jobs.run(["true"], timeout="soon")
    assert wait.value.field == "limits.timeout"


def test_a_wrong_token_is_unauthorized(server: Server) -> None:
    with Corral(server.url, "not-the-token") as client, pytest.raises(Unauthorized):
        client.jobs.list()
    assert Corral(server.url, "not-the-token").health()["status"] == "ok"


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
