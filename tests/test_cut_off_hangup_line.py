"""A call the simulator ends at its longest is said to be cut off even when the test has a
`hangup` line: one that never took effect (a step the call never entered) let the call run
on to the limit as surely as none does."""

from __future__ import annotations

import json
from pathlib import Path

from ccf_cli import ccf

FLOW = """flow loop:
  languages en-US

prompt hi:
  en-US tts "Hi."

on start:
  answer
  goto again

step again:
  menu retries 1 timeout 5s:
    prompt hi
    1 -> goto goodbye
    timeout, invalid -> play hi
    exhausted -> goto again
  goto again

step goodbye:
  hangup

test "the caller would hang up at goodbye":
  call from "+8613900000000"
  hangup in_step goodbye
  expect hangup
"""


def test_a_hangup_line_that_never_took_effect_is_no_reason_not_to_say_so(
        tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "loop.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", "loop.ccf", "--format", "json")
    assert result.exit_code == 1, result.output
    [test] = json.loads(result.stdout)["tests"]
    assert test["failures"][0]["happened"] == (
        "the flow did not hang up; the call was still going after 2 hours, the longest a "
        "test's call runs, and was ended there as if the caller hung up")
