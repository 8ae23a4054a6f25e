"""A diagnostic printed for people (`--format text` or `concise`) shows a file name with a
control character in it escaped, whatever the command: the name is whoever made the file's,
and an ESC in it would drive the terminal (its title, its colours)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

NAME = "d\x1b]0;x\x07esk.ccf"
TWICE = '\ntest "welcome":\n  call from "+8613900000000"\n  expect played welcome\n'


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / NAME).write_text(WELCOME_FLOW + TWICE + TWICE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_validate_shows_the_file_name_escaped(folder: Path, fmt: str) -> None:
    result = ccf("validate", ".", "--format", fmt)
    assert result.exit_code == 0
    said = result.stdout + result.stderr
    assert "W605" in said
    assert "\x1b" not in said and "\x07" not in said
    assert "d\\x1b]0;x\\x07esk.ccf:16:6" in said


def test_the_quoted_line_is_still_found_under_the_escaped_name(folder: Path) -> None:
    result = ccf("validate", ".")
    assert '16 | test "welcome":' in result.stdout + result.stderr


def test_json_keeps_the_file_name_as_it_is(folder: Path) -> None:
    # data for tools, not a terminal: the name a program opens the file by
    [diag] = json.loads(ccf("validate", ".", "--format", "json").stdout)
    assert Path(diag["file"]).name == NAME


def test_the_quoted_source_line_shows_a_control_character_escaped_with_the_caret_under_the_span(
        tmp_path: Path, monkeypatch) -> None:
    # an escape sequence in a comment of a flow from elsewhere must not drive the terminal when
    # the line is quoted; the caret stays under the misspelt name, past the longer escape
    flow = WELCOME_FLOW.replace("  play welcome", "  play welcom  # \x1b]0;owned\x07")
    (tmp_path / "desk.ccf").write_text(flow, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    said = ccf("validate", ".").output
    assert "\x1b" not in said and "\x07" not in said, said
    quoted = next(line for line in said.splitlines() if "play welcom" in line)
    assert quoted.endswith("play welcom  # \\x1b]0;owned\\x07")
    caret = said.splitlines()[said.splitlines().index(quoted) + 1]
    assert caret.index("^") == quoted.index("welcom") and caret.count("^") == len("welcom")


def test_a_control_character_before_the_span_moves_the_caret_by_its_escape() -> None:
    from ccdsl.diagnostics import Diagnostic, Severity
    from ccdsl.render import render_text_one
    from ccdsl.source import SourceFile, Span

    source = SourceFile("f.ccf", 'flow f:\n  title "\x1b[2Jx" bad\n')
    column = source.text.splitlines()[1].index("bad") + 1
    diag = Diagnostic("E100", "unexpected", Span("f.ccf", 2, column, 2, column + 3),
                      severity=Severity.ERROR)
    lines = render_text_one(diag, {"f.ccf": source}).splitlines()
    quoted = next(line for line in lines if "bad" in line)
    assert "\x1b" not in quoted and '"\\x1b[2Jx" bad' in quoted
    assert lines[lines.index(quoted) + 1].index("^^^") == quoted.index("bad")


def test_a_help_line_naming_the_file_shows_it_escaped(tmp_path: Path, monkeypatch) -> None:
    # a declaration in NAME.test.ccf: the help names the flow file to move it into
    (tmp_path / NAME).write_text(WELCOME_FLOW, encoding="utf-8")
    (tmp_path / NAME.replace(".ccf", ".test.ccf")).write_text(
        'prompt bye:\n  en-US tts "Bye."\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    said = ccf("validate", NAME).output
    assert "help: move this declaration into d\\x1b]0;x\\x07esk.ccf" in said, said
    assert "\x1b" not in said and "\x07" not in said


def test_a_failing_test_quotes_its_line_escaped_with_the_caret_under_it(
        tmp_path: Path, monkeypatch) -> None:
    # `ccf test` quotes the expectation that failed as a diagnostic quotes its line: an
    # escape sequence in that line's comment is shown, not acted on
    flow = WELCOME_FLOW + ('\ntest "t":\n  call from "+8613900000000"\n'
                           '  expect heard "Goodbye."  # \x1b]0;owned\x07\n')
    (tmp_path / "desk.ccf").write_text(flow, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    said = ccf("test", "desk.ccf").output
    assert "\x1b" not in said and "\x07" not in said, said
    quoted = next(line for line in said.splitlines() if "expect heard" in line and " | " in line)
    assert quoted.endswith("# \\x1b]0;owned\\x07")
