"""A test of a file with no `on start` names the flow it tests, and says "this file" when
the file has no `flow` header to name it by (an empty name in backquotes says nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from ccf_cli import ccf

SUBS = """prompt hi:
  en-US tts "hi"

sub greet():
  play hi

test "a":
  call from "+8613800000000"
  expect played hi
"""


def test_a_startless_file_without_a_header_is_not_named_as_an_empty_flow(
        tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "subs.ccf").write_text(SUBS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "subs.ccf", "--format", "json")
    [e303] = [d for d in json.loads(result.stdout) if d["code"] == "E303"]
    assert e303["message"] == ('test "a": this file has no `on start`, so a call has nowhere '
                               "to begin")


def test_a_startless_flow_is_named(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "subs.ccf").write_text("flow subs:\n  languages en-US\n\n" + SUBS,
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "subs.ccf", "--format", "json")
    [e303] = [d for d in json.loads(result.stdout) if d["code"] == "E303"]
    assert e303["message"].startswith('test "a": the flow `subs` has no `on start`')
