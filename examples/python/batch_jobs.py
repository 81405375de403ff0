"""A batch of jobs run at once with AsyncCorral, each in its own locked-down container.

    python examples/python/batch_jobs.py [COUNT]

Each job checksums a different amount of generated data; the script starts
them all, follows each one's events as they come, and prints each result and
how it ended. Jobs beyond the server's `max_concurrent_jobs` wait their turn
in its queue.
"""

from __future__ import annotations

import asyncio
import sys

from corral import AsyncCorral, AsyncJob, OutputData, typed_data, visible


async def one(client: AsyncCorral, size_kib: int) -> tuple[int, str, str]:
    """Runs one job and returns its size, its final state and what it printed."""
    job: AsyncJob = await client.jobs.run(
        ["sh", "-c", f"head -c {size_kib}k /dev/zero | md5sum | cut -d' ' -f1"],
        memory="64m",
        timeout="2m",
    )
    printed = []
    async for event in job.events():
        data = typed_data(event)
        if isinstance(data, OutputData) and data.stream == "stdout":
            printed.append(data.text)
    final = await job.wait()
    return size_kib, final.state, "".join(printed).strip()


async def main(count: int) -> None:
    """Starts `count` jobs at once and prints each outcome."""
    async with AsyncCorral() as client:
        results = await asyncio.gather(*(one(client, 2**i) for i in range(count)))
    for size_kib, state, printed in results:
        # A job's output is printed with its control characters shown, never obeyed.
        print(f"{size_kib:>6} KiB  {state:<10} {visible(printed, one_line=True)}")
    failed = [result for result in results if result[1] != "succeeded"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 6))
