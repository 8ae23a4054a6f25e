"""A call the simulator ends at its longest is said to be cut off even when the test has a
`hangup` line: one that never took effect (a step the call never entered) let the call run
on to the limit as surely as none does."""

from __future__ import annotations

import json
from pathlib import Path

from cut_off import CUT_OFF, round_and_round, run_loop

FLOW = round_and_round("""test "the caller would hang up at goodbye":
  call from "+8613900000000"
  hangup in_step goodbye
  expect hangup
""", pressed="goto goodbye", steps="""
step goodbye:
  hangup
""")


def test_a_hangup_line_that_never_took_effect_is_no_reason_not_to_say_so(
        tmp_path: Path, monkeypatch) -> None:
    result = run_loop(tmp_path, monkeypatch, FLOW)
    assert result.exit_code == 1, result.output
    [test] = json.loads(result.stdout)["tests"]
    assert test["failures"][0]["happened"] == CUT_OFF
