"""A real `corral serve` (the built binary, real Docker) for the whole session.

The server binary is `$CORRAL_BIN`, else `target/debug/corral` of this
repository; its worker `$CORRAL_WORKER_BIN` (scripts/test-python.sh sets
both). The model is the scripted one of examples/demo-model.json, on
loopback, so no test needs a network or a key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from corral import AsyncCorral, Corral

from support import CuttingProxy, Server, free_port

REPO = Path(__file__).resolve().parents[3]
MODEL = REPO / "examples" / "demo-model.json"


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    binary = Path(os.environ.get("CORRAL_BIN", REPO / "target" / "debug" / "corral"))
    assert binary.exists(), f"{binary} is missing: build it (cargo build -p corral-cli)"
    assert os.environ.get("CORRAL_WORKER_BIN"), "CORRAL_WORKER_BIN: the static worker"
    scratch = Path(tempfile.mkdtemp(prefix="corral-sdk-tests-"))
    data_dir = scratch / "data"
    data_dir.mkdir()
    # A low exec cap, so a test can reach it.
    (data_dir / "corral.toml").write_text("sandbox_max_execs = 3\n")
    log = scratch / "serve.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(binary), "serve", "--data-dir", str(data_dir),
                "--listen", f"127.0.0.1:{port}", "--llm", f"scripted:{MODEL}", "--no-verify",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"corral serve exited: {log.read_text()}"
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"corral serve did not answer: {log.read_text()}"
            time.sleep(0.1)
        token = (data_dir / "api-token").read_text().strip()
        instance = (data_dir / "instance-id").read_text().strip()
        yield Server(url, token, data_dir, instance, log)
    finally:
        _end_sandboxes(url, data_dir)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _remove_containers(instance_of(data_dir))
        shutil.rmtree(scratch, ignore_errors=True)


def instance_of(data_dir: Path) -> str | None:
    try:
        return (data_dir / "instance-id").read_text().strip()
    except OSError:
        return None


def _end_sandboxes(url: str, data_dir: Path) -> None:
    """Deletes every sandbox still alive: a stopped server keeps them for its next start."""
    try:
        with Corral(url, data_dir=data_dir) as client:
            for sandbox in client.sandboxes.list(limit=1000):
                if sandbox.state not in ("ended", "failed"):
                    sandbox.delete()
    except Exception as error:  # the server may be the thing that failed
        print(f"conftest: could not end sandboxes: {error}")


def _remove_containers(instance: str | None) -> None:
    if not instance:
        return
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=corral.instance={instance}"],
        capture_output=True,
        text=True,
        check=False,
    )
    ids = listed.stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)


@pytest.fixture
def client(server: Server) -> Iterator[Corral]:
    with Corral(server.url, server.token) as client:
        yield client


@pytest.fixture
async def aclient(server: Server) -> AsyncIterator[AsyncCorral]:
    async with AsyncCorral(server.url, server.token) as client:
        yield client


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository with one commit."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "README.md").write_text("a project\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
    return root


@pytest.fixture
def cutting_proxy(server: Server) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(server.url, after=700, cuts=4)
    yield proxy
    proxy.close()
