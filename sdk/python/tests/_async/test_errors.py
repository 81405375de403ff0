"""Each kind of refusal has its exception, on the real server."""

from __future__ import annotations

import pytest

from corral import AsyncCorral, BadRequest, ConfigurationError, Unauthorized

from support import Server


async def test_a_bad_field_is_named(aclient: AsyncCorral) -> None:
    with pytest.raises(BadRequest) as refused:
        await aclient.jobs.run(["true"], memory="lots")
    assert refused.value.status == 400
    assert refused.value.field == "limits.memory"
    assert str(refused.value).startswith("limits.memory: ")
    with pytest.raises(BadRequest) as wait:
        await aclient.jobs.run(["true"], timeout="soon")
    assert wait.value.field == "limits.timeout"


async def test_a_wrong_token_is_unauthorized_but_health_needs_none(server: Server) -> None:
    async with AsyncCorral(server.url, "not-the-token") as wrong:
        with pytest.raises(Unauthorized):
            await wrong.jobs.list()
        with pytest.raises(Unauthorized):
            await wrong.sandboxes.create()
        assert (await wrong.health())["status"] == "ok"


async def test_a_url_that_is_no_http_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="http://"):
        AsyncCorral("127.0.0.1:7316", "t")
