"""A syntax error inside one test block fails only that test (issue 13): `ccf test` runs
the others and reports the broken one with its diagnostic, JUnit agrees, and `ccf
validate` still fails; a syntax error in the flow itself fails the whole file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ccf_cli import WELCOME_FLOW, ccf

FLOW = WELCOME_FLOW  # desk.ccf

GOOD = """test "GOOD":
  call from "+8613900000001"
  expect played welcome
"""

BROKEN = {
    "a word too many": "  expect played welcome twice\n",
    "a bad indent": "  expect played welcome\n      expect hangup\n",
    "a misspelt statement": "  exepct played welcome\n",
    "an unclosed bracket": "  expect played (welcome\n",
}


def broken(name: str) -> str:
    return f'test "{name}":\n  call from "+8613900000001"\n' + BROKEN[name]


def summary(output: str) -> str:
    [line] = [line for line in output.splitlines()
              if re.fullmatch(r"\d+ passed, \d+ failed", line)]
    return line


def verdicts(output: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"^(ok  |FAIL)  \S+  (.+)$", output, re.MULTILINE)]


def test_each_broken_block_fails_alone_and_the_others_run(tmp_path: Path) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    parts = [GOOD.replace("GOOD", "first")]
    for name in BROKEN:
        parts += [broken(name), GOOD.replace("GOOD", f"after {name}")]
    (tmp_path / "desk.test.ccf").write_text("\n".join(parts), encoding="utf-8")
    report = tmp_path / "junit.xml"
    result = ccf("test", str(tmp_path), "--junit", str(report))
    assert result.exit_code == 1
    assert summary(result.stdout) == "5 passed, 4 failed"
    expected = [("ok  ", "first")]
    for name in BROKEN:
        expected += [("FAIL", name), ("ok  ", f"after {name}")]
    assert verdicts(result.stdout) == expected
    assert "error[E001]: unexpected `twice`; expected the end of the line" in result.stdout
    assert "this `(` is never closed" in result.stdout
    root = ET.parse(report).getroot()
    # a block that does not compile could not run: a JUnit error, not a failure
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("9", "0", "4")
    failing = {c.get("name"): c.find("error") for c in root.iter("testcase")
               if c.find("error") is not None}
    assert sorted(failing) == sorted(BROKEN)
    assert failing["a word too many"].get("type") == "compile"
    assert "E001 unexpected `twice`" in failing["a word too many"].text
    checked = ccf("validate", str(tmp_path))
    assert checked.exit_code == 1
    assert "4 errors" in checked.stdout


def test_a_broken_block_in_the_flow_file_fails_alone(tmp_path: Path) -> None:
    (tmp_path / "desk.ccf").write_text(
        FLOW + "\n" + broken("a word too many") + "\n" + GOOD, encoding="utf-8")
    result = ccf("test", str(tmp_path / "desk.ccf"))
    assert result.exit_code == 1
    assert verdicts(result.stdout) == [("FAIL", "a word too many"), ("ok  ", "GOOD")]


def test_the_rest_of_the_file_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW.replace("  hangup\n", "  goto nowhere\n") + "\n"
                                       + broken("a word too many") + "\n" + GOOD,
                                       encoding="utf-8")
    checked = ccf("validate", str(tmp_path))
    assert checked.exit_code == 1
    assert "unexpected `twice`" in checked.stdout
    assert "error[E100]" in checked.stdout  # the flow's own error, found past the broken test
    result = ccf("test", str(tmp_path))
    assert "the flow does not compile" in result.stdout
    assert summary(result.stdout) == "0 passed, 1 failed"


def test_a_syntax_error_in_the_flow_still_fails_the_whole_file(tmp_path: Path) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW.replace("  play welcome\n", "  play welcome twice\n")
                                       + "\n" + GOOD, encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 1
    assert "the flow does not compile" in result.stdout
    assert summary(result.stdout) == "0 passed, 1 failed"


def test_a_broken_blocks_place_is_written_as_its_tests_are(tmp_path: Path, monkeypatch) -> None:
    # `ccf test .`: the test's line and its diagnostic's `-->` name the file alike
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(broken("a misspelt statement"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".")
    assert "FAIL  desk.test.ccf:1  a misspelt statement" in result.stdout
    assert "--> desk.test.ccf:3:3" in result.stdout


def test_an_empty_block_fails_alone_whatever_follows_it(tmp_path: Path) -> None:
    # a test written as a header only (a placeholder) is reported at the next line at
    # column 0: that error is still the empty block's, not the flow's
    (tmp_path / "desk.ccf").write_text(
        FLOW + '\ntest "to do":\n\n# later\n' + GOOD + '\ntest "also to do":\n',
        encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text('test "empty":\n\n' + GOOD.replace("GOOD", "after"),
                                            encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 1
    assert verdicts(result.stdout) == [("FAIL", "to do"), ("ok  ", "GOOD"),
                                       ("FAIL", "also to do"), ("FAIL", "empty"),
                                       ("ok  ", "after")]
    assert "error[E003]: expected an indented block" in result.stdout


def test_an_empty_block_before_the_flows_own_lines_fails_alone(tmp_path: Path) -> None:
    (tmp_path / "desk.ccf").write_text(
        'test "to do":\n' + FLOW.replace("flow desk:\n  languages en-US\n", "")
        .replace("prompt", "flow desk:\n  languages en-US\n\nprompt", 1) + "\n" + GOOD,
        encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert verdicts(result.stdout) == [("FAIL", "to do"), ("ok  ", "GOOD")]


def test_a_flow_error_at_column_0_after_a_test_still_fails_the_whole_file(
        tmp_path: Path) -> None:
    # the error is at the start of a line, as an empty block's is, but the line is the
    # flow's own: blanking the test before it does not make the file parse
    (tmp_path / "desk.ccf").write_text(FLOW + "\n" + GOOD + "\nstepp foo:\n  hangup\n\n"
                                       + GOOD.replace("GOOD", "after"), encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 1
    assert "the flow does not compile" in result.stdout
    assert "unknown statement `stepp`" in result.stdout
