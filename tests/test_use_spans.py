"""A `use` line's diagnostics cover that line only: the places JSON, GitHub annotations,
SARIF and the editor mark end where the line's text does, not at the next declaration
(the line's newline and the blank lines after it belong to no declaration)."""

from __future__ import annotations

import json

from tests.ccf_cli import ccf

FLOW = """flow desk:
  languages de-DE, en-US

use biling  # a typo
use stdlib.survey

const x = 1

on start:
  answer
  hangup
"""


def test_a_use_lines_diagnostics_end_on_that_line(tmp_path) -> None:
    (tmp_path / "billing.ccf").write_text("flow billing:\n  languages en-US\n",
                                          encoding="utf-8")
    flow = tmp_path / "desk.ccf"
    flow.write_text(FLOW, encoding="utf-8")
    result = ccf("validate", str(flow), "--format", "json")
    found = {d["code"]: d for d in json.loads(result.stdout)}
    assert (found["E103"]["line"], found["E103"]["column"]) == (4, 1)
    assert (found["E103"]["end_line"], found["E103"]["end_column"]) == (4, 11)
    assert (found["W404"]["line"], found["W404"]["column"]) == (5, 1)
    assert (found["W404"]["end_line"], found["W404"]["end_column"]) == (5, 18)


def test_the_github_annotation_of_a_use_line_is_one_line(tmp_path) -> None:
    flow = tmp_path / "desk.ccf"
    flow.write_text(FLOW, encoding="utf-8")
    result = ccf("validate", str(flow), "--format", "github")
    line = next(x for x in result.stdout.splitlines() if "title=W404" in x)
    assert "line=5,col=1,endLine=5,endColumn=18," in line
