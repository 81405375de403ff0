"""Each kind of failure has its exception, whatever the call."""

from __future__ import annotations

import pytest

from corral import (
    AsyncCorral,
    BadGateway,
    Corral,
    CorralError,
    Forbidden,
    ServerError,
    ServerUnavailable,
)
from corral._async.http import segment
from corral._errors import error_for, shown_url
from corral._locate import locate

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


def test_a_message_that_quotes_a_sandbox_cannot_drive_a_terminal() -> None:
    error = error_for(502, b'{"error":"tar failed: \\u001b]52;c;eA==\\u0007 x\\ny","field":"path"}')
    assert isinstance(error, BadGateway)
    assert isinstance(error, ServerError)
    assert error.message == "tar failed: \x1b]52;c;eA==\x07 x\ny"
    assert str(error) == "path: tar failed: ^[]52;c;eA==^G x^Jy"


def test_forbidden_and_redirects_have_their_classes() -> None:
    assert isinstance(error_for(403, b'{"error":"no"}'), Forbidden)
    moved = error_for(302, b"")
    assert type(moved) is CorralError
    assert moved.status == 302


def test_an_id_cannot_climb_to_another_route() -> None:
    for value in ("", ".", ".."):
        with pytest.raises(ValueError, match="no id"):
            segment(value)
    assert segment("../cancel") == "..%2Fcancel"
    assert segment("a b/c") == "a%20b%2Fc"


def test_the_token_is_in_no_repr_and_no_url_in_a_message_has_a_password() -> None:
    location = locate("http://user:pw@127.0.0.1:1", "tok-123456")
    assert "tok-123456" not in repr(location)
    assert shown_url(location.url) == "http://127.0.0.1:1"
    with pytest.raises(ServerUnavailable) as failed:
        Corral("http://user:pw@127.0.0.1:1", "tok-123456").jobs.list()
    assert "pw" not in str(failed.value)
    assert "tok-123456" not in str(failed.value)
