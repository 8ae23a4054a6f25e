"""A flow named twice on a command line (a folder and a file in it, `./a.ccf` and `a.ccf`, an
absolute path) is one flow: validated, checked for prompts and tested once, under the first name
it was given by."""

from __future__ import annotations

from pathlib import Path

from ccdsl.compiler.flow_files import find_flow_files
from tests.ccf_cli import WELCOME_FLOW, ccf


def test_every_spelling_of_one_file_is_one_flow(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    files, problems = find_flow_files(["desk.ccf", "./desk.ccf", str(tmp_path / "desk.ccf"),
                                       ".", str(tmp_path)])
    assert (files, problems) == (["desk.ccf"], [])


def test_validate_reports_an_error_once_however_often_its_file_is_named(
        tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW.replace("play welcome", "play welcom"),
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "desk.ccf", "./desk.ccf", ".")
    assert result.exit_code == 1
    assert result.output.count("unknown name `welcom`") == 1, result.output
