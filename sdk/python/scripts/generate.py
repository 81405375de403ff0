"""Regenerates the SDK's generated files, or checks that they are current.

    python scripts/generate.py models OPENAPI.json [--check]
        src/corral/models.py from the server's OpenAPI document
        (datamodel-code-generator).
    python scripts/generate.py sync [--check]
        src/corral/_sync/ from src/corral/_async/ (unasync, then ruff format).

With --check nothing is written: the command fails, naming the file, when
regenerating would change it.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "corral"
BIN = Path(sys.executable).parent

# The options the committed models.py was made with.
MODEL_OPTIONS = [
    "--input-file-type", "openapi",
    "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.10",
    "--disable-timestamp",
    "--use-standard-collections",
    "--use-union-operator",
    "--field-constraints",
    "--use-double-quotes",
    "--collapse-root-models",
    "--enum-field-as-literal", "all",
    "--formatters", "ruff-format",
]  # fmt: skip

# Names that differ between the two halves, beyond unasync's own
# (async def, await, async for/with, __aenter__, AsyncIterator, …).
SYNC_NAMES = {
    "_async": "_sync",
    "AsyncClient": "Client",
    "AsyncCorral": "Corral",
    "AsyncCorralBase": "CorralBase",
    "AsyncBaseTransport": "BaseTransport",
    "asynccontextmanager": "contextmanager",
    "AsyncHttp": "SyncHttp",
    "AsyncJob": "Job",
    "AsyncJobs": "Jobs",
    "AsyncSandbox": "Sandbox",
    "AsyncSandboxes": "Sandboxes",
    "AsyncFiles": "Files",
    "AsyncSecrets": "Secrets",
    "AsyncExecStream": "ExecStream",
    "aclose": "close",
    "aiter_bytes": "iter_bytes",
    "aiter_lines": "iter_lines",
    "aread": "read",
    "asleep": "sleep",
    "arun_blocking": "run_blocking",
}


def models(openapi: Path) -> dict[Path, str]:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "models.py"
        subprocess.run(
            [
                str(BIN / "datamodel-codegen"),
                "--input",
                str(openapi),
                "--output",
                str(output),
                *MODEL_OPTIONS,
            ],
            check=True,
        )
        text = output.read_text().replace(
            "#   filename:  " + openapi.name, "#   from:  /v1/openapi.json"
        )
        docstring = (
            '"""The API\'s wire types, generated from the server\'s OpenAPI document by\n'
            'datamodel-code-generator (scripts/generate.py models): do not edit."""\n\n'
        )
        text = text.replace("from __future__", docstring + "from __future__", 1)
        return {PACKAGE / "models.py": text}


# The async code and where its sync copy goes.
SYNC_PAIRS = [
    (PACKAGE / "_async", PACKAGE / "_sync"),
    (ROOT / "tests" / "_async", ROOT / "tests" / "_sync"),
]
# The tests' own names.
TEST_NAMES = {"aclient": "client", "AsyncHTTPTransport": "HTTPTransport"}


def sync() -> dict[Path, str]:
    out = {}
    for source_dir, target_dir in SYNC_PAIRS:
        out.update(_sync_copy(source_dir, target_dir))
    return out


def _sync_copy(source_dir: Path, target_dir: Path) -> dict[Path, str]:
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "_async"
        target = Path(scratch) / "_sync"
        shutil.copytree(source_dir, source, ignore=shutil.ignore_patterns("__pycache__"))
        names = {**SYNC_NAMES, **TEST_NAMES}
        rule = unasync.Rule(str(source), str(target), additional_replacements=names)
        files = sorted(str(path) for path in source.glob("*.py"))
        unasync.unasync_files(files, rules=[rule])
        config = ["--config", str(ROOT / "pyproject.toml")]
        subprocess.run([str(BIN / "ruff"), "format", "--quiet", *config, str(target)], check=True)
        subprocess.run(
            [
                str(BIN / "ruff"),
                "check",
                "--quiet",
                "--fix",
                *config,
                "--select",
                "I,F401",
                str(target),
            ],
            check=True,
        )
        header = "# Generated from ../_async by scripts/generate.py: edit that, not this.\n"
        return {
            target_dir / path.name: header + path.read_text()
            for path in sorted(target.glob("*.py"))
        }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["models", "sync"])
    parser.add_argument("openapi", nargs="?", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.what == "models":
        if args.openapi is None:
            parser.error("models needs the OpenAPI document")
        files = models(args.openapi)
    else:
        files = sync()
    stale = []
    for path, text in files.items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(path)
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(True), text.splitlines(True), str(path), "regenerated"
                )
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.what == "sync" and not args.check:
        for _, target_dir in SYNC_PAIRS:
            for path in target_dir.glob("*.py"):
                if path not in files:
                    path.unlink()
    if stale:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        print(
            f"generate.py: {names} would change: run scripts/generate.py {args.what}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
