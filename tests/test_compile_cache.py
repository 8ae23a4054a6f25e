"""The compiler's cache (compiler/cache_store.py, parse_cache.py, result_cache.py): an
unchanged flow is not parsed again, an edit re-parses only the file edited, a cached
result is always the result a fresh compile gives, and a broken or unusable cache folder
is never an error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ccf_cli import ccf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ccdsl.compiler.parse_cache
from ccdsl.code_selection import selection
from ccdsl.compiler import cache_store, flow_files, pipeline
from ccdsl.compiler.cache_store import Store
from ccdsl.compiler.result_cache import compile_cached

ROOT = Path(__file__).resolve().parent.parent

MAIN = """flow main:
  languages en-US

use billing
use stdlib.voicemail

on start:
  answer
  x = billing.total(2)
  play tts "Total ${x}."
  goto done

step done:
  hangup
"""
BILLING = """flow billing:
  title "Billing"

sub total(n):
  return n * 3
"""
TESTS = """test "answers":
  call
  expect hangup
"""


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The paths of the texts really parsed, in order."""
    seen: list[str] = []
    real = ccdsl.compiler.parse_cache.parse_recovering

    def counting(source):
        seen.append(source.path)
        return real(source)

    monkeypatch.setattr(ccdsl.compiler.parse_cache, "parse_recovering", counting)
    return seen


@pytest.fixture
def tree(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CCF_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "main.ccf").write_text(MAIN, encoding="utf-8")
    (folder / "billing.ccf").write_text(BILLING, encoding="utf-8")
    return folder


def test_a_second_validate_of_an_unchanged_flow_parses_nothing(tree: Path, parses) -> None:
    first = ccf("validate", str(tree / "main.ccf"))
    assert sorted(os.path.basename(p) for p in parses) == \
        ["billing.ccf", "main.ccf", "voicemail.ccf"]
    parses.clear()
    second = ccf("validate", str(tree / "main.ccf"))
    assert parses == []
    assert (second.exit_code, second.stdout) == (first.exit_code, first.stdout)


def test_an_edit_of_the_flow_re_parses_only_the_flow(tree: Path, parses) -> None:
    ccf("validate", str(tree / "main.ccf"))
    parses.clear()
    (tree / "main.ccf").write_text(MAIN.replace("Total", "Sum"), encoding="utf-8")
    ccf("validate", str(tree / "main.ccf"))
    assert parses == [str(tree / "main.ccf")]


def test_an_edit_of_a_module_re_parses_the_module_and_not_the_stdlib(tree: Path,
                                                                     parses) -> None:
    ccf("validate", str(tree / "main.ccf"))
    for n in (4, 5):
        (tree / "billing.ccf").write_text(BILLING.replace("3", str(n)), encoding="utf-8")
        parses.clear()
        ccf("validate", str(tree / "main.ccf"))
        assert str(tree / "billing.ccf") in parses
        assert not any(p.endswith("voicemail.ccf") for p in parses)
    # the entry did not change across two edits of its module: its parse is now kept too
    assert parses == [str(tree / "billing.ccf")]


@pytest.mark.parametrize("command", ["validate", "compile", "test"])
def test_a_command_served_from_the_cache_prints_what_it_printed(tree: Path, parses,
                                                                 command: str) -> None:
    # a failing expectation quotes its line of main.test.ccf; a warning quotes main.ccf
    (tree / "main.test.ccf").write_text(TESTS.replace("expect hangup", "expect transfer"),
                                        encoding="utf-8")
    (tree / "main.ccf").write_text(MAIN.replace("step done:", "const unused = 1\n\nstep done:"),
                                   encoding="utf-8")
    fresh = ccf(command, "--no-cache", str(tree / "main.ccf"))
    first = ccf(command, str(tree / "main.ccf"))
    parses.clear()
    again = ccf(command, str(tree / "main.ccf"))
    assert parses == []
    for run in (first, again):
        assert (run.exit_code, run.stdout, run.stderr) == \
            (fresh.exit_code, fresh.stdout, fresh.stderr)
    assert ("expect transfer" if command == "test" else "unused") in fresh.output


def test_test_compiles_a_flow_that_does_not_load_once(tree: Path, monkeypatch) -> None:
    # its result has no program, fresh or stored: compiling again would not give one
    (tree / "main.ccf").write_text("flow main\nfun (\n", encoding="utf-8")
    compiles = []
    real = pipeline.compile_file
    monkeypatch.setattr(pipeline, "compile_file",
                        lambda *a, **k: compiles.append(1) or real(*a, **k))
    assert ccf("test", str(tree / "main.ccf")).exit_code == 1
    assert len(compiles) == 1


def test_no_cache_reads_and_writes_nothing(tree: Path, parses, tmp_path: Path) -> None:
    for command in ("validate", "compile", "test"):
        ccf(command, "--no-cache", str(tree / "main.ccf"))
    assert not (tmp_path / "cache").exists()
    assert len(parses) >= 9  # three files, three commands, each parsed afresh


