# Generated from ../_async by scripts/generate.py: edit that, not this.
"""Each kind of refusal has its exception, on the real server."""

from __future__ import annotations

import pytest

from corral import BadRequest, ConfigurationError, Corral, Unauthorized

from support import Server


def test_a_bad_field_is_named(client: Corral) -> None:
    with pytest.raises(BadRequest) as refused:
        client.jobs.run(["true"], memory="lots")
    assert refused.value.status == 400
    assert refused.value.field == "limits.memory"
    assert str(refused.value).startswith("limits.memory: ")
    with pytest.raises(BadRequest) as wait:
        client.jobs.run(["true"], timeout="soon")
    assert wait.value.field == "limits.timeout"


def test_a_wrong_token_is_unauthorized_but_health_needs_none(server: Server) -> None:
    with Corral(server.url, "not-the-token") as wrong:
        with pytest.raises(Unauthorized):
            wrong.jobs.list()
        with pytest.raises(Unauthorized):
            wrong.sandboxes.create()
        assert (wrong.health())["status"] == "ok"


def test_a_url_that_is_no_http_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="http://"):
        Corral("127.0.0.1:7316", "t")
