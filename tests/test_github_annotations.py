"""`--format github` with hostile text: a flow's own words (a test's name) quoted in a
message, and a file name with `,` and `:`, come back whole when read as the Actions
runner reads a workflow command (properties split at `,` and `=`, then unescaped)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.ccf_cli import WELCOME_FLOW, ccf

NAME = 'a, b: 100%0A done %25 ::error file=x.ccf::gotcha'
FLOW = WELCOME_FLOW + f"""
test "{NAME}":
  call from "+8613900000000"
  expect played welcome

test "{NAME}":
  call from "+8613900000000"
  expect played welcome
"""
COMMAND = re.compile(r"^::(error|warning) ([^:]*)::(.*)$")


def unescape(text: str, *, prop: bool) -> str:
    """The runner's unescaping (actions/runner's ActionCommand): %25 last."""
    pairs = [("%0D", "\r"), ("%0A", "\n")]
    if prop:
        pairs += [("%3A", ":"), ("%2C", ",")]
    for escaped, plain in pairs + [("%25", "%")]:
        text = text.replace(escaped, plain)
    return text


def test_hostile_text_survives_the_runner(tmp_path: Path, monkeypatch) -> None:
    name = "desk, v2:final.ccf"
    (tmp_path / name).write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    lines = ccf("validate", name, "--format", "github").stdout.splitlines()
    [diag] = json.loads(ccf("validate", name, "--format", "json").stdout)
    assert len(lines) == 1  # one command: no newline of the message escapes it
    level, props, message = COMMAND.match(lines[0]).groups()
    assert level == "warning"
    fields = dict(item.split("=", 1) for item in props.split(","))
    assert unescape(fields["file"], prop=True) == name
    assert (fields["line"], fields["col"], fields["title"]) == ("16", "6", "W605")
    assert unescape(message, prop=False) == "\n".join(
        [diag["message"], f"help: {diag['help']}", *(f"note: {n}" for n in diag["notes"])])
    assert NAME in unescape(message, prop=False)
