"""A store named by a URL is a PostgreSQL store whatever the case of its
scheme; any other scheme:// is refused naming what a store can be, never
taken as a file path (which made ./sqlite:/tmp/s.db)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

from ccdsl.cli.exit_codes import USAGE
from ccdsl.runtime.operations.database import TargetError, check_target, is_postgres

OTHERS = ["sqlite:///tmp/s.db", "mysql://user@db/calls", "file:///tmp/s.db", "http://x/s.db"]


@pytest.mark.parametrize("url", ["PostgreSQL://u@h/calls", "POSTGRES://u@h/calls",
                                 "postgresql://u@h/calls"])
def test_the_postgresql_scheme_is_read_in_any_case(url: str):
    assert is_postgres(url)
    assert check_target(url).startswith(("postgresql://", "postgres://"))


@pytest.mark.parametrize("url", OTHERS)
def test_another_scheme_is_refused_naming_what_is_supported(url: str):
    with pytest.raises(TargetError, match=r"a SQLite file's path or a postgresql:// URL"):
        check_target(url)


@pytest.mark.parametrize("path", ["calls.db", "/tmp/a:b.db", "a:b/c.db", "C:calls.db"])
def test_a_path_with_a_colon_but_no_slashes_after_it_stays_a_path(path: str):
    assert check_target(path) == path and not is_postgres(path)


def _desk(tmp_path: Path) -> Path:
    flow = tmp_path / "desk.ccf"
    flow.write_text(WELCOME_FLOW, encoding="utf-8")
    return flow


@pytest.mark.parametrize("url", OTHERS)
@pytest.mark.parametrize("command", [("calls", "list"), ("store", "migrate"),
                                     ("store", "backup", "b.db"), ("simulate", "desk.ccf"),
                                     ("store", "copy", "calls.db")])
def test_commands_refuse_another_scheme_and_make_no_file(tmp_path: Path, url: str, command,
                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    _desk(tmp_path)
    if command[:2] == ("store", "copy"):
        ccf("simulate", "desk.ccf", "--store", "calls.db")
        args = (*command, url)
    else:
        args = (*command, "--store", url)
    before = set(os.listdir(tmp_path))
    result = ccf(*args)
    assert result.exit_code == USAGE, result.output
    assert "postgresql://" in result.output and url.split(":")[0] in result.output
    assert set(os.listdir(tmp_path)) == before


def test_config_store_url_of_another_scheme_is_a_problem(tmp_path: Path):
    config = tmp_path / "ccf.toml"
    config.write_text('[store]\nurl = "mysql://u@h/calls"\n', encoding="utf-8")
    result = ccf("config", "check", "--config", str(config))
    assert result.exit_code != 0 and "a postgresql:// URL without its password" in result.output


def test_config_store_url_in_any_case_is_taken(tmp_path: Path):
    config = tmp_path / "ccf.toml"
    config.write_text('[store]\nurl = "PostgreSQL://ccf@127.0.0.1/calls"\n', encoding="utf-8")
    result = ccf("config", "check", "--config", str(config))
    assert "store.url" not in result.output, result.output
