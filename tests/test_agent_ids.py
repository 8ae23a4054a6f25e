"""Agent ids are letters, digits, `_` and `-` everywhere: they name Asterisk's
queue members and may fill the Dial() interface template (`{agent}`), so an
agents file and a test refuse any other id at once, where `ccf serve` would
only log that the agent is no queue member and the test passed in the
simulator and failed through the FastAGI peer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.operations.agents_file import load_agents

FLOW = """\
    flow clinic:
      languages zh-CN

    queue 内科 skills [内科] max_wait 2m

    on start:
      answer
      queue 内科
      hangup

    test "内科":
      agent {agent} skills [内科] state "available"
      call from "+8613800000001"
      expect answered by {agent}
    """


def test_a_test_agent_with_an_id_asterisk_cannot_name_is_e303(tmp_path: Path) -> None:
    path = tmp_path / "clinic.ccf"
    path.write_text(textwrap.dedent(FLOW).replace("{agent}", "王"), encoding="utf-8")
    found = [(d.code, d.message, d.span.line) for d in compile_file(str(path)).diagnostics]
    assert ("E303", "agent id `王` may only use ASCII letters, digits, `_` and `-`", 12) in found


def test_an_ascii_test_agent_is_fine_whatever_script_the_flow_uses(tmp_path: Path) -> None:
    path = tmp_path / "clinic.ccf"
    path.write_text(textwrap.dedent(FLOW).replace("{agent}", "wang_2"), encoding="utf-8")
    assert not compile_file(str(path)).diagnostics


@pytest.mark.parametrize("bad", ["王", "li na", "zhang.wei"])
def test_an_agents_file_refuses_an_id_asterisk_cannot_name(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(f'[[agents]]\nid = "{bad}"\nextension = "8001"\n', encoding="utf-8")
    with pytest.raises(InputError, match="may only use ASCII letters, digits, `_` and `-`"):
        load_agents(str(path))
