"""The two public clients: what differs between them beyond ``async``."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import Any

from typing_extensions import Unpack

from ._async.client import AsyncCorralBase
from ._async.sandboxes import AsyncSandbox, AsyncSandboxes
from ._specs import SandboxOptions
from ._sync.client import CorralBase
from ._sync.sandboxes import Sandbox


class Corral(CorralBase):
    """A corral server, for blocking code.

    >>> client = Corral()                          # found as the CLI finds it
    >>> with client.sandbox() as sb:               # deleted at the end of the block
    ...     print(sb.exec("echo hi").stdout)
    hi
    """

    def sandbox(self, **options: Unpack[SandboxOptions]) -> Sandbox:
        """Creates a sandbox (see :meth:`Sandboxes.create`); ``with`` it to delete it after."""
        return self.sandboxes.create(**options)


class AsyncCorral(AsyncCorralBase):
    """A corral server, for asyncio code: the same methods as :class:`Corral`, awaited.

    ``async with client.sandbox(...) as sb:`` creates a sandbox and deletes
    it at the end of the block; ``sb = await client.sandbox(...)`` only
    creates it.
    """

    def sandbox(self, **options: Unpack[SandboxOptions]) -> SandboxStarting:
        """Creates a sandbox when awaited or entered (see :meth:`AsyncSandboxes.create`)."""
        return SandboxStarting(self.sandboxes, options)


class SandboxStarting:
    """A sandbox to be created: await it for the sandbox, or ``async with`` it."""

    def __init__(self, sandboxes: AsyncSandboxes, options: SandboxOptions) -> None:
        self._sandboxes = sandboxes
        self._options = options
        self._sandbox: AsyncSandbox | None = None

    def __await__(self) -> Generator[Any, None, AsyncSandbox]:
        return self._sandboxes.create(**self._options).__await__()

    async def __aenter__(self) -> AsyncSandbox:
        self._sandbox = await self._sandboxes.create(**self._options)
        return self._sandbox

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._sandbox is not None:
            await self._sandbox.delete()
