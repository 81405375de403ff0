"""Jobs against the real server: run, follow, wait, cancel, prompt, review."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral import AsyncCorral, Conflict, WaitTimeout, typed_data
from corral.models import MessageData, OutputData, StatusData


async def test_an_exec_job_runs_and_its_events_and_record_say_so(aclient: AsyncCorral) -> None:
    job = await aclient.jobs.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout="1m")
    assert job.id.startswith("j-")
    assert job.info.mode == "exec"
    final = await job.wait(timeout=120)
    assert final.state == "failed"
    assert final.exit_code == 3
    outputs = []
    async for event in job.events():
        data = typed_data(event)
        if isinstance(data, OutputData):
            outputs.append((data.stream, data.text))
        if event.kind == "status":
            assert isinstance(data, StatusData)
    assert ("stdout", "out\n") in outputs
    assert ("stderr", "err\n") in outputs
    stored = await job.history()
    assert [event.seq for event in stored] == list(range(1, len(stored) + 1))
    assert (await job.history(after=stored[-2].seq)) == stored[-1:]
    cut = await job.history_page(limit=1)
    assert (cut.events, cut.more) == (stored[:1], True)
    last = await job.history_page(after=stored[-2].seq, limit=1)
    assert (last.events, last.more) == (stored[-1:], False)


async def test_a_shell_line_runs_and_jobs_are_listed_and_found(aclient: AsyncCorral) -> None:
    job = await aclient.jobs.run("echo $((6 * 7))")
    assert (await job.wait(timeout=120)).state == "succeeded"
    again = await aclient.jobs.get(job.id)
    assert again.info.command == "echo $((6 * 7))"
    listed = await aclient.jobs.list(limit=200)
    assert job.id in [each.id for each in listed]
    ended = await aclient.jobs.list(state="succeeded", limit=200)
    assert all(each.state == "succeeded" for each in ended)
    assert job.id in [each.id for each in ended]


async def test_a_wait_that_runs_out_raises_and_a_cancel_ends_the_job(aclient: AsyncCorral) -> None:
    job = await aclient.jobs.run(["sleep", "60"])
    with pytest.raises(WaitTimeout):
        await job.wait(timeout=1.5)
    cancelled = await job.cancel()
    assert cancelled.state in ("cancelled", "running", "starting", "queued")
    assert (await job.wait(timeout=120)).state == "cancelled"
    with pytest.raises(Conflict):
        await job.cancel()


async def test_an_interactive_agent_answers_a_follow_up_and_ends(aclient: AsyncCorral) -> None:
    job = await aclient.jobs.run(prompt="look around", interactive=True, max_llm_calls=20)
    assert job.info.mode == "worker"
    seen_first_answer = False
    async for event in job.events():
        data = typed_data(event)
        if isinstance(data, MessageData) and data.role == "assistant" and data.text:
            seen_first_answer = True
        if event.kind == "status" and isinstance(data, StatusData) and data.phase == "waiting":
            break
    assert seen_first_answer
    queued = await job.prompt("and now?")
    assert queued.seq == 1
    assert queued.text == "and now?"
    await job.end()
    final = await job.wait(timeout=120)
    assert final.state == "succeeded", final.reason
    prompts = [
        data.prompt
        for event in await job.history()
        if isinstance(data := typed_data(event), MessageData) and data.role == "user"
    ]
    assert 1 in prompts


async def test_an_isolated_job_s_change_is_reviewed_and_applied(
    aclient: AsyncCorral, project: Path
) -> None:
    job = await aclient.jobs.run(
        ["sh", "-c", "echo made-here > NOTE.txt"], project=project, isolate=True
    )
    assert (await job.wait(timeout=120)).state == "succeeded"
    assert not (project / "NOTE.txt").exists()
    diff = await job.diff()
    assert [change.path for change in diff.files] == ["NOTE.txt"]
    assert "+made-here" in diff.patch
    await job.apply()
    assert (project / "NOTE.txt").read_text() == "made-here\n"
    assert (await job.refresh()).isolation.reviewed.outcome == "applied"  # type: ignore[union-attr]


async def test_an_isolated_job_s_change_can_be_discarded_and_a_relative_project_is_taken(
    aclient: AsyncCorral, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    job = await aclient.jobs.run(
        ["sh", "-c", "rm README.md"], project=Path(project.name), isolate=True
    )
    assert job.info.project == str(project)
    assert (await job.wait(timeout=120)).state == "succeeded"
    await job.discard()
    assert (project / "README.md").exists()
    with pytest.raises(Conflict):
        await job.discard()


async def test_options_that_cannot_go_together_are_refused_before_sending(
    aclient: AsyncCorral, project: Path
) -> None:
    with pytest.raises(ValueError, match="isolate"):
        await aclient.jobs.run(["true"], project=project, isolate=True, copy=True)
    with pytest.raises(ValueError, match="project"):
        await aclient.jobs.run(["true"], copy=True)
    with pytest.raises(ValueError, match="not both"):
        await aclient.jobs.run(["true"], prompt="x")
    with pytest.raises(TypeError, match="nonsense"):
        await aclient.jobs.run(["true"], nonsense=1)  # type: ignore[call-arg]
