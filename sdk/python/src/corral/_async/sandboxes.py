"""Sandboxes: a locked-down computer an agent keeps across many commands."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, overload

import httpx
from pydantic import TypeAdapter
from typing_extensions import Self, Unpack

from .. import models
from .._archive import pack, unpack_new
from .._errors import Conflict, NotFound
from .._io import arun_blocking, asleep
from .._output import Capture
from .._specs import Duration, SandboxOptions, exec_spec, sandbox_spec
from .follow import follow
from .http import AsyncHttp, segment

# The longest `?wait=` the server holds an exec call for.
MAX_WAIT = 600
_ENTRIES = TypeAdapter(list[models.FileEntry])


class AsyncExecStream:
    """One exec's output as it comes: iterate for ``OutputData`` pieces (``stream``,
    ``text``); ``result`` is set once it ended (also returned by ``wait()``)."""

    def __init__(self, http: AsyncHttp, sandbox_path: str, started: models.ExecStarted) -> None:
        self.exec = started.exec
        self.result: models.ExecResult | None = None
        self._events = follow(http, f"{sandbox_path}/events/stream", started.after)
        self._stdout = Capture()
        self._stderr = Capture()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> models.OutputData:
        while self.result is None:
            try:
                event = await self._events.__anext__()
            except StopAsyncIteration:
                raise Conflict(f"the sandbox ended before exec {self.exec} did") from None
            if event.kind == "output":
                piece = models.OutputData.model_validate(event.data)
                if piece.exec == self.exec:
                    (self._stdout if piece.stream == "stdout" else self._stderr).add(piece.text)
                    return piece
            elif event.kind == "exec_ended":
                ended = models.ExecEndedData.model_validate(event.data)
                if ended.exec == self.exec:
                    stdout, stdout_cut = self._stdout.result()
                    stderr, stderr_cut = self._stderr.result()
                    self.result = models.ExecResult(
                        exec=ended.exec,
                        exit_code=ended.exit_code,
                        duration_ms=ended.duration_ms,
                        timed_out=ended.timed_out,
                        reason=ended.reason,
                        stdout=stdout,
                        stderr=stderr,
                        truncated=stdout_cut or stderr_cut,
                    )
                    await self._events.aclose()
        raise StopAsyncIteration

    async def wait(self) -> models.ExecResult:
        """Reads the rest of its output and returns its result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    async def aclose(self) -> None:
        """Stops following it (the exec goes on)."""
        await self._events.aclose()


class AsyncFiles:
    """A sandbox's files under ``/workspace``, ``/tmp`` and ``/home/corral``: ``sandbox.files``."""

    def __init__(self, http: AsyncHttp, sandbox_path: str) -> None:
        self._http = http
        self._path = f"{sandbox_path}/files"

    async def write(self, path: str, data: bytes | str) -> None:
        """Writes a file (text as UTF-8); ``PayloadTooLarge`` past the sandbox's tmpfs size."""
        content = data.encode() if isinstance(data, str) else data
        await self._put(path, content, tar=False)

    async def read(self, path: str) -> bytes:
        """A file's bytes; ``Conflict`` when it holds a secret (it cannot be redacted)."""
        response = await self._get(path)
        if _is_tar(response):
            raise IsADirectoryError(f"{path} is a directory: use download()")
        return response.content

    async def list(self, path: str = "/workspace") -> list[models.FileEntry]:
        """A directory's entries (name, kind, size, mode, mtime, a link's target), by name."""
        response = await self._http.request("GET", f"{self._path}/list", params={"path": path})
        return _ENTRIES.validate_json(response.content)

    async def _put(self, path: str, content: bytes, tar: bool) -> None:
        kind = "application/x-tar" if tar else "application/octet-stream"
        await self._http.request(
            "PUT",
            self._path,
            params={"path": path, "tar": tar or None},
            content=content,
            headers={"Content-Type": kind},
            timeout=httpx.Timeout(30.0, read=None, write=None),
        )

    async def _get(self, path: str) -> httpx.Response:
        return await self._http.request(
            "GET", self._path, params={"path": path}, timeout=httpx.Timeout(30.0, read=None)
        )


