"""`--format sarif` as GitHub code scanning reads it (docs: "SARIF support for code
scanning"; github/codeql-action's upload-sarif): paths relative to the repository root,
a partialFingerprints.primaryLocationLineHash per result that equals the one
upload-sarif computes (so it neither warns of an inconsistent fingerprint nor sees a
moved warning as a new alert), and no automationDetails, which would override the
workflow's `category`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ccdsl.sarif_fingerprint import line_hashes
from tests.ccf_cli import ccf
from tests.test_diagnostic_formats import sarif_schema

# two W602 warnings, one a line apart
FLOW = """flow desk:
  languages en-US

const unused = 3
const unused_too = 3

prompt welcome:
  en-US tts "Welcome."

on start:
  answer
  play welcome
  hangup
"""


# the values of github/codeql-action's own tests of its fingerprint hash (src/fingerprints.test.ts)
@pytest.mark.parametrize(("text", "hashes"), [
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1",
                            "a23a3dc5e078b07b:1"]),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
     ["8b7cf3e952e7aeb2:1", "b1ae1287ec4718d9:1", "bff680108adb0fcc:1", "c6805c5e1288b612:1",
      "b86d3392aea1be30:1", "e6ceba753e1a442:1"]),
    (" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    (" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    ("Lorem ipsum dolor sit amet.\n" * 10,
     ["a7f2ff13bc495cf2:1", "a7f2ff13bc495cf2:2", "a7f2ff13bc495cf2:3", "a7f2ff13bc495cf2:4",
      "a7f2ff13bc495cf2:5", "a7f2ff13bc495cf2:6", "a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1",
      "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1", "c129715d7a2bc9a3:1"]),
])
def test_line_hashes_are_those_upload_sarif_computes(text: str, hashes: list[str]) -> None:
    assert line_hashes(text) == {n: h for n, h in enumerate(hashes, 1)}


def sarif(*args: str) -> dict:
    result = ccf("validate", *args, "--format", "sarif")
    log = json.loads(result.stdout)
    jsonschema.validate(log, sarif_schema())
    return log


def fingerprints(log: dict) -> dict[tuple[str, int], str]:
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]):
            r["partialFingerprints"]["primaryLocationLineHash"]
            for r in log["runs"][0]["results"]}


def test_each_result_carries_the_hash_of_its_line(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    hashes = line_hashes(FLOW)
    found = fingerprints(sarif("desk.ccf"))
    assert found == {("W602", 4): hashes[4], ("W602", 5): hashes[5]}
    assert found[("W602", 4)] != found[("W602", 5)]


def test_a_warning_moved_down_by_an_edit_above_keeps_its_fingerprint(tmp_path: Path,
                                                                     monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = fingerprints(sarif("desk.ccf"))
    (tmp_path / "desk.ccf").write_text(FLOW.replace("const unused = 3\n",
                                                    "\n# the desk's constants\nconst unused = 3\n"),
                                       encoding="utf-8")
    after = fingerprints(sarif("desk.ccf"))
    assert after == {("W602", 6): before[("W602", 4)], ("W602", 7): before[("W602", 5)]}


def test_a_flow_read_from_stdin_is_fingerprinted_from_its_text(tmp_path: Path,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "-", "--stdin-filename", "desk.ccf", "--format", "sarif",
                 input=FLOW)
    assert fingerprints(json.loads(result.stdout))[("W602", 4)] == line_hashes(FLOW)[4]


def test_paths_are_relative_to_the_repository_root_from_a_subfolder(tmp_path: Path,
                                                                    monkeypatch) -> None:
    # GitHub resolves a relative uri against the repository's root, not ccf's working folder
    (tmp_path / ".git").mkdir()
    centre = tmp_path / "centre" / "flows"
    centre.mkdir(parents=True)
    (centre / "desk.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "centre")
    run = sarif("flows")["runs"][0]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]} == {"centre/flows/desk.ccf"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def test_a_worktree_or_submodule_git_file_marks_the_root_too(tmp_path: Path,
                                                            monkeypatch) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "desk.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "sub")
    [uri] = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
             for r in sarif("desk.ccf")["runs"][0]["results"]}
    assert uri == "sub/desk.ccf"


def test_no_automation_details_so_the_workflow_category_applies(tmp_path: Path,
                                                                monkeypatch) -> None:
    # upload-sarif fills runs[].automationDetails.id from its `category` input only where
    # the log has none: one ccf set would make two uploads (a matrix) overwrite each other
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [run] = sarif("desk.ccf")["runs"]
    assert "automationDetails" not in run
    assert run["tool"]["driver"]["name"] == "ccf"
    for rule in run["tool"]["driver"]["rules"]:  # what an alert shows at its top
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["markdown"]
