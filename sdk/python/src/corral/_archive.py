"""Directories as tars: packed from the user's disk, unpacked onto it only into a new path."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path


def pack(directory: str | os.PathLike[str]) -> bytes:
    """The tree under ``directory`` as a tar: files, directories and links (kept as links,
    never followed); sockets, FIFOs and devices are left out."""
    root = Path(directory)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if not (info.isfile() or info.isdir() or info.issym()):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(root)):
            tar.add(root / entry, arcname=entry, recursive=True, filter=keep)
    return buffer.getvalue()


def unpack_new(data: bytes, destination: str | os.PathLike[str]) -> Path:
    """Unpacks a tar a sandbox sent into ``destination``, which must not exist yet.

    The tar comes from inside a sandbox, so it is treated as hostile:
    ``tarfile``'s ``data`` filter refuses absolute names, ``..``, hard links
    that leave the tree, devices and set-id bits, and any entry whose path
    would resolve outside the tree (through a link unpacked before it). A
    symbolic link itself is kept as the sandbox had it, whatever it points
    at: it is never followed here. It is unpacked into a new directory
    beside ``destination`` and renamed into place, so a refused tar leaves
    nothing behind and nothing that existed is overwritten.
    """
    if not hasattr(tarfile, "data_filter"):
        raise RuntimeError(
            "unpacking a sandbox's tar safely needs tarfile filters (Python 3.10.12+)"
        )
    target = Path(destination)
    if os.path.lexists(target):
        raise FileExistsError(f"{target} exists: download a directory into a new path")
    staging = Path(tempfile.mkdtemp(prefix=".corral-download-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(staging, filter=_keep_links)
        mask = os.umask(0)
        os.umask(mask)
        staging.chmod(0o777 & ~mask)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _keep_links(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """``tarfile.data_filter``, but a symbolic link pointing anywhere is kept as a link."""
    try:
        return tarfile.data_filter(member, path)
    except (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError):
        if not member.issym():
            raise
        # Every other check, on the same entry pointing next to itself.
        checked = tarfile.data_filter(member.replace(linkname="x", deep=False), path)
        return checked.replace(linkname=member.linkname, deep=False)