def test_the_cache_hit_imports_neither_lark_nor_the_ast_nor_the_checks(tree: Path) -> None:
    probe = ("import sys\n"
             "from ccdsl.cli.main import main\n"
             "try:\n"
             "    main(['validate', sys.argv[1]])\n"
             "except SystemExit:\n"
             "    pass\n"
             "heavy = sorted(m for m in sys.modules if m == 'lark' or m.startswith(("
             "'ccdsl.ast', 'ccdsl.compiler.checks', 'ccdsl.compiler.parser', "
             "'ccdsl.compiler.pipeline')))\n"
             "print('heavy:', heavy, file=sys.stderr)\n")
    runs = [subprocess.run([sys.executable, "-c", probe, str(tree / "main.ccf")],
                           capture_output=True, text=True, env=os.environ.copy(), check=False)
            for _ in range(2)]
    assert "'lark'" in runs[0].stderr  # the first run compiled
    assert "heavy: []" in runs[1].stderr, runs[1].stderr
    assert runs[0].stdout == runs[1].stdout


def test_two_ccf_processes_at_once_share_the_folder(tree: Path) -> None:
    command = [sys.executable, "-m", "ccdsl.cli.main", "validate", str(tree / "main.ccf")]
    expected = subprocess.run([*command, "--no-cache"], capture_output=True, text=True,
                              check=False)
    for _ in range(2):
        running = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for _ in range(2)]
        for process in running:
            out, err = process.communicate(timeout=120)
            assert (process.returncode, out, err) == \
                (expected.returncode, expected.stdout, expected.stderr)


# ---- a broken cache folder is never an error ----------------------------------------------

def _entries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("damage", [b"", b"garbage", "truncate", "flip"])
def test_a_corrupt_entry_is_ignored_and_rewritten(tree: Path, tmp_path: Path,
                                                  parses, damage) -> None:
    fresh = ccf("validate", str(tree / "main.ccf"))
    entries = _entries(tmp_path / "cache")
    assert entries
    for entry in entries:
        data = entry.read_bytes()
        if damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "flip":
            data = data[:-1] + bytes([data[-1] ^ 0x01])
        else:
            data = damage
        entry.write_bytes(data)
    parses.clear()
    again = ccf("validate", str(tree / "main.ccf"))
    assert (again.exit_code, again.stdout) == (fresh.exit_code, fresh.stdout)
    assert len(parses) == 3  # nothing usable was read
    parses.clear()
    ccf("validate", str(tree / "main.ccf"))
    assert parses == []  # and every entry was written again


def test_an_unusable_folder_means_no_cache(tree: Path, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CCF_CACHE_DIR", str(blocker / "cache"))
    result = ccf("validate", str(tree / "main.ccf"))
    assert result.exit_code == 0
    assert result.stdout == "no errors or warnings in 1 file\n"
    assert result.stderr == ""


def test_a_folder_others_can_write_is_not_used(tree: Path, tmp_path: Path,
                                               monkeypatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # pickles are loaded from the cache: nobody else may write them
    monkeypatch.setenv("CCF_CACHE_DIR", str(shared))
    assert ccf("validate", str(tree / "main.ccf")).exit_code == 0
    assert _entries(shared) == []
    store = Store(str(shared))
    assert not store.usable()
    assert "can be written by other users" in store.problem


def test_the_grammar_tables_made_first_leave_the_folder_usable(tmp_path: Path,
                                                                monkeypatch) -> None:
    # `ccf fmt`, --no-cache and the language server build the grammar without a Store:
    # the folder they make must pass the Store's check under a group-writable umask too
    from ccdsl.compiler.grammar import _cache_path

    monkeypatch.setenv("CCF_CACHE_DIR", str(tmp_path / "cache"))
    old = os.umask(0o002)
    try:
        _cache_path("grammar")
    finally:
        os.umask(old)
    assert Store(str(tmp_path / "cache")).usable()


def test_pruning_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "cache"))
    for n in range(10):
        store.put("modules", f"k{n}", b"x" * 1000)
        os.utime(tmp_path / "cache" / "modules" / f"k{n}", (n, n))
    assert store.get("modules", "k0") == b"x" * 1000  # used now: kept
    size = (tmp_path / "cache" / "modules" / "k0").stat().st_size
    store.prune(limit=6 * size)  # over it: down to three quarters, 4.5 entries
    left = sorted(p.name for p in (tmp_path / "cache" / "modules").iterdir())
    assert left == ["k0", "k7", "k8", "k9"]


def test_writing_many_entries_scans_the_folder_once(tmp_path: Path, monkeypatch) -> None:
    # a cold `ccf validate` of a tree writes hundreds of entries: pruning (a stat of every
    # entry in the folder) at each of them made the run quadratic in the folder's size
    store = Store(str(tmp_path / "cache"))
    scans = []
    real = cache_store.listing
    monkeypatch.setattr(cache_store, "listing", lambda folder: scans.append(1) or real(folder))
    for n in range(50):
        store.put("modules", f"k{n}", b"x" * 1000)
    assert len(scans) == 1


