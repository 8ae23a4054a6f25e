"""`ccf deploy --dry-run` shows what changed in a flow, not only that it
did: a unified diff of its source against the deployed version and the
steps, prompts and queues added, removed or changed; coloured only on a
terminal. A flow is the same flow whichever path names it: a relative and
an absolute path to the same files change nothing. A real flow store in a
temporary folder, `ccf deploy --no-apply` as a user runs it."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from ccf_cli import ccf

from asterisk.test_deploy import write_config
from ccdsl.runtime.asterisk.flow_changes import identity, ir_changes

GREET = """\
flow greet:
  languages en-US

use util

prompt bye:
  en-US tts "Goodbye."

on start:
  answer
  util.hello()
  goto done

step done:
  play bye
  hangup
"""

UTIL = """\
flow util:
  languages en-US

prompt welcome:
  en-US tts "Hello."

sub hello():
  play welcome
"""


@pytest.fixture
def centre(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A folder of flows beside a ccf.toml; the working directory is tmp_path."""
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "greet.ccf").write_text(GREET, encoding="utf-8")
    (folder / "util.ccf").write_text(UTIL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return folder, write_config(tmp_path, numbers='"4008001234" = "greet"')


def deploy(path: str, config: Path, *args: str):
    result = ccf("deploy", path, "-c", str(config), *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_same_flows_by_a_relative_and_an_absolute_path_are_unchanged(centre) -> None:
    folder, config = centre
    deploy("flows", config, "--no-apply")
    out = deploy(str(folder.resolve()), config, "--dry-run")
    assert "unchanged  greet" in out, out
    assert "changed    greet" not in out
    deploy(str(folder.resolve()), config, "--no-apply")
    assert "unchanged  greet" in deploy("./flows", config, "--dry-run")


def test_a_changed_flow_shows_its_diff_and_what_changed(centre) -> None:
    folder, config = centre
    deploy("flows", config, "--no-apply")
    (folder / "greet.ccf").write_text(GREET.replace('"Goodbye."', '"Goodbye, see you."')
                                      + "\nstep extra:\n  hangup\n", encoding="utf-8")
    (folder / "util.ccf").write_text(UTIL.replace('"Hello."', '"Hello there."'),
                                     encoding="utf-8")
    out = deploy(str(folder.resolve()), config, "--dry-run")
    assert "changed    greet" in out
    assert "steps added: extra" in out
    assert "prompts changed: bye" in out
    assert "subs changed: util.hello" in out or "prompts changed: bye, util.welcome" in out
    lines = out.splitlines()
    assert "--- greet.ccf (version 0001)" in lines and "+++ greet.ccf (new)" in lines
    assert '-  en-US tts "Goodbye."' in lines
    assert '+  en-US tts "Goodbye, see you."' in lines
    assert "+step extra:" in lines
    assert "--- util.ccf (version 0001)" in lines
    assert '+  en-US tts "Hello there."' in lines
    assert "\x1b[" not in out  # not a terminal: no colour


def test_a_version_without_kept_sources_still_says_what_changed(centre) -> None:
    folder, config = centre
    deploy("flows", config, "--no-apply")
    # a store written before sources were kept with each version
    for kept in (config.parent / "store").rglob("*.sources.json"):
        kept.unlink()
    (folder / "greet.ccf").write_text(GREET + "\nstep extra:\n  hangup\n", encoding="utf-8")
    out = deploy("flows", config, "--dry-run")
    assert "steps added: extra" in out
    assert "version 0001 kept no sources" in out


def test_identity_ignores_where_the_files_were_named_from() -> None:
    from ccdsl.compiler.pipeline import compile_file

    here = Path(__file__).resolve().parents[2] / "examples" / "iws" / "hotline.ccf"
    relative = os.path.relpath(here)
    one = compile_file(str(here)).ir
    two = compile_file(relative).ir
    assert one != two  # the paths as given differ
    assert identity(one) == identity(two)
    assert ir_changes(one, two) == []


def test_ir_changes_name_the_parts() -> None:
    old = {"steps": {"a": {"ops": [1], "loc": {"line": 1}}, "b": {"ops": [2]}},
           "prompts": {"p": {"text": "x"}}}
    new = {"steps": {"a": {"ops": [1], "loc": {"line": 9}}, "c": {"ops": [3]}},
           "prompts": {"p": {"text": "y"}}}
    assert ir_changes(old, new) == ["steps added: c", "steps removed: b", "prompts changed: p"]


def test_colour_only_on_a_terminal() -> None:
    from ccdsl.cli.deploy import diff_lines

    text = textwrap.dedent("""\
        --- a (version 0001)
        +++ a (new)
        @@ -1 +1 @@
        -old
        +new
        """)
    assert diff_lines(text, colour=False) == text
    coloured = diff_lines(text, colour=True)
    assert "\x1b[31m-old" in coloured and "\x1b[32m+new" in coloured
