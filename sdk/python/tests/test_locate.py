"""The server and token are found as the CLI finds them, or the error says where it looked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corral import ConfigurationError, Corral
from corral._locate import DEFAULT_URL, locate


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CORRAL_URL", "CORRAL_TOKEN", "CORRAL_DATA_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_arguments_come_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRAL_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("CORRAL_TOKEN", "from-env")
    found = locate("http://127.0.0.1:2/", "given")
    assert (found.url, found.token) == ("http://127.0.0.1:2", "given")


def test_the_environment_comes_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRAL_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("CORRAL_TOKEN", "from-env")
    found = locate()
    assert (found.url, found.token) == ("http://127.0.0.1:1", "from-env")


def test_the_data_directory_s_files_last(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = tmp_path / "home" / ".local" / "share" / "corral"
    data.mkdir(parents=True)
    (data / "api-token").write_text("from-file\n")
    assert locate() == locate(data_dir=data)
    assert (locate().url, locate().token) == (DEFAULT_URL, "from-file")
    (data / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:9"}))
    assert locate().url == "http://127.0.0.1:9"
    other = tmp_path / "other"
    other.mkdir()
    (other / "api-token").write_text("other")
    monkeypatch.setenv("CORRAL_DATA_DIR", str(other))
    assert locate().token == "other"
    monkeypatch.delenv("CORRAL_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    (tmp_path / "corral").mkdir()
    (tmp_path / "corral" / "api-token").write_text("xdg")
    assert locate().token == "xdg"


def test_no_token_is_an_error_that_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as missing:
        Corral()
    text = str(missing.value)
    assert "CORRAL_TOKEN" in text
    assert str(tmp_path / "home" / ".local" / "share" / "corral" / "api-token") in text