class AsyncSandbox:
    """A sandbox on the server; ``info`` is its record as last read.

    Used as a context manager it is deleted at the end of the block.
    """

    def __init__(self, http: AsyncHttp, info: models.Sandbox) -> None:
        self._http = http
        self._path = f"/v1/sandboxes/{segment(info.id)}"
        self.info = info
        self.files = AsyncFiles(http, self._path)

    def __repr__(self) -> str:
        return f"<Sandbox {self.id} {self.state}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.delete()

    @property
    def id(self) -> str:
        """Its id (a job id, ``j-…``: its events are the sandbox's)."""
        return self.info.id

    @property
    def state(self) -> str:
        """Its state as last read (``running``, ``paused``, ``stopped``, ``ended``, …)."""
        return self.info.state

    async def refresh(self) -> models.Sandbox:
        """Reads its record again."""
        return await self._record("GET", "")

    @overload
    async def exec(
        self,
        cmd: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | str | None = None,
        timeout: Duration | None = None,
        stream: Literal[False] = False,
    ) -> models.ExecResult: ...

    @overload
    async def exec(
        self,
        cmd: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | str | None = None,
        timeout: Duration | None = None,
        stream: Literal[True],
    ) -> AsyncExecStream: ...

    async def exec(
        self,
        cmd: str | Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | str | None = None,
        timeout: Duration | None = None,
        stream: bool = False,
    ) -> models.ExecResult | AsyncExecStream:
        """Runs a command in the sandbox, in the state earlier commands left.

        ``cmd`` is a list run as is or a string run with ``sh -c``; ``cwd``
        defaults to ``/workspace``; ``stdin`` is text or bytes; ``timeout``
        (``30s``, ``5m`` or seconds) kills its process group. Returns its
        :class:`ExecResult` (exit code, stdout, stderr, each cut in the
        middle past 1 MiB with ``truncated`` set, duration); with
        ``stream=True`` an :class:`ExecStream` of its output as it comes.
        ``TooManyRequests`` when as many execs run as the sandbox allows.
        """
        body = exec_spec(cmd, cwd, env, stdin, timeout)
        wait = None if stream else MAX_WAIT
        response = await self._http.request(
            "POST",
            f"{self._path}/exec",
            params={"wait": wait},
            json=body,
            timeout=httpx.Timeout(30.0, read=MAX_WAIT + 30.0),
        )
        if response.status_code == 200:
            return models.ExecResult.model_validate_json(response.content)
        started = models.ExecStarted.model_validate_json(response.content)
        running = AsyncExecStream(self._http, self._path, started)
        if stream:
            return running
        return await running.wait()

    async def upload(self, local: str | os.PathLike[str], path: str) -> None:
        """Copies a local file to ``path``, or a local directory's tree into the directory
        ``path`` (links stay links)."""
        source = Path(local)
        tar, content = await arun_blocking(lambda: _read_local(source))
        await self.files._put(path, content, tar=tar)

    async def download(self, path: str, local: str | os.PathLike[str]) -> Path:
        """Copies ``path`` out of the sandbox to ``local``, which must not exist yet (a file
        may also go into an existing local directory). A directory's tar is unpacked with
        everything that could leave ``local`` refused. Returns what was written."""
        response = await self.files._get(path)
        target = Path(local)
        if _is_tar(response):
            return await arun_blocking(lambda: unpack_new(response.content, target))
        return await arun_blocking(lambda: _write_new(response.content, target, path))

    async def pause(self) -> models.Sandbox:
        """Freezes its processes (they keep their state)."""
        return await self._record("POST", "/pause")

    async def resume(self) -> models.Sandbox:
        """Thaws a paused sandbox."""
        return await self._record("POST", "/resume")

    async def stop(self) -> models.Sandbox:
        """Keeps its files (sealed, in the server's data directory) and removes its container."""
        return await self._record("POST", "/stop")

    async def start(self) -> models.Sandbox:
        """Starts a stopped sandbox in a new container with its files back."""
        return await self._record("POST", "/start")

    async def fork(self) -> AsyncSandbox:
        """A new sandbox with this one's settings and a copy of its files."""
        response = await self._http.request("POST", f"{self._path}/fork")
        return AsyncSandbox(self._http, models.Sandbox.model_validate_json(response.content))

    async def delete(self, wait: float = 60.0) -> models.Sandbox:
        """Ends it: its container and any stopped snapshot are removed.

        Waits up to ``wait`` seconds until it has ended (its container is
        gone) and returns its record. Deleting a sandbox that already ended,
        or that is gone, does nothing.
        """
        with contextlib.suppress(Conflict, NotFound):
            await self._record("DELETE", "")
        deadline = time.monotonic() + wait
        while self.state not in ("ended", "failed") and time.monotonic() < deadline:
            await asleep(0.1)
            try:
                await self.refresh()
            except NotFound:
                break
        return self.info

    async def events(self, after: int = 0) -> AsyncIterator[models.Event]:
        """Its events after ``after``, live (exec output is tagged with its exec), until it ends."""
        async for event in follow(self._http, f"{self._path}/events/stream", after):
            yield event

    async def _record(self, method: str, tail: str) -> models.Sandbox:
        response = await self._http.request(method, f"{self._path}{tail}")
        self.info = models.Sandbox.model_validate_json(response.content)
        return self.info