# ---- never a stale result ---------------------------------------------------------------

VARIANTS = {
    "main.ccf": [MAIN, MAIN.replace("Total", "Sum"), MAIN.replace("goto done", "goto gone"),
                 MAIN.replace("use billing\n", ""), "flow main\n\non start:\n  answr\n",
                 MAIN.replace("x = billing", "const y = 1\n  x = billing"), None],
    "billing.ccf": [BILLING, BILLING.replace("n * 3", "n * 4"),
                    BILLING.replace("sub total", "sub sum"), "flow billing\nfun (\n", None,
                    BILLING + "\n# ccf: ignore[W602]\n"],
    "main.test.ccf": [None, TESTS, TESTS.replace("hangup", "play"), "test oops\n"],
    "voicemail.ccf": ["keep", "flow voicemail\n", "flow voicemail\nfun leave(:\n"],
}


def _apply(folder: Path, stdlib: Path, name: str, text: str | None) -> None:
    target = stdlib / name if name == "voicemail.ccf" else folder / name
    if text == "keep":
        shutil.copy(ROOT / "stdlib_flows" / name, target)
    elif text is None:
        target.unlink(missing_ok=True)
    else:
        target.write_text(text, encoding="utf-8")


def _same(cached, fresh) -> None:
    assert cached.diagnostics == fresh.diagnostics
    assert cached.ir == fresh.ir
    assert cached.ok == fresh.ok


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.sampled_from([(name, i) for name, texts in VARIANTS.items()
                                       for i in range(len(texts))]),
                      min_size=1, max_size=8),
       strict=st.booleans())
def test_a_cached_result_is_always_what_a_fresh_compile_gives(tmp_path_factory, monkeypatch,
                                                              edits, strict) -> None:
    root = tmp_path_factory.mktemp("stale")
    folder, stdlib = root / "flows", root / "stdlib"
    folder.mkdir()
    shutil.copytree(ROOT / "stdlib_flows", stdlib, ignore=shutil.ignore_patterns("__*"))
    monkeypatch.setattr(flow_files, "stdlib_dir", lambda: str(stdlib))
    _apply(folder, stdlib, "main.ccf", MAIN)
    _apply(folder, stdlib, "billing.ccf", BILLING)
    store = Store(str(root / "cache"))
    chosen = selection(None, None, strict)
    entry = str(folder / "main.ccf")
    for name, index in [("main.ccf", 0), *edits]:
        _apply(folder, stdlib, name, VARIANTS[name][index])
        for lower in (False, True):
            for _ in range(2):  # the first may store, the second is served from the cache
                cached = compile_cached(entry, lower=lower, selection=chosen, store=store)
                _same(cached, pipeline.compile_file(entry, lower=lower, selection=chosen))


def test_two_installations_sharing_a_cache_each_get_their_own_stdlib(tree: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    store = Store(str(tmp_path / "shared-cache"))
    entry = str(tree / "main.ccf")
    results = []
    for name, voicemail in (("one", None), ("two", "flow voicemail:\n  title \"x\"\n")):
        stdlib = tmp_path / name
        shutil.copytree(ROOT / "stdlib_flows", stdlib, ignore=shutil.ignore_patterns("__*"))
        if voicemail is not None:
            (stdlib / "voicemail.ccf").write_text(voicemail, encoding="utf-8")
        monkeypatch.setattr(flow_files, "stdlib_dir", lambda stdlib=stdlib: str(stdlib))
        cached = compile_cached(entry, store=store)
        _same(cached, pipeline.compile_file(entry))
        results.append(cached)
    assert results[0].ir != results[1].ir


def test_the_grammar_tables_are_never_kept_where_others_can_write(tmp_path: Path,
                                                                   monkeypatch) -> None:
    # lark loads its tables with pickle: a file another user could plant is code they run
    from ccdsl.compiler.grammar import _cache_path

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("CCF_CACHE_DIR", str(shared))
    assert _cache_path("grammar") is False
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("CCF_CACHE_DIR", str(blocker / "cache"))
    assert _cache_path("grammar") is False  # not a fixed name in the shared temp folder
    monkeypatch.setenv("CCF_CACHE_DIR", str(tmp_path / "mine"))
    assert _cache_path("grammar") == str(tmp_path / "mine" / f"grammar-{_digest('grammar')}"
                                         ".lark-cache")


def test_no_grammar_tables_are_kept_in_a_read_only_cache(tmp_path: Path, monkeypatch) -> None:
    # as cache_store.check sees the folder (os.access plays the kernel's refusal: CI runs
    # as root, whom it never refuses)
    from ccdsl.compiler.grammar import _cache_path

    folder = tmp_path / "cache"
    (folder / "modules").mkdir(parents=True, mode=0o700)
    folder.chmod(0o700)
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: (
        False if str(path) == str(folder / "modules") and mode & os.W_OK else real(path, mode)))
    monkeypatch.setenv("CCF_CACHE_DIR", str(folder))
    assert _cache_path("grammar") is False


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]
