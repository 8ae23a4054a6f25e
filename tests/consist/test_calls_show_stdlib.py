"""`ccf calls show` run outside the repository quotes the standard library's lines too: a
step in stdlib_flows/NAME.ccf is read from the installed package, not from the user's folder
(where it is not)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ccf_cli import ccf

from ccdsl.compiler.flow_files import stdlib_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_path_through_the_flow_quotes_stdlib_lines(tmp_path, monkeypatch):
    shutil.copy(ROOT / "tests" / "scenarios" / "after_hours_line.ccf", tmp_path)
    monkeypatch.chdir(tmp_path)  # no stdlib_flows/ here
    store = tmp_path / "calls.db"
    ran = ccf("simulate", "after_hours_line.ccf", "--at", "2026-11-30 22:00 Asia/Shanghai",
              "--press", "1", "--store", str(store))
    assert ran.exit_code == 0, ran.output
    shown = ccf("calls", "show", "sim-1", "--store", str(store))
    assert shown.exit_code == 0, shown.output
    path = shown.output.split("Path through the flow:\n", 1)[1].split("\n\n", 1)[0]
    stdlib = [line for line in path.splitlines() if "stdlib_flows/" in line]
    assert stdlib, path
    library = Path(stdlib_dir())
    for line in stdlib:
        where, quoted = line.split("|", 1)
        name, number = where.split()[-1].removeprefix("stdlib_flows/").rsplit(":", 1)
        expected = (library / name).read_text(encoding="utf-8").splitlines()[int(number) - 1]
        assert quoted.strip() == expected.strip() != "", line
