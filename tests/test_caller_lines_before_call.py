"""A caller's line (`press`, `silence`, `speak`, `hangup`) above a test's `call` line is
E303: the caller acts during the call, so a press written before it was quietly moved
after it. `ccf validate` and `ccf test` report it alike (the language server in
tests/lsp/test_caller_lines.py)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

from ccdsl.compiler.pipeline import compile_file

TESTS = """
test "menu":
  press "1"
  call from "+8613900000001"
  expect played welcome
"""


def flow_with(tmp_path: Path, tests: str) -> Path:
    path = tmp_path / "desk.ccf"
    path.write_text(WELCOME_FLOW + textwrap.dedent(tests), encoding="utf-8")
    return path


def errors(path: Path) -> list:
    return [d for d in compile_file(str(path), lower=False).diagnostics if d.is_error]


@pytest.mark.parametrize("line", ['press "1"', "silence 3s", "speak 2s", "hangup"])
def test_a_caller_line_above_the_call_is_e303(tmp_path: Path, line: str) -> None:
    path = flow_with(tmp_path, f"""
        test "early":
          {line}
          call from "+8613900000001"
          expect played welcome
        """)
    found = errors(path)
    assert [(d.code, d.span.line) for d in found] == [("E303", 13)]
    word = line.split()[0]
    assert found[0].message == f"`{word}` acts during the call: it comes after the `call` line"


def test_caller_lines_after_the_call_are_quiet(tmp_path: Path) -> None:
    assert errors(flow_with(tmp_path, """
        test "menu":
          call from "+8613900000001"
          press "1"
          silence 3s
          hangup
          expect played welcome
        """)) == []


def test_validate_reports_it(tmp_path: Path) -> None:
    path = flow_with(tmp_path, TESTS)
    result = ccf("validate", "--format", "json", str(path))
    assert result.exit_code == 1
    [diag] = json.loads(result.stdout)
    assert (diag["code"], diag["line"]) == ("E303", 13)
    assert "after the `call` line" in diag["message"]


def test_ccf_test_refuses_to_run_it(tmp_path: Path) -> None:
    path = flow_with(tmp_path, TESTS)
    result = ccf("test", str(path))
    assert result.exit_code == 1
    assert "E303" in result.output and "after the `call` line" in result.output
    assert "1 passed" not in result.output
