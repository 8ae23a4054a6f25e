"""Computed map keys (`{"${call.language}": 5}`) on both runtimes, and record ids.

tests/scenarios/computed_keys_line.ccf runs on the simulator with every
scenario (tests/test_scenarios.py); here it runs through `ccf serve` and the
FastAGI test peer too, and the failures of a key are looked at."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from ccf_cli import ccf

from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.parser import parse_source
from ccdsl.compiler.pipeline import compile_file
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
LINE = ROOT / "tests" / "scenarios" / "computed_keys_line.ccf"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keys.ccf"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_computed_skill_rings_the_agent_who_has_it_through_serve() -> None:
    result = ccf("test", str(LINE), "--via", "asterisk")
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output


QUEUED = """\
    flow queued:
      languages en-US, zh-CN

    queue service skills {general: 1, "${call.language}": 5}

    on start:
      answer
      queue service on error -> log "refused"
      hangup

    test "a Chinese caller waits for the agent who speaks Chinese":
      agent ann skills {general: 5, "en-US": 5}
      agent li skills {general: 5, "zh-CN": 5}
      call from "+8613800000001" language "zh-CN"
      expect answered by li
    """


def test_a_queue_with_a_computed_skill_gets_its_members_in_the_simulator(tmp_path: Path) -> None:
    path = _write(tmp_path, QUEUED)
    result = ccf("test", str(path))
    assert result.exit_code == 0, result.output


def test_a_queue_with_a_computed_skill_is_refused_on_asterisk_with_the_reason(
        tmp_path: Path) -> None:
    # app_queue rings the members ccf serve added by the declared skills; it
    # cannot pick by a skill known only when the call runs
    path = _write(tmp_path, QUEUED)
    result = ccf("test", str(path), "-v", "--via", "asterisk")
    assert result.exit_code == 1
    assert "Asterisk cannot choose the agents of queue service per call" in result.output
    assert "this call asks for general 1+, zh-CN 5+" in result.output


def test_the_ir_keeps_written_keys_in_map_and_computed_ones_in_keys(tmp_path: Path) -> None:
    ir = compile_file(str(_write(tmp_path, QUEUED))).ir
    skills = ir["queues"]["service"]["options"]["skills"]
    assert skills["map"] == {"general": {"lit": 1, "type": "number"}}
    [entry] = skills["keys"]
    assert entry["key"] == {"interp": [{"field": {"builtin": "call"}, "name": "language"}]}
    assert entry["value"] == {"lit": 5, "type": "number"}


def test_a_computed_key_is_formatted_as_written() -> None:
    module, _ = parse_source(SourceFile("k.ccf", 'flow k\nconst m = {"lang-${x}": 1, a: 2}\n'))
    const = module.items[-1]
    assert format_expr(const.value) == '{"lang-${x}": 1, a: 2}'


def test_a_key_that_is_null_is_a_flow_error_with_a_clear_message(tmp_path: Path) -> None:
    # a sub-flow's parameter is untyped, so the checker cannot see the null
    path = _write(tmp_path, """\
        flow keys:
          languages en-US

        on start:
          answer
          levels = make(null)
          log "${levels}"
          hangup

        on error:
          log "handled"
          hangup

        sub make(lang):
          return {"${lang}": 5}
        """)
    out = ccf("simulate", str(path), "--format", "json").output
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [error] = [e for e in events if e["kind"] == "error"]
    assert error["data"]["message"].startswith("a computed map key is null")
    assert [e["data"]["message"] for e in events if e["kind"] == "log"] == ["handled"]


def test_a_key_that_is_not_text_is_a_flow_error(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
        flow keys:
          languages en-US

        on start:
          answer
          levels = make(3)
          hangup

        sub make(lang):
          return {"${lang}": 5}
        """)
    out = ccf("simulate", str(path), "--format", "json").output
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    [error] = [e for e in events if e["kind"] == "error"]
    assert error["data"]["message"] == "a computed map key must be text, not number 3"


def test_the_checker_refuses_a_key_that_is_a_number_or_may_be_null(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
        flow keys:
          languages en-US

        queue service skills {"${caller.name}": 5}

        on start:
          answer
          n = 3
          m = {"${n}": 1, "level-${n}": 2}
          log "${m}"
          queue service
          hangup
        """)
    found = [(d.code, d.message) for d in compile_file(str(path), lower=False).diagnostics]
    assert ("E300", "a map key is text, not number") in found
    assert ("E304", "a map key needs a value, but `caller.name` may be null (text?)") in found
    assert len([c for c, _ in found if c.startswith("E")]) == 2


def test_a_declared_record_type_has_an_id(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
        flow ids:
          languages en-US

        record account:
          phone: text

        on start:
          answer
          acct = crm.create("account", phone: caller.number) on error -> hangup
          log "created ${acct.id}"
          if acct.id == 7:
            hangup
          hangup
        """)
    found = [(d.code, d.message) for d in compile_file(str(path), lower=False).diagnostics]
    # `id` is a field (no E105), and it is text
    assert found == [("E300", "cannot compare text with number: they are never equal")]
