"""Sandboxes against the real server: exec, files, life, secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corral import (
    AsyncCorral,
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)
from corral.models import OutputData


async def test_state_persists_between_execs_and_results_come_whole(aclient: AsyncCorral) -> None:
    async with aclient.sandbox(ttl="10m", idle_timeout="5m") as sb:
        assert sb.id.startswith("j-")
        first = await sb.exec("echo hello; echo there >&2; echo 42 > /tmp/n; export A=1; exit 4")
        assert first.exit_code == 4
        assert first.stdout == "hello\n"
        assert first.stderr == "there\n"
        assert first.truncated is False
        assert first.duration_ms >= 0
        second = await sb.exec(["cat", "/tmp/n"])
        assert (second.exit_code, second.stdout) == (0, "42\n")
        here = await sb.exec("pwd; echo $GREETING", cwd="/tmp", env={"GREETING": "hi"})
        assert here.stdout == "/tmp\nhi\n"
        text = await sb.exec(["cat"], stdin="from stdin")
        assert text.stdout == "from stdin"
        raw = await sb.exec("od -An -tx1 | tr -d ' \\n'", stdin=bytes([0, 255, 10, 13]))
        assert raw.stdout == "00ff0a0d"
        slow = await sb.exec(["sleep", "30"], timeout="1s")
        assert slow.timed_out is True
        assert slow.exit_code != 0
        assert (await sb.refresh()).state == "running"
    assert (await sb.refresh()).state == "ended"


async def test_a_streamed_exec_gives_its_output_as_it_comes(aclient: AsyncCorral) -> None:
    async with aclient.sandbox() as sb:
        stream = await sb.exec(
            "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo oops >&2; exit 2", stream=True
        )
        pieces: list[OutputData] = []
        async for piece in stream:
            pieces.append(piece)
            assert piece.exec == stream.exec
        assert "".join(p.text for p in pieces if p.stream == "stdout") == (
            "line 1\nline 2\nline 3\n"
        )
        assert stream.result is not None
        assert stream.result.exit_code == 2
        assert stream.result.stderr == "oops\n"
        other = await sb.exec("echo quick", stream=True)
        assert (await other.wait()).stdout == "quick\n"


async def test_long_output_is_cut_alike_whether_waited_for_or_streamed(
    aclient: AsyncCorral,
) -> None:
    async with aclient.sandbox() as sb:
        command = "yes 'é0123456789' | head -c 3000000; echo done >&2"
        waited = await sb.exec(command)
        streamed = await (await sb.exec(command, stream=True)).wait()
        assert waited.truncated is True
        assert "bytes cut: the exec's events have them all" in waited.stdout
        assert (streamed.stdout, streamed.stderr, streamed.truncated) == (
            waited.stdout,
            waited.stderr,
            waited.truncated,
        )


async def test_several_execs_run_at_once_up_to_the_cap(aclient: AsyncCorral) -> None:
    async with aclient.sandbox() as sb:
        server = await sb.exec("busybox httpd -p 127.0.0.1:8080 -h /tmp; echo started")
        assert server.exit_code == 0
        await sb.files.write("/tmp/index.html", "served")
        fetched = await sb.exec("wget -qO- http://127.0.0.1:8080/index.html")
        assert fetched.stdout == "served"
        running = [await sb.exec(["sleep", "20"], stream=True) for _ in range(3)]
        with pytest.raises(TooManyRequests):
            await sb.exec(["true"])
        for each in running:
            await each.aclose()


async def test_files_are_written_read_listed_and_copied_both_ways(
    aclient: AsyncCorral, tmp_path: Path
) -> None:
    blob = bytes(range(256)) * 64
    async with aclient.sandbox() as sb:
        await sb.files.write("/workspace/blob.bin", blob)
        await sb.files.write("/workspace/note.txt", "näive")
        assert await sb.files.read("/workspace/blob.bin") == blob
        assert (await sb.files.read("/workspace/note.txt")).decode() == "näive"
        entries = {entry.name: entry for entry in await sb.files.list("/workspace")}
        assert entries["blob.bin"].size == len(blob)
        assert entries["blob.bin"].kind == "file"

        tree = tmp_path / "tree"
        (tree / "sub").mkdir(parents=True)
        (tree / "sub" / "data.bin").write_bytes(blob)
        (tree / "top.txt").write_text("top")
        os.symlink("sub/data.bin", tree / "link")
        os.symlink("/etc/passwd", tree / "outside")
        await sb.upload(tree, "/workspace/tree")
        inside = {entry.name: entry for entry in await sb.files.list("/workspace/tree")}
        assert inside["link"].kind == "symlink"
        assert inside["link"].target == "sub/data.bin"
        assert inside["outside"].target == "/etc/passwd"
        check = await sb.exec("cat /workspace/tree/link | cmp - /workspace/blob.bin && echo same")
        assert check.stdout == "same\n"
        await sb.upload(tree / "top.txt", "/tmp/top.txt")
        assert await sb.files.read("/tmp/top.txt") == b"top"
        with pytest.raises(ValueError, match="symbolic link"):
            await sb.upload(tree / "outside", "/tmp/passwd")
        with pytest.raises(NotFound):
            await sb.files.read("/tmp/passwd")

        back = await sb.download("/workspace/tree", tmp_path / "back")
        assert (back / "sub" / "data.bin").read_bytes() == blob
        assert os.readlink(back / "link") == "sub/data.bin"
        assert os.readlink(back / "outside") == "/etc/passwd"
        with pytest.raises(FileExistsError):
            await sb.download("/workspace/tree", tmp_path / "back")
        one = await sb.download("/workspace/blob.bin", tmp_path)
        assert one == tmp_path / "blob.bin"
        assert one.read_bytes() == blob
        with pytest.raises(IsADirectoryError):
            await sb.files.read("/workspace/tree")


async def test_bad_paths_and_sizes_are_refused_naming_them(aclient: AsyncCorral) -> None:
    async with aclient.sandbox(tmpfs="1m") as sb:
        with pytest.raises(BadRequest) as outside:
            await sb.files.write("/etc/evil", "x")
        assert outside.value.field == "path"
        with pytest.raises(BadRequest) as escape:
            await sb.files.read("/workspace/../etc/passwd")
        assert escape.value.field == "path"
        with pytest.raises(PayloadTooLarge):
            await sb.files.write("/tmp/big", b"x" * (2 << 20))
        with pytest.raises(NotFound):
            await sb.files.read("/tmp/big")
        with pytest.raises(NotFound):
            await sb.files.list("/tmp/none")


async def test_pause_resume_stop_start_and_fork_keep_what_they_should(aclient: AsyncCorral) -> None:
    sb = await aclient.sandbox()
    try:
        await sb.exec(
            "echo kept > /workspace/file; sleep 300 </dev/null >/dev/null 2>&1 & echo $! > /tmp/pid"
        )
        assert (await sb.pause()).state == "paused"
        assert (await sb.resume()).state == "running"
        alive = await sb.exec("kill -0 $(cat /tmp/pid) && echo alive")
        assert alive.stdout == "alive\n"
        assert (await sb.stop()).state == "stopped"
        with pytest.raises(Conflict):
            await sb.exec(["true"])
        copy = await sb.fork()
        async with copy:
            assert copy.id != sb.id
            await sb.start()
            assert (await sb.exec(["cat", "/workspace/file"])).stdout == "kept\n"
            assert (await copy.exec(["cat", "/workspace/file"])).stdout == "kept\n"
            await copy.files.write("/workspace/file", "changed")
            assert (await sb.files.read("/workspace/file")) == b"kept\n"
        assert (await copy.refresh()).state == "ended"
        found = await aclient.sandboxes.get(sb.id)
        assert found.state == "running"
        listed = [each.id for each in await aclient.sandboxes.list(state="running")]
        assert sb.id in listed
    finally:
        await sb.delete()
    await sb.delete()  # deleting an ended sandbox does nothing
    assert (await sb.refresh()).state == "ended"


async def test_a_granted_secret_reaches_the_exec_and_never_its_output(
    aclient: AsyncCorral,
) -> None:
    value = "sdk-secret-" + os.urandom(8).hex()
    await aclient.secrets.set("SDK_TEST_SECRET", value)
    try:
        names = [info.name for info in await aclient.secrets.list()]
        assert "SDK_TEST_SECRET" in names
        async with aclient.sandbox(grants=["SDK_TEST_SECRET=TOKEN"]) as sb:
            shown = await sb.exec("echo $TOKEN; echo ${#TOKEN}")
            assert value not in shown.stdout
            assert "[REDACTED:SDK_TEST_SECRET]" in shown.stdout
            assert f"{len(value)}\n" in shown.stdout
            await sb.exec("echo $TOKEN > /tmp/holds")
            with pytest.raises(Conflict):
                await sb.files.read("/tmp/holds")
            async for event in sb.events():
                assert value not in event.model_dump_json()
                if event.kind == "exec_ended":
                    break
    finally:
        await aclient.secrets.remove("SDK_TEST_SECRET")
    with pytest.raises(NotFound):
        await aclient.secrets.remove("SDK_TEST_SECRET")
