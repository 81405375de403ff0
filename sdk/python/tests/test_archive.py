"""A tar from a sandbox is hostile: nothing it holds may land outside the new directory."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from corral._archive import pack, unpack_new


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o644
    return info


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A directory outside the destination that nothing may write into."""
    outside = tmp_path / "victim"
    outside.mkdir()
    return outside


def assert_refused(data: bytes, tmp_path: Path, victim: Path) -> None:
    with pytest.raises(tarfile.TarError):
        unpack_new(data, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(victim.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".corral")] == []


def test_a_dotdot_name_is_refused(tmp_path: Path, victim: Path) -> None:
    assert_refused(tar_of((entry("../victim/x"), b"evil")), tmp_path, victim)


def test_an_absolute_name_is_refused(tmp_path: Path, victim: Path) -> None:
    assert_refused(tar_of((entry(str(victim / "x")), b"evil")), tmp_path, victim)


def test_a_chain_of_long_named_links_cannot_lead_out(tmp_path: Path, victim: Path) -> None:
    # Links through names so long that realpath() stops resolving them
    # (CVE-2025-4517 against tarfile's own filters), then a link climbing out
    # of the tree by them and a file written through it.
    destination = tmp_path / "deep" / "er"
    destination.parent.mkdir()
    long = "d" * 247
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    path = ""
    steps = "abcdefghijklmnop"
    for step in steps:
        members.append((entry(os.path.join(path, long), tarfile.DIRTYPE), None))
        members.append((entry(os.path.join(path, step), tarfile.SYMTYPE, long), None))
        path = os.path.join(path, long)
    climb = os.path.join("/".join(steps), "l" * 254)
    members.append((entry(climb, tarfile.SYMTYPE, "../" * len(steps)), None))
    members.append((entry("out", tarfile.SYMTYPE, climb + "/../../victim"), None))
    members.append((entry("out/pwned"), b"evil"))
    with pytest.raises((tarfile.TarError, OSError)):
        unpack_new(tar_of(*members), destination)
    assert list(victim.iterdir()) == []
    assert not destination.exists()
    assert list(destination.parent.iterdir()) == []


def test_a_write_through_an_outside_link_is_refused(tmp_path: Path, victim: Path) -> None:
    data = tar_of(
        (entry("door", tarfile.SYMTYPE, str(victim)), None),
        (entry("door/x"), b"evil"),
    )
    assert_refused(data, tmp_path, victim)


def test_a_file_over_an_outside_link_is_refused(tmp_path: Path, victim: Path) -> None:
    (victim / "target").mkdir()
    before = list(victim.rglob("*"))
    data = tar_of(
        (entry("door", tarfile.SYMTYPE, str(victim / "target" / "f")), None),
        (entry("door"), b"evil"),
    )
    with pytest.raises(tarfile.TarError):
        unpack_new(data, tmp_path / "out")
    assert list(victim.rglob("*")) == before


def test_a_hard_link_to_a_host_file_is_refused(tmp_path: Path, victim: Path) -> None:
    data = tar_of((entry("hard", tarfile.LNKTYPE, "/etc/passwd"), None))
    assert_refused(data, tmp_path, victim)


def test_a_device_is_refused(tmp_path: Path, victim: Path) -> None:
    assert_refused(tar_of((entry("dev", tarfile.CHRTYPE), None)), tmp_path, victim)


def sparse_tar(size: int) -> bytes:
    """One GNU sparse member (type ``S``) with no data and an empty map,
    claiming ``size`` bytes (base-256 at header bytes 483..495): 1.5 KiB of
    tar that ``tarfile`` reads as a regular file of ``size`` zeros."""
    info = tarfile.TarInfo("zeros")
    info.type = tarfile.GNUTYPE_SPARSE
    info.size = 0
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    header[483:495] = bytes([0x80]) + size.to_bytes(11, "big")
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    return bytes(header[:512]) + bytes(1024)


def test_a_sparse_file_is_refused(tmp_path: Path, victim: Path) -> None:
    # 64 MiB, so a regression writes 64 MiB and fails, not the disk full.
    data = sparse_tar(1 << 26)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.next()
        assert member is not None
        assert member.isreg()
        assert member.size == 1 << 26
    assert_refused(data, tmp_path, victim)


def test_a_name_too_deep_is_refused(tmp_path: Path, victim: Path) -> None:
    # 1,800 levels in 4 KiB of tar; left half made, it would outlast rmtree.
    assert_refused(tar_of((entry("/".join(["d"] * 1800) + "/f"), b"x")), tmp_path, victim)


def test_names_cannot_make_directories_without_end(tmp_path: Path, victim: Path) -> None:
    # Each member makes 250 new directories for about 2.5 KiB of tar.
    members = [(entry("/".join([f"m{index}"] * 250) + "/f"), b"x") for index in range(40)]
    assert_refused(tar_of(*members), tmp_path, victim)


def test_a_tree_of_many_directories_is_unpacked(tmp_path: Path) -> None:
    members: list[tuple[tarfile.TarInfo, bytes | None]] = [
        (entry(f"d{index}", tarfile.DIRTYPE), None) for index in range(300)
    ]
    members += [(entry(f"d{index}/sub/f"), b"x") for index in range(300)]
    out = unpack_new(tar_of(*members), tmp_path / "out")
    assert len(list(out.glob("d*/sub/f"))) == 300


def test_links_stay_links_and_set_id_bits_go(tmp_path: Path) -> None:
    tool = entry("tool")
    tool.mode = 0o4755
    data = tar_of(
        (entry("abs", tarfile.SYMTYPE, "/etc/passwd"), None),
        (entry("rel", tarfile.SYMTYPE, "tool"), None),
        (tool, b"#!/bin/sh\n"),
    )
    out = unpack_new(data, tmp_path / "out")
    assert os.readlink(out / "abs") == "/etc/passwd"
    assert os.readlink(out / "rel") == "tool"
    assert (out / "tool").stat().st_mode & 0o7777 == 0o755


def test_an_existing_destination_is_never_written(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        unpack_new(tar_of((entry("a"), b"x")), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_pack_keeps_links_and_leaves_out_fifos(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "d" / "f").write_text("f")
    os.symlink("/etc/passwd", tree / "abs")
    os.mkfifo(tree / "fifo")
    with tarfile.open(fileobj=io.BytesIO(pack(tree))) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert set(members) == {"abs", "d", "d/f"}
    assert members["abs"].issym()
    assert members["abs"].linkname == "/etc/passwd"
    assert members["d/f"].uid == 0
