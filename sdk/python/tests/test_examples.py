"""The examples run as users run them, against the test server, and do what they say."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from corral import Corral

from support import Server

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "python"


def run(server: Server, name: str, *args: str) -> str:
    finished = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=server.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def test_the_code_tool_answers_from_the_sandbox_and_deletes_it(server: Server) -> None:
    out = run(server, "code_tool.py")
    assert "answer: The primes up to 30 are: 2 3 5 7 11 13 17 19 23 29." in out
    assert '"exit_code": 0' in out
    sandbox_id = re.search(r"sandbox (j-[0-9a-f]{16})", out)
    assert sandbox_id is not None
    with Corral(server.url, server.token) as client:
        assert client.sandboxes.get(sandbox_id.group(1)).state == "ended"


def test_the_batch_runs_every_job_and_prints_each_result(server: Server) -> None:
    out = run(server, "batch_jobs.py", "4")
    lines = out.splitlines()
    assert len(lines) == 4
    for index, line in enumerate(lines):
        size, _, state, digest = line.split()
        assert int(size) == 2**index
        assert state == "succeeded"
        assert digest == hashlib.md5(bytes(1024 * 2**index)).hexdigest()


def test_the_review_flow_leaves_applies_or_discards(server: Server, project: Path) -> None:
    out = run(server, "review.py", str(project))
    assert "left for review: corral apply j-" in out
    assert not (project / "GREETING.md").exists()
    out = run(server, "review.py", str(project), "--apply")
    assert "changed: GREETING.md" in out
    assert "+# Hello from corral" in out
    assert (project / "GREETING.md").read_text().startswith("# Hello from corral")
    (project / "GREETING.md").unlink()
    out = run(server, "review.py", str(project), "--discard")
    assert "discarded" in out
    assert not (project / "GREETING.md").exists()
