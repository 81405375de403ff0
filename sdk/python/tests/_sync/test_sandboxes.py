# Generated from ../_async by scripts/generate.py: edit that, not this.
"""Sandboxes against the real server: exec, files, life, secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corral import (
    BadRequest,
    Conflict,
    Corral,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)
from corral.models import OutputData


def test_state_persists_between_execs_and_results_come_whole(client: Corral) -> None:
    with client.sandbox(ttl="10m", idle_timeout="5m") as sb:
        assert sb.id.startswith("j-")
        first = sb.exec("echo hello; echo there >&2; echo 42 > /tmp/n; export A=1; exit 4")
        assert first.exit_code == 4
        assert first.stdout == "hello\n"
        assert first.stderr == "there\n"
        assert first.truncated is False
        assert first.duration_ms >= 0
        second = sb.exec(["cat", "/tmp/n"])
        assert (second.exit_code, second.stdout) == (0, "42\n")
        here = sb.exec("pwd; echo $GREETING", cwd="/tmp", env={"GREETING": "hi"})
        assert here.stdout == "/tmp\nhi\n"
        text = sb.exec(["cat"], stdin="from stdin")
        assert text.stdout == "from stdin"
        raw = sb.exec("od -An -tx1 | tr -d ' \\n'", stdin=bytes([0, 255, 10, 13]))
        assert raw.stdout == "00ff0a0d"
        slow = sb.exec(["sleep", "30"], timeout="1s")
        assert slow.timed_out is True
        assert slow.exit_code != 0
        assert (sb.refresh()).state == "running"
    assert (sb.refresh()).state == "ended"


def test_a_streamed_exec_gives_its_output_as_it_comes(client: Corral) -> None:
    with client.sandbox() as sb:
        stream = sb.exec(
            "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo oops >&2; exit 2", stream=True
        )
        pieces: list[OutputData] = []
        for piece in stream:
            pieces.append(piece)
            assert piece.exec == stream.exec
        assert "".join(p.text for p in pieces if p.stream == "stdout") == (
            "line 1\nline 2\nline 3\n"
        )
        assert stream.result is not None
        assert stream.result.exit_code == 2
        assert stream.result.stderr == "oops\n"
        other = sb.exec("echo quick", stream=True)
        assert (other.wait()).stdout == "quick\n"


def test_long_output_is_cut_alike_whether_waited_for_or_streamed(
    client: Corral,
) -> None:
    with client.sandbox() as sb:
        command = "yes 'é0123456789' | head -c 3000000; echo done >&2"
        waited = sb.exec(command)
        streamed = (sb.exec(command, stream=True)).wait()
        assert waited.truncated is True
        assert "bytes cut: the exec's events have them all" in waited.stdout
        assert (streamed.stdout, streamed.stderr, streamed.truncated) == (
            waited.stdout,
            waited.stderr,
            waited.truncated,
        )


def test_several_execs_run_at_once_up_to_the_cap(client: Corral) -> None:
    with client.sandbox() as sb:
        server = sb.exec("busybox httpd -p 127.0.0.1:8080 -h /tmp; echo started")
        assert server.exit_code == 0
        sb.files.write("/tmp/index.html", "served")
        fetched = sb.exec("wget -qO- http://127.0.0.1:8080/index.html")
        assert fetched.stdout == "served"
        running = [sb.exec(["sleep", "20"], stream=True) for _ in range(3)]
        with pytest.raises(TooManyRequests):
            sb.exec(["true"])
        for each in running:
            each.close()


def test_files_are_written_read_listed_and_copied_both_ways(client: Corral, tmp_path: Path) -> None:
    blob = bytes(range(256)) * 64
    with client.sandbox() as sb:
        sb.files.write("/workspace/blob.bin", blob)
        sb.files.write("/workspace/note.txt", "näive")
        assert sb.files.read("/workspace/blob.bin") == blob
        assert (sb.files.read("/workspace/note.txt")).decode() == "näive"
        entries = {entry.name: entry for entry in sb.files.list("/workspace")}
        assert entries["blob.bin"].size == len(blob)
        assert entries["blob.bin"].kind == "file"

        tree = tmp_path / "tree"
        (tree / "sub").mkdir(parents=True)
        (tree / "sub" / "data.bin").write_bytes(blob)
        (tree / "top.txt").write_text("top")
        os.symlink("sub/data.bin", tree / "link")
        os.symlink("/etc/passwd", tree / "outside")
        sb.upload(tree, "/workspace/tree")
        inside = {entry.name: entry for entry in sb.files.list("/workspace/tree")}
        assert inside["link"].kind == "symlink"
        assert inside["link"].target == "sub/data.bin"
        assert inside["outside"].target == "/etc/passwd"
        check = sb.exec("cat /workspace/tree/link | cmp - /workspace/blob.bin && echo same")
        assert check.stdout == "same\n"
        sb.upload(tree / "top.txt", "/tmp/top.txt")
        assert sb.files.read("/tmp/top.txt") == b"top"
        with pytest.raises(ValueError, match="symbolic link"):
            sb.upload(tree / "outside", "/tmp/passwd")
        with pytest.raises(NotFound):
            sb.files.read("/tmp/passwd")

        back = sb.download("/workspace/tree", tmp_path / "back")
        assert (back / "sub" / "data.bin").read_bytes() == blob
        assert os.readlink(back / "link") == "sub/data.bin"
        assert os.readlink(back / "outside") == "/etc/passwd"
        with pytest.raises(FileExistsError):
            sb.download("/workspace/tree", tmp_path / "back")
        one = sb.download("/workspace/blob.bin", tmp_path)
        assert one == tmp_path / "blob.bin"
        assert one.read_bytes() == blob
        with pytest.raises(IsADirectoryError):
            sb.files.read("/workspace/tree")


def test_bad_paths_and_sizes_are_refused_naming_them(client: Corral) -> None:
    with client.sandbox(tmpfs="1m") as sb:
        with pytest.raises(BadRequest) as outside:
            sb.files.write("/etc/evil", "x")
        assert outside.value.field == "path"
        with pytest.raises(BadRequest) as escape:
            sb.files.read("/workspace/../etc/passwd")
        assert escape.value.field == "path"
        with pytest.raises(PayloadTooLarge):
            sb.files.write("/tmp/big", b"x" * (2 << 20))
        with pytest.raises(NotFound):
            sb.files.read("/tmp/big")
        with pytest.raises(NotFound):
            sb.files.list("/tmp/none")


def test_pause_resume_stop_start_and_fork_keep_what_they_should(client: Corral) -> None:
    sb = client.sandbox()
    try:
        sb.exec(
            "echo kept > /workspace/file; sleep 300 </dev/null >/dev/null 2>&1 & echo $! > /tmp/pid"
        )
        assert (sb.pause()).state == "paused"
        assert (sb.resume()).state == "running"
        alive = sb.exec("kill -0 $(cat /tmp/pid) && echo alive")
        assert alive.stdout == "alive\n"
        assert (sb.stop()).state == "stopped"
        with pytest.raises(Conflict):
            sb.exec(["true"])
        copy = sb.fork()
        with copy:
            assert copy.id != sb.id
            sb.start()
            assert (sb.exec(["cat", "/workspace/file"])).stdout == "kept\n"
            assert (copy.exec(["cat", "/workspace/file"])).stdout == "kept\n"
            copy.files.write("/workspace/file", "changed")
            assert (sb.files.read("/workspace/file")) == b"kept\n"
        assert (copy.refresh()).state == "ended"
        found = client.sandboxes.get(sb.id)
        assert found.state == "running"
        listed = [each.id for each in client.sandboxes.list(state="running")]
        assert sb.id in listed
    finally:
        sb.delete()
    sb.delete()  # deleting an ended sandbox does nothing
    assert (sb.refresh()).state == "ended"


def test_a_granted_secret_reaches_the_exec_and_never_its_output(
    client: Corral,
) -> None:
    value = "sdk-secret-" + os.urandom(8).hex()
    client.secrets.set("SDK_TEST_SECRET", value)
    try:
        names = [info.name for info in client.secrets.list()]
        assert "SDK_TEST_SECRET" in names
        with client.sandbox(grants=["SDK_TEST_SECRET=TOKEN"]) as sb:
            shown = sb.exec("echo $TOKEN; echo ${#TOKEN}")
            assert value not in shown.stdout
            assert "[REDACTED:SDK_TEST_SECRET]" in shown.stdout
            assert f"{len(value)}\n" in shown.stdout
            sb.exec("echo $TOKEN > /tmp/holds")
            with pytest.raises(Conflict):
                sb.files.read("/tmp/holds")
            for event in sb.events():
                assert value not in event.model_dump_json()
                if event.kind == "exec_ended":
                    break
    finally:
        client.secrets.remove("SDK_TEST_SECRET")
    with pytest.raises(NotFound):
        client.secrets.remove("SDK_TEST_SECRET")