class AsyncSandboxes:
    """The server's sandboxes: ``client.sandboxes``."""

    def __init__(self, http: AsyncHttp) -> None:
        self._http = http

    async def create(self, **options: Unpack[SandboxOptions]) -> AsyncSandbox:
        """Creates a sandbox; it starts in the background and its first exec waits for it.

        Options: ``image``, ``ttl`` (its longest life), ``idle_timeout``,
        ``project`` (bound, or with ``copy=True`` copied in), ``grants``,
        ``allow_hosts``, ``inject``, ``memory``, ``cpu_shares``, ``pids``,
        ``tmpfs``, ``isolation``, and ``llm=True`` (or ``provider``/``model``)
        for a model at ``$OPENAI_BASE_URL`` inside it.
        """
        response = await self._http.request("POST", "/v1/sandboxes", json=sandbox_spec(options))
        return AsyncSandbox(self._http, models.Sandbox.model_validate_json(response.content))

    async def get(self, sandbox_id: str) -> AsyncSandbox:
        """The sandbox with this id."""
        response = await self._http.request("GET", f"/v1/sandboxes/{segment(sandbox_id)}")
        return AsyncSandbox(self._http, models.Sandbox.model_validate_json(response.content))

    async def list(self, state: str | None = None, limit: int = 100) -> list[AsyncSandbox]:
        """Sandboxes, newest first, only in ``state`` when given."""
        response = await self._http.request(
            "GET", "/v1/sandboxes", params={"state": state, "limit": limit}
        )
        page = models.SandboxList.model_validate_json(response.content)
        return [AsyncSandbox(self._http, sandbox) for sandbox in page.sandboxes]


def _is_tar(response: httpx.Response) -> bool:
    return str(response.headers.get("content-type", "")).startswith("application/x-tar")


def _read_local(source: Path) -> tuple[bool, bytes]:
    """What to upload: a directory as a tar (True), a file as its bytes.

    A link is refused rather than followed: a tree downloaded from a sandbox
    may hold links to the user's own files, and uploading one back must not
    hand the sandbox what it points at.
    """
    if source.is_symlink():
        raise ValueError(f"{source} is a symbolic link: upload what it points at by its own path")
    if source.is_dir():
        return True, pack(source)
    return False, source.read_bytes()


def _write_new(content: bytes, target: Path, remote: str) -> Path:
    """Writes a downloaded file to a new path (into ``target`` when it is a directory)."""
    if target.is_dir():
        target = target / Path(remote).name
    with open(target, "xb") as file:
        file.write(content)
    return target
