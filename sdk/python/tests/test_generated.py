"""The generated files are what their generators make of today's sources."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import httpx

import corral
from corral._events import DATA_MODELS

from support import Server

ROOT = Path(__file__).resolve().parents[1]
GENERATE = ROOT / "scripts" / "generate.py"


def test_the_models_are_those_of_the_server_s_openapi_document(
    server: Server, tmp_path: Path
) -> None:
    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{server.url}/v1/openapi.json").content)
    check = subprocess.run(
        [sys.executable, str(GENERATE), "models", str(document), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]


def test_the_sync_code_is_the_async_code_made_sync() -> None:
    check = subprocess.run(
        [sys.executable, str(GENERATE), "sync", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]


def test_each_event_kind_s_data_model_is_the_one_the_document_pairs_it_with(
    server: Server,
) -> None:
    document = httpx.get(f"{server.url}/v1/openapi.json").json()
    variants = document["components"]["schemas"]["EventData"]["oneOf"]
    paired = {}
    for variant in variants:
        kinds = variant["properties"]["kind"]["enum"]
        data = variant["properties"]["data"]
        reference = data.get("$ref") or data["allOf"][0]["$ref"]
        for kind in kinds:
            paired[kind] = reference.rsplit("/", 1)[1]
    assert {kind: model.__name__ for kind, model in DATA_MODELS.items()} == paired
    kinds = document["components"]["schemas"]["EventKind"]["enum"]
    assert sorted(DATA_MODELS) == sorted(kinds)


def test_every_public_name_and_method_has_a_docstring() -> None:
    missing = []
    for name in corral.__all__:
        value = getattr(corral, name)
        if not (inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value)):
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value) and value.__module__.startswith("corral._"):
            for attribute, member in vars(value).items():
                if attribute.startswith("_"):
                    continue
                target = member.fget if isinstance(member, property) else member
                if callable(target) and not inspect.getdoc(target):
                    missing.append(f"{name}.{attribute}")
    assert missing == []
