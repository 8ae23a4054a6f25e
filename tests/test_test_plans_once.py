"""`ccf test` plans each flow's tests once and asks -k about each test once: the plan that
counted the selected tests (for the progress bar and "-k selects none") is the one run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ccf_cli import ccf

import ccdsl.cli.test as test_cli

FLOW = """flow desk

on start:
  answer
  hangup

test "vip caller":
  call from "+8613900000000"
  expect hangup

test "plain caller":
  call from "+8613900000001"
  expect hangup
"""


def test_each_flow_is_planned_once_and_each_test_selected_once(tmp_path: Path,
                                                               monkeypatch) -> None:
    for name in ("desk", "front"):
        (tmp_path / f"{name}.ccf").write_text(FLOW.replace("desk", name), encoding="utf-8")
    plans, selections = Counter(), Counter()
    planned, selected = test_cli._planned, test_cli._selected
    monkeypatch.setattr(test_cli, "_planned",
                        lambda run: plans.update([run.path]) or planned(run))
    monkeypatch.setattr(test_cli, "_selected",
                        lambda s, p, root: selections.update([(p.loc["file"], p.name)])
                        or selected(s, p, root))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CCF_CACHE_DIR", str(tmp_path / "cache"))
    result = ccf("test", "-k", "vip", ".")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 passed, 0 failed, 2 deselected"
    assert sorted(plans.values()) == [1, 1]
    assert len(selections) == 4 and set(selections.values()) == {1}
