"""`ccf cache info` and `ccf cache clear`, in-process, on real cache folders that `ccf validate`
filled ($CCF_CACHE_DIR set by each test): what they show, and that clear removes what ccdsl
made and nothing else (a foreign file, a symlink out of the folder, a folder not a cache)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.cli.exit_codes import USAGE
from ccdsl.compiler import grammar
from ccdsl.compiler.cache_store import MAGIC, MAX_BYTES, STALE_TEMP_S, Store

FLOW = """flow desk

use greetings

on start:
  answer
  play tts greetings.welcome()
  hangup
"""
MODULE = """flow greetings

sub welcome():
  return "Welcome."
"""
NOT_OURS = "0" * 64  # named like an entry, but not made by ccdsl


def _files(folder: Path) -> list[str]:
    """Every file and symlink under folder, by its path inside it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_symlink() or p.is_file())


def _entries(folder: Path, kind: str) -> list[Path]:
    return sorted(p for p in (folder / kind).iterdir() if len(p.name) == 64)


@pytest.fixture
def filled(tmp_path: Path, monkeypatch) -> Path:
    """A cache folder that validating a flow filled (its module's parse, its result),
    named by $CCF_CACHE_DIR."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CCF_CACHE_DIR", str(cache))
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "greetings.ccf").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert ccf("validate", "desk.ccf").exit_code == 0
    assert _entries(cache, "modules") and _entries(cache, "results")
    return cache


def _info(*args: str) -> dict:
    result = ccf("cache", "info", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---- info ---------------------------------------------------------------------------------


def test_info_counts_each_kind_of_entry_in_the_folder_in_use(filled: Path) -> None:
    shown = _info()
    assert shown["folder"] == str(filled)
    assert shown["chosen_by"] == "CCF_CACHE_DIR"
    assert (shown["state"], shown["problem"], shown["is_cache"]) == ("used", None, True)
    for kind in ("modules", "results"):
        entries = _entries(filled, kind)
        assert shown["groups"][kind] == {"files": len(entries),
                                         "bytes": sum(p.stat().st_size for p in entries)}
    assert shown["limit_bytes"] == MAX_BYTES == 256 * 1024 * 1024
    assert shown["limited_bytes"] == shown["groups"]["modules"]["bytes"] \
        + shown["groups"]["results"]["bytes"]
    text = ccf("cache", "info").stdout
    assert f"folder          {filled}  ($CCF_CACHE_DIR)\nstate           used\n" in text
    assert f"results/        {len(_entries(filled, 'results'))} entr" in text
    assert "of the 256 MiB limit in modules/ and results/" in text


def test_info_says_which_variable_chose_the_folder_and_makes_nothing(tmp_path: Path,
                                                                    monkeypatch) -> None:
    monkeypatch.setenv("CCF_CACHE_DIR", "")  # set but empty: as if unset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    shown = _info()
    assert (shown["folder"], shown["chosen_by"]) == (str(tmp_path / "xdg" / "ccdsl"),
                                                     "XDG_CACHE_HOME")
    assert shown["state"] == "not made yet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    shown = _info()
    assert (shown["folder"], shown["chosen_by"]) == (
        str(tmp_path / "home" / ".cache" / "ccdsl"), None)
    assert "(the default: neither $CCF_CACHE_DIR nor $XDG_CACHE_HOME is set)" in \
        ccf("cache", "info").stdout
    assert list(tmp_path.iterdir()) == []


def test_info_says_a_folder_others_can_write_is_not_used_as_compiling_finds(
        tmp_path: Path, monkeypatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("CCF_CACHE_DIR", str(shared))
    store = Store(str(shared))
    assert not store.usable()
    shown = _info()
    assert (shown["state"], shown["problem"]) == ("not used", store.problem)
    assert f"state           not used: {shared} can be written by other users\n" in \
        ccf("cache", "info").stdout


def test_info_says_a_folder_that_cannot_be_made_is_not_used(tmp_path: Path,
                                                            monkeypatch) -> None:
    (tmp_path / "a-file").write_text("in the way\n", encoding="utf-8")
    monkeypatch.setenv("CCF_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    shown = _info()
    store = Store()
    assert not store.usable()
    assert (shown["state"], shown["problem"]) == ("not used", store.problem)
    assert store.problem == f"{tmp_path / 'a-file' / 'cache'} cannot be made: Not a directory"


def test_entries_folders_that_cannot_be_written_are_read_only_and_not_cleared(
        filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in ("modules", "results"):
        (filled / kind).chmod(0o500)
    if os.geteuid() == 0:
        # root writes into any folder (CI runs as root): the kernel's refusal, as a user meets
        # it, is played by the two calls that meet it
        _refuse_writes_under(monkeypatch, (filled / "modules", filled / "results"))
    try:
        shown = _info()
        assert shown["state"] == "read only"
        before = _files(filled)
        result = ccf("cache", "clear")
        assert result.exit_code == USAGE
        assert "error: cannot remove " in result.output
        assert "Permission denied" in result.output
        assert [f for f in _files(filled) if "/" in f] == [f for f in before if "/" in f]
    finally:
        for kind in ("modules", "results"):
            (filled / kind).chmod(0o700)


def _refuse_writes_under(monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, ...]) -> None:
    import errno

    from ccdsl.compiler import cache_contents, cache_store

    locked = tuple(str(f) for f in folders)
    access, unlink = os.access, os.unlink

    def no_write(path, mode, *args, **kwargs):
        if str(path) in locked and mode & os.W_OK:
            return False
        return access(path, mode, *args, **kwargs)

    def refused(path, *args, **kwargs):
        if os.path.dirname(str(path)) in locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(cache_store.os, "access", no_write)
    monkeypatch.setattr(cache_contents.os, "unlink", refused)


# ---- clear --------------------------------------------------------------------------------


def test_clear_removes_ccdsls_entries_and_leaves_everything_else(filled: Path,
                                                                 tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / "precious"
    precious.write_bytes(MAGIC + b"looks like an entry, lives elsewhere")
    (filled / "notes.txt").write_text("mine\n", encoding="utf-8")
    (filled / "modules" / NOT_OURS).write_text("named like an entry\n", encoding="utf-8")
    (filled / "modules" / ("1" * 64)).symlink_to(precious)
    (filled / "grammar-0123456789abcdef.lark-cache").symlink_to(precious)
    entries = _entries(filled, "modules") + _entries(filled, "results")
    ours = [p for p in entries if not p.is_symlink() and p.name != NOT_OURS]
    result = ccf("cache", "clear")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"removed {len(ours)} files, ")
    assert result.stdout.endswith(f"from {filled}; 4 files or folders not ccdsl's left alone\n")
    assert _files(filled) == sorted(["grammar-0123456789abcdef.lark-cache", "notes.txt",
                                     f"modules/{'1' * 64}", f"modules/{NOT_OURS}"])
    assert precious.read_bytes().startswith(MAGIC)
    # the entries' folders stay: a ccf writing now renames its entry into place
    assert (filled / "modules").is_dir() and (filled / "results").is_dir()
    again = ccf("validate", "desk.ccf")
    assert again.exit_code == 0, again.output
    assert _entries(filled, "results")


def test_dry_run_says_what_clear_would_remove_and_removes_nothing(filled: Path) -> None:
    before = _files(filled)
    result = ccf("cache", "clear", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"would remove {len(before)} files, ")
    assert _files(filled) == before
    assert ccf("cache", "clear").stdout.startswith(f"removed {len(before)} files, ")
    assert _files(filled) == []


def test_a_folder_with_nothing_of_ccdsls_is_refused(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "project"
    home.mkdir()
    (home / "notes.txt").write_text("mine\n", encoding="utf-8")
    (home / "modules").symlink_to(tmp_path)  # a symlink is not the entries' folder
    monkeypatch.setenv("CCF_CACHE_DIR", str(home))
    for args in ((), ("--dry-run",)):
        result = ccf("cache", "clear", *args)
        assert result.exit_code == USAGE
        assert result.output == (f"error: {home} is not a ccdsl cache folder (no modules/, "
                                 "results/ or grammar tables in it): nothing removed; check "
                                 "$CCF_CACHE_DIR\n")
    assert sorted(p.name for p in home.iterdir()) == ["modules", "notes.txt"]


def test_clearing_a_folder_not_made_yet_removes_nothing_and_makes_nothing(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CCF_CACHE_DIR", str(tmp_path / "cache"))
    result = ccf("cache", "clear")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"removed 0 files, 0 bytes from {tmp_path / 'cache'}\n"
    assert not (tmp_path / "cache").exists()


def test_an_entry_being_written_is_left_to_its_writer(filled: Path) -> None:
    """A ccf writing an entry at the moment of clearing still renames it into place; a
    temporary file left by a process that died an hour ago goes."""
    writing = filled / "results" / ".tmp-writing"
    writing.write_bytes(MAGIC)
    dead = filled / "modules" / ".tmp-dead"
    dead.write_bytes(MAGIC)
    old = time.time() - STALE_TEMP_S - 60
    os.utime(dead, (old, old))
    assert _info()["temporary"]["files"] == 2
    assert "\ntemporary       2 files, 28 bytes\n" in ccf("cache", "info").stdout
    assert ccf("cache", "clear").exit_code == 0
    assert _files(filled) == ["results/.tmp-writing"]
    os.replace(writing, filled / "results" / ("2" * 64))


def test_a_store_in_use_misses_after_clearing_and_writes_again(filled: Path) -> None:
    store = Store(str(filled))
    store.put("modules", "3" * 64, {"parsed": 1})
    assert store.get("modules", "3" * 64) == {"parsed": 1}
    assert ccf("cache", "clear").exit_code == 0
    assert store.get("modules", "3" * 64) is None
    store.put("modules", "3" * 64, {"parsed": 2})
    assert store.usable() and store.get("modules", "3" * 64) == {"parsed": 2}


def test_the_grammar_tables_are_listed_cleared_and_built_again(tmp_path: Path,
                                                               monkeypatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CCF_CACHE_DIR", str(cache))
    grammar.lark_tables_parser()  # builds the tables and writes them where ccf keeps them
    [tables] = list(cache.glob("grammar-*.lark-cache"))
    size = tables.stat().st_size
    assert _info()["groups"]["grammar tables"] == {"files": 1, "bytes": size}
    result = ccf("cache", "clear")
    shown = f"{size / 1024:.1f}".removesuffix(".0")
    assert result.stdout == f"removed 1 file, {shown} KiB from {cache}\n"
    assert not tables.exists()
    grammar.lark_tables_parser()
    assert tables.exists()


def test_the_grammar_tables_are_named_as_clear_recognises_them() -> None:
    from ccdsl.compiler.cache_store import GRAMMAR_TABLES

    assert GRAMMAR_TABLES.fullmatch(os.path.basename(grammar._cache_path(grammar.grammar_text())))
