"""The few calls that differ between the async code and the sync code made from it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def asleep(seconds: float) -> None:
    """Sleeps without blocking the event loop (``sleep`` in the sync code)."""
    await asyncio.sleep(seconds)


def sleep(seconds: float) -> None:
    """Sleeps (``asleep`` in the async code)."""
    time.sleep(seconds)


async def arun_blocking(function: Callable[[], T]) -> T:
    """Runs local disk work in a thread, off the event loop (``run_blocking`` in the sync code)."""
    return await asyncio.to_thread(function)


def run_blocking(function: Callable[[], T]) -> T:
    """Runs local disk work (``arun_blocking`` in the async code)."""
    return function()
