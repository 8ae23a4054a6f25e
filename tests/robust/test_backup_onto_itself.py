"""`ccf store backup` refuses to write the backup over the store it backs up,
by the same check `ccf store copy` makes (the same file by name, by a
symlink, or by a hard link), and leaves the store as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

from ccdsl.cli.exit_codes import USAGE


@pytest.fixture
def store(tmp_path: Path) -> Path:
    flow = tmp_path / "desk.ccf"
    flow.write_text(WELCOME_FLOW, encoding="utf-8")
    path = tmp_path / "calls.db"
    assert ccf("simulate", str(flow), "--store", str(path)).exit_code == 0
    return path


def _dest(store: Path, how: str) -> str:
    if how == "same name":
        return str(store)
    if how == "relative name":
        return os.path.relpath(store)
    link = store.with_name("link.db")
    if how == "symlink":
        link.symlink_to(store)
    else:
        os.link(store, link)
    return str(link)


@pytest.mark.parametrize("how", ["same name", "relative name", "symlink", "hard link"])
def test_backup_onto_the_store_itself_is_refused(store: Path, how: str):
    before = store.read_bytes()
    result = ccf("store", "backup", _dest(store, how), "--store", str(store))
    assert result.exit_code == USAGE, result.output
    assert "the same store" in result.output
    assert store.read_bytes() == before
    assert not store.with_name(store.name + ".partial").exists()
    listed = ccf("calls", "list", "--store", str(store))
    assert listed.exit_code == 0 and "sim-1" in listed.output


def test_backup_beside_the_store_still_works(store: Path):
    result = ccf("store", "backup", str(store.with_name("b.db")), "--store", str(store))
    assert result.exit_code == 0 and "1 calls" in result.output, result.output
