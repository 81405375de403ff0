"""Directories as tars: packed from the user's disk, unpacked onto it only into a new path."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

MAX_DEPTH = 256
"""The deepest name a downloaded tar may hold (a refused one's partial tree must
still be removable: ``shutil.rmtree`` recurses once a level)."""


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

    The tar comes from inside a sandbox, so it is treated as hostile, and
    unpacked by hand rather than by ``tarfile``'s extraction (whose ``data``
    filter trusts ``realpath``, which a chain of long-named links defeats on
    many Python versions). Names must be relative and free of ``..``; only
    directories, regular files and symbolic links are taken (hard links,
    devices and FIFOs are refused); every directory on the way to an entry
    must be a real directory this unpacking made, never a link; sparse files
    are refused (a few bytes of tar would write a file of any size, its
    holes as real zeros; any other file's bytes are in the tar), and so are
    more directories than one a 512 bytes of tar and 1,024 more (a deep name
    costs a few bytes of tar and an inode a level) and names deeper than
    ``MAX_DEPTH``; files are
    created new (``O_EXCL``, ``O_NOFOLLOW``) with set-id bits and group and
    other write dropped; links are made last, as the sandbox had them,
    whatever they point at, so nothing is ever written through one. It
    happens in a new directory beside ``destination``, renamed into place at
    the end: a refused tar leaves nothing, and nothing that existed is
    overwritten.
    """
    target = Path(destination)
    if os.path.lexists(target):
        raise FileExistsError(f"{target} exists: download a directory into a new path")
    staging = Path(tempfile.mkdtemp(prefix=".corral-download-", dir=target.parent))
    try:
        try:
            _unpack_into(data, staging)
        except (ValueError, IndexError, EOFError) as error:
            # A malformed header (a sparse map cut short) is a bad tar too.
            raise tarfile.TarError(f"a malformed tar: {error}") from error
        mask = os.umask(0)
        os.umask(mask)
        staging.chmod(0o777 & ~mask)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


class _Budget:
    """How many more directories an unpacking may make: one a 512 bytes of
    tar (a header's size), and 1,024 more. A name of a thousand levels costs
    a few KiB of tar; made on disk it is a thousand inodes and blocks."""

    def __init__(self, data: bytes) -> None:
        self.left = len(data) // 512 + 1024

    def take(self, path: Path) -> None:
        if self.left == 0:
            raise tarfile.TarError(f"{path.name}: more directories than the tar's size allows")
        self.left -= 1


def _unpack_into(data: bytes, root: Path) -> None:
    links: list[tuple[Path, str]] = []
    directories: list[tuple[Path, int]] = []
    budget = _Budget(data)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            parts = _parts(member.name)
            if not parts:
                continue  # "." or "./": the root itself
            parent = _real_directories(root, parts[:-1], budget)
            path = parent / parts[-1]
            if member.isdir():
                if not _is_real_directory(path):
                    budget.take(path)
                    path.mkdir(0o700)
                directories.append((path, member.mode & 0o755 | 0o700))
            elif member.isreg():
                if member.type == tarfile.GNUTYPE_SPARSE or member.sparse is not None:
                    raise tarfile.TarError(f"{member.name}: a sparse file")
                try:
                    _write_file(tar, member, path)
                except FileExistsError:
                    raise tarfile.TarError(f"{member.name}: named twice") from None
            elif member.issym():
                links.append((path, member.linkname))
            else:
                raise tarfile.TarError(
                    f"{member.name}: only files, directories and links are taken"
                )
    for path, link in links:
        relative = path.relative_to(root)
        _real_directories(root, list(relative.parts[:-1]), budget)
        try:
            os.symlink(link, path)
        except FileExistsError:
            raise tarfile.TarError(f"{relative}: named twice") from None
    # Deepest first, so a read-only directory is closed after what is in it.
    for path, mode in reversed(directories):
        path.chmod(mode)


def _parts(name: str) -> list[str]:
    """A member's name as path components; absolute names and ``..`` are refused."""
    if name.startswith("/") or "\0" in name:
        raise tarfile.TarError(f"{name!r}: an absolute name")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise tarfile.TarError(f"{name!r}: a name with ..")
    if len(parts) > MAX_DEPTH:
        raise tarfile.TarError(f"{name[:100]!r}…: deeper than {MAX_DEPTH} levels")
    return parts


def _is_real_directory(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _real_directories(root: Path, parts: list[str], budget: _Budget) -> Path:
    """``root`` joined with ``parts``, each made a directory when missing (within
    ``budget``); one that is anything but a real directory (a link above all) is
    refused."""
    path = root
    for part in parts:
        path = path / part
        if not _is_real_directory(path):
            if os.path.lexists(path):
                raise tarfile.TarError(f"{path.relative_to(root)}: not a directory on the way")
            budget.take(path)
            path.mkdir(0o700)
    return path


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
    source = tar.extractfile(member)
    assert source is not None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        shutil.copyfileobj(source, file)
        os.fchmod(file.fileno(), member.mode & 0o755 | 0o600)
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
