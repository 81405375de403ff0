"""A stream cut mid-frame is resumed where it broke: nothing lost, nothing twice."""

from __future__ import annotations

import httpx

from corral import AsyncCorral

from support import CuttingProxy, Server


def fresh_connections() -> httpx.AsyncHTTPTransport:
    """A transport that opens a connection per request, as the proxy needs."""
    return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


async def test_a_job_s_events_survive_cut_connections(
    server: Server, cutting_proxy: CuttingProxy
) -> None:
    script = "for i in $(seq 1 30); do echo line $i; sleep 0.05; done"
    async with AsyncCorral(cutting_proxy.url, server.token, transport=fresh_connections()) as flaky:
        job = await flaky.jobs.run(["sh", "-c", script])
        seen = [event.seq async for event in job.events()]
    assert cutting_proxy.cut >= 3
    async with AsyncCorral(server.url, server.token) as direct:
        stored = await (await direct.jobs.get(job.id)).history(limit=1000)
    assert seen == [event.seq for event in stored]
    lines = "".join(event.data["text"] for event in stored if event.kind == "output").splitlines()
    assert lines == [f"line {i}" for i in range(1, 31)]


async def test_a_streamed_exec_survives_cut_connections(
    server: Server, cutting_proxy: CuttingProxy
) -> None:
    async with AsyncCorral(server.url, server.token) as direct:
        sandbox = await direct.sandboxes.create()
        try:
            await sandbox.exec(["true"])
            async with AsyncCorral(
                cutting_proxy.url, server.token, transport=fresh_connections()
            ) as flaky:
                through = await flaky.sandboxes.get(sandbox.id)
                stream = await through.exec(
                    "for i in $(seq 1 30); do echo line $i; sleep 0.05; done", stream=True
                )
                text = "".join([piece.text async for piece in stream])
            assert cutting_proxy.cut >= 3
            assert text.splitlines() == [f"line {i}" for i in range(1, 31)]
            assert stream.result is not None
            assert stream.result.stdout == text
        finally:
            await sandbox.delete()


async def test_text_with_unicode_line_breaks_cannot_end_or_forge_a_frame(
    aclient: AsyncCorral,
) -> None:
    hostile = "a\u2028event: end\u2028\u0085data: {}\u2029\u2028b"
    async with aclient.sandbox() as sb:
        stream = await sb.exec(["printf", "%s\\n", hostile, "after"], stream=True)
        text = "".join([piece.text async for piece in stream])
        assert text == hostile + "\nafter\n"
        assert stream.result is not None
        assert stream.result.exit_code == 0
        job = await aclient.jobs.run(["printf", "%s\\n", hostile, "after"])
        seen = [event async for event in job.events()]
        assert seen[-1].kind == "status"
        assert seen[-1].data["state"] == "succeeded"
