"""`ccf validate` run as a process ends at once after writing its output (cli/main.py):
the same output and exit status as in-process, and only validate, only from the
process's entry point, skips the interpreter's exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ccf_cli import ccf

GOOD = "flow demo\n\non start:\n  answer\n  hangup\n"
BAD = "flow demo\n\non start:\n  answer\n  goto nowhere\n"

# an atexit hook shows whether the interpreter's own exit ran
PROBE = ("import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('[atexit ran]'))\n"
         "from ccdsl.cli.main import main\n"
         "sys.argv = ['ccf', *sys.argv[1:]]\n"
         "main({argv})\n")


def _run(args: list[str], argv: str = "None", cache: Path | None = None):
    env = dict(os.environ, NO_COLOR="1")
    if cache is not None:
        env["CCF_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-c", PROBE.format(argv=argv), *args],
                          capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    (tmp_path / "good.ccf").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.ccf").write_text(BAD, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["validate", "--no-cache", "good.ccf"],
    ["validate", "--no-cache", "bad.ccf"],
    ["validate", "--no-cache", "--format", "json", "bad.ccf"],
    ["validate", "--no-cache", "missing.ccf"],
])
def test_validate_ends_at_once_with_the_in_process_output(flows: Path, args: list[str],
                                                          monkeypatch) -> None:
    monkeypatch.chdir(flows)
    done = _run(args)
    assert "[atexit ran]" not in done.stderr
    inside = ccf(*args)
    assert done.returncode == inside.exit_code
    assert done.stdout == inside.stdout


def test_the_cache_written_before_the_end_is_read_back(flows: Path, tmp_path: Path,
                                                      monkeypatch) -> None:
    monkeypatch.chdir(flows)
    cache = tmp_path / "cache"
    first = _run(["validate", "bad.ccf"], cache=cache)
    again = _run(["validate", "bad.ccf"], cache=cache)
    assert any(p.is_file() for p in cache.rglob("*"))
    assert (first.returncode, first.stdout) == (again.returncode, again.stdout)
    assert first.returncode == 1


def test_other_commands_and_in_process_callers_exit_normally(flows: Path, monkeypatch) -> None:
    monkeypatch.chdir(flows)
    assert "[atexit ran]" in _run(["fmt", "--check", "good.ccf"]).stderr
    # main(argv) is an in-process call: it raises SystemExit to its caller
    assert "[atexit ran]" in _run(["validate", "--no-cache", "good.ccf"],
                                  argv="['validate', '--no-cache', 'good.ccf']").stderr
