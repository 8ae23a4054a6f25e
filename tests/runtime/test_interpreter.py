"""The interpreter runs compiled flows with the semantics of docs/runtime.md."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from scripted_channel import HANGUP, History, ScriptedChannel, compile_flow, run_flow

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import IRError
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.services import RuntimeConfig

HEAD = "flow t:\n  languages en-US, zh-CN\n\n"


def flow(tmp_path, body: str):
    return compile_flow(tmp_path, HEAD + body)


MENU = HEAD + """\
prompt choices:
  en-US tts "Press 1 or 2."
  zh-CN tts "请按1或2。"

on start:
  answer
  goto main

step main:
  menu retries 2 timeout 5s:
    prompt choices
    1 -> log "one"
    2 -> goto two
    timeout -> log "timeout"
    invalid -> log "invalid"
    exhausted -> log "exhausted"
  log "after menu"
  hangup

step two:
  log "two"
  hangup
"""


def test_menu_key_runs_its_arm_then_continues_after_the_menu(tmp_path):
    run = run_flow(compile_flow(tmp_path, MENU), keys=["1"])
    assert run.logs() == ["one", "after menu"]
    assert run.result.outcome == "hangup" and run.result.hung_up_by == "flow"


def test_menu_retries_then_exhausted(tmp_path):
    run = run_flow(compile_flow(tmp_path, MENU), keys=[None, "7", None])
    assert run.logs() == ["timeout", "invalid", "timeout", "exhausted", "after menu"]
    choices = [e.data["key"] for e in run.of("menu_choice")]
    assert choices == ["timeout", "invalid", "timeout", "exhausted"]
    assert len([w for w, _ in run.channel.log if w == "read"]) == 3  # retries 2: three tries


def test_menu_goto_leaves_the_step(tmp_path):
    run = run_flow(compile_flow(tmp_path, MENU), keys=["2"])
    assert run.logs() == ["two"]
    assert [e.data["step"] for e in run.of("step_entered")] == ["main", "two"]


def test_prompt_follows_the_call_language(tmp_path):
    program = flow(tmp_path, """\
prompt hi:
  en-US tts "Hello."
  zh-CN tts "你好。"

on start:
  play hi
  language "zh-CN"
  play hi barge_in false
  hangup
""")
    run = run_flow(program)
    plays = [(w, d) for w, d in run.channel.log if w == "play"]
    assert [d[0].text for _, d in plays] == ["Hello.", "你好。"]
    assert plays[1][1][0].language == "zh-CN"
    assert [e.data["prompt"] for e in run.of("prompt_played")] == ["hi", "hi"]


def test_collect_validates_with_the_pattern_and_retries(tmp_path):
    program = flow(tmp_path, """\
on start:
  pin = collect digits 4..6 end "#" retries 2 pattern "1[0-9]+" \
    invalid_prompt tts "Bad." prompt tts "PIN?"
  log "pin ${pin}"
  hangup
""")
    run = run_flow(program, keys=["99#", "2345#", "12345#"])
    assert run.logs() == ["pin 12345"]
    assert run.channel.heard().count("Bad.") == 2
    assert run.of("collected")[0].data == {"name": "pin", "value": "12345", "attempts": 3}


def test_collect_is_null_after_the_retries(tmp_path):
    program = flow(tmp_path, """\
on start:
  code = collect digits 3 retries 1 prompt tts "Code?"
  if code == null:
    log "nothing"
  hangup
""")
    run = run_flow(program, keys=["", "12"])
    assert run.logs() == ["nothing"]
    assert run.result.variables["code"] is None


def test_sub_flow_has_its_own_variables_and_returns_a_value(tmp_path):
    program = flow(tmp_path, """\
sub double(n):
  x = n * 2
  return x

sub nothing():
  y = 1

on start:
  x = 5
  d = double(n: 21)
  z = nothing()
  log "${x} ${d} ${z}"
  hangup
""")
    run = run_flow(program)
    assert run.logs() == ["5 42 "]
    assert "y" not in run.result.variables


def test_on_error_path_runs_instead_of_the_error_handler(tmp_path):
    program = flow(tmp_path, """\
on start:
  n = to_number("x")
  m = 10 / (n ?? 0) on error -> m = -1
  log "m=${m}"
  hangup

on error:
  log "handler"
  hangup
""")
    run = run_flow(program)
    assert run.logs() == ["m=-1"]
    error = run.of("error")[0]
    assert error.data["handled"] is True and error.loc["line"] == 6


def test_failure_without_on_error_runs_the_error_handler(tmp_path):
    program = flow(tmp_path, """\
on start:
  n = 0
  m = 10 / n
  hangup

on error:
  log "handler ran"
  hangup
""")
    run = run_flow(program)
    assert run.logs() == ["handler ran"]
    assert run.result.outcome == "error"
    assert run.of("error")[0].loc["line"] == 6
    assert "division by zero" in run.result.error


def test_failure_without_error_handler_ends_the_call(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  n = 0
  m = 10 / n
  play tts "never"
  hangup
""")
    run = run_flow(program)
    assert run.result.outcome == "error"
    assert "never" not in run.channel.heard()
    assert ("hangup", None) in run.channel.log
    assert run.kinds()[-1] == "call_ended"


def test_step_budget_stops_a_runaway_flow(tmp_path):
    program = flow(tmp_path, """\
on start:
  goto loop

step loop:
  menu retries 0 timeout 1s:
    prompt tts "Again?"
    1 -> goto loop
    timeout, invalid -> goto loop
  goto loop

on error:
  log "the error handler must not run for a spent budget"
  hangup
""")
    run = run_flow(program, keys=["1"] * 100, config=RuntimeConfig(step_budget=20))
    assert run.result.outcome == "error"
    error = run.of("error")[0]
    assert error.data["kind"] == "step_budget" and error.loc is not None
    assert run.logs() == []


def test_caller_hang_up_mid_menu_runs_on_hangup_once_without_the_line(tmp_path):
    # the checker refuses this (E208 follows the sub-flow); an IR from elsewhere may not
    program = compile_flow(tmp_path, HEAD + """\
on start:
  answer
  menu retries 1 timeout 5s:
    prompt tts "Choose."
    1 -> hangup
    timeout, invalid -> log "again"
  hangup

on hangup:
  log "bye ${caller.number}"
  goodbye()
  log "not reached"

sub goodbye():
  play tts "nobody hears this"
  return null
""", allow=frozenset({"E208"}))
    run = run_flow(program, keys=[HANGUP])
    assert run.result.outcome == "hangup" and run.result.hung_up_by == "caller"
    assert run.logs() == ["bye +8613800000001"]
    assert run.of("handler_entered")[-1].data == {"handler": "hangup"}
    assert "nobody hears this" not in run.channel.heard()
    assert run.kinds()[-1] == "call_ended"


def test_flow_hang_up_runs_on_hangup_after_the_line_is_closed(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  hangup

on hangup:
  log "done"
""")
    run = run_flow(program)
    assert run.logs() == ["done"]
    assert [w for w, _ in run.channel.log] == ["answer", "hangup"]
    assert run.of("hangup")[0].data["by"] == "flow"


ROUTING = HEAD + """\
queue service skills [general] max_wait 60s

routing to_service:
  owner of customer ring 20s
  last_agent of caller ring 15s within 7d
  queue service
  otherwise -> goto after

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  route to_service

step after:
  log "talked ${call.talked_to_agent}"
  hangup

on answered by agent:
  log "answered by ${agent.name}"
  screen_pop customer, call
"""


def _crm_with_owner(owner: str) -> SqliteCRM:
    crm = SqliteCRM(":memory:")
    crm.upsert("customer", [{"id": "C1", "name": "Wang", "phone": "+8613800000001",
                             "owner": owner}])
    return crm


def test_route_rings_the_owner_first(tmp_path):
    program = compile_flow(tmp_path, ROUTING)
    run = run_flow(program, crm=_crm_with_owner("zhang"),
                   agents=[Agent("zhang", "Zhang Wei", skills={"general": 3})],
                   answering={"zhang": "answered"})
    assert run.result.talked_to_agent and run.result.agent == "zhang"
    assert run.logs() == ["answered by Zhang Wei", "talked true"]
    assert run.of("screen_pop")[0].data["agent"] == "zhang"
    decision = run.of("routing_decision")[0].data
    assert decision["outcome"] == "dial" and decision["agent"] == "zhang"
    assert ("dial", "zhang") in run.channel.log


def test_route_skips_with_reasons_then_queues_then_otherwise(tmp_path):
    program = compile_flow(tmp_path, ROUTING)
    history = History({"+8613800000001": "li"})
    run = run_flow(program, crm=_crm_with_owner("zhang"), history=history,
                   agents=[Agent("zhang", state=AgentState.PAUSED),
                           Agent("li", skills={"general": 1})])
    decisions = [(e.data["rule"], e.data["outcome"]) for e in run.of("routing_decision")]
    assert decisions == [(0, "skip"), (1, "dial"), (1, "no_answer"), (2, "enqueue"),
                         (2, "timeout")]
    assert "paused" in run.of("routing_decision")[0].data["reason"]
    assert history.asked[0][1] is not None  # `within 7d` became a since
    assert run.logs() == ["talked false"]
    assert run.of("queue_joined")[0].data["queue"] == "service"


def test_caller_hanging_up_in_a_queue_is_abandoned(tmp_path):
    program = flow(tmp_path, """\
queue service skills [general] max_wait 60s

on start:
  answer
  queue service
  hangup
""")
    run = run_flow(program, hang_up_after_ops=2)
    assert run.result.outcome == "abandoned"
    assert run.result.hung_up_by == "caller"


def test_transfer_leaves_the_flow_and_a_failed_one_takes_on_error(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  transfer number "+862150001234" on error -> goto failed

step failed:
  log "transfer failed"
  hangup
""")
    ok = run_flow(program)
    assert ok.result.outcome == "transfer" and ok.result.hung_up_by is None
    assert ok.of("transfer")[0].data["status"] == "transferred"
    failed = run_flow(program, transfer_status="no_answer")
    assert failed.logs() == ["transfer failed"]
    assert failed.result.outcome == "hangup"


def test_voicemail_outcome_and_safe_recording_name(tmp_path):
    program = flow(tmp_path, """\
on start:
  answer
  record call format "../../etc"
  voicemail for "service"
  hangup
""")
    from datetime import UTC, datetime

    from ccdsl.runtime.core.channel import CallInfo

    info = CallInfo("../../x/y", "+1", None, "2", datetime(2026, 11, 30, tzinfo=UTC))
    run = run_flow(program, info=info)
    assert run.result.outcome == "voicemail" and run.result.voicemail == "service"
    path = run.of("recording_started")[0].data["file"]
    assert Path(path).parent == Path("recordings")
    assert ".." not in Path(path).name and Path(path).suffix == ".wav"


def test_crm_failure_in_on_hangup_is_an_event_not_a_traceback(tmp_path):
    class DownCRM(SqliteCRM):
        async def log_call(self, call):
            raise RuntimeError("connection reset")

    program = flow(tmp_path, """\
on start:
  hangup

on hangup:
  crm.log_call(note: "x")
""")
    run = run_flow(program, crm=DownCRM(":memory:"))
    error = run.of("error")[0].data
    assert error["kind"] == "external" and error["handler"] == "hangup"
    assert run.of("crm_query")[0].data["error"]
    assert run.result.outcome == "hangup"


def test_the_example_hotline_runs_an_order_lookup(tmp_path):
    from ccdsl.compiler.pipeline import compile_file

    program = load_program(compile_file("examples/iws/hotline.ccf").ir)
    crm = SqliteCRM(str(tmp_path / "crm.db"))
    crm.upsert("order", [{"id": "O1", "number": "12345678", "status": "shipped",
                          "eta": "2026-12-02"}])
    run = run_flow(program, crm=crm, keys=["1", "12345678#", "0"],
                   agents=[Agent("li", skills={"general": 5})], queue_agent={"service": "li"})
    said = run.of("said")[0].data
    assert (said["kind"], said["value"]) == ("date", "2026-12-02")
    assert run.result.talked_to_agent and run.result.agent == "li"
    assert run.result.outcome == "hangup"
    assert any(e.data["operation"] == "log_call" for e in run.of("crm_query"))


def test_ir_of_an_unknown_major_version_is_refused(tmp_path):
    program = flow(tmp_path, "on start:\n  hangup\n")
    doc = json.loads(json.dumps(dict(program.doc)))
    doc["ir_version"] = "2.0"
    with pytest.raises(IRError, match="IR version 2.0 is not supported"):
        load_program(doc)
    doc["ir_version"] = "1.0"
    del doc["steps"]
    with pytest.raises(IRError, match="schema"):
        load_program(doc)


def test_the_runtime_runs_a_json_ir_without_importing_the_compiler(tmp_path):
    program = flow(tmp_path, "on start:\n  log \"hi\"\n  hangup\n")
    path = tmp_path / "t.json"
    path.write_text(json.dumps(dict(program.doc), default=dict))
    script = f"""
import asyncio, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from scripted_channel import run_flow
from ccdsl.runtime.core.ir import load_program
run = run_flow(load_program({str(path)!r}))
assert run.logs() == ["hi"], run.logs()
assert not any(m.startswith("ccdsl.compiler") for m in sys.modules), "compiler"
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr


def test_run_call_never_raises_for_a_dead_line(tmp_path):
    program = flow(tmp_path, "on start:\n  answer\n  play tts \"x\"\n  hangup\n")
    run = run_flow(program, hang_up_after_ops=1)
    assert run.result.hung_up_by == "caller"
    assert run.kinds()[-1] == "call_ended"


# -- over the simulator channel ---------------------------------------------------------


def _simulate(program, actions, *, crm, agents=(), at="2026-11-30T02:00:00+00:00"):
    import asyncio
    from datetime import datetime

    from ccdsl.runtime.core.channel import CallInfo
    from ccdsl.runtime.core.clock import VirtualClock
    from ccdsl.runtime.core.events import EventList
    from ccdsl.runtime.core.interpreter import run_call
    from ccdsl.runtime.core.services import Services
    from ccdsl.runtime.sim.caller import ScriptedCaller
    from ccdsl.runtime.sim.centre import SimCentre
    from ccdsl.runtime.sim.channel import SimChannel, StepWatch

    start = datetime.fromisoformat(at)
    clock = VirtualClock(start)
    centre = SimCentre(agents, clock=clock)
    info = CallInfo("sim-1", "+8613900000000", None, "4001", start, "sim/1")
    channel = SimChannel(info, clock, ScriptedCaller(actions), centre)
    events = EventList()
    services = Services(clock=clock, crm=crm, centre=centre, history=History(),
                        sink=StepWatch(events, channel))
    result = asyncio.run(run_call(program, channel, services))
    return result, events


@pytest.fixture(scope="module")
def hotline():
    from ccdsl.compiler.pipeline import compile_file

    return load_program(compile_file("examples/iws/hotline.ccf").ir)


def test_simulated_hotline_call_reaches_an_agent(hotline, tmp_path):
    from ccdsl.runtime.sim.caller import Press

    crm = SqliteCRM(str(tmp_path / "crm.db"))
    crm.upsert("order", [{"id": "O1", "number": "20261128", "status": "delivered"}])
    result, events = _simulate(
        hotline, [Press("1"), Press("20261128#"), Press("0")], crm=crm,
        agents=[(Agent("li", "Li Na", skills={"general": 5}), None)])
    played = [e.data["prompt"] for e in events.of_kind("prompt_played")]
    assert "orders.status_delivered" in played
    assert result.talked_to_agent and result.agent == "li"
    assert [e.data["agent"] for e in events.of_kind("agent_answered")] == ["li"]
    assert events.events[-1].kind == "call_ended"


def test_simulated_hang_up_on_entering_a_step(hotline, tmp_path):
    from ccdsl.runtime.sim.caller import HangUp

    result, events = _simulate(hotline, [HangUp(in_step="main_menu")],
                               crm=SqliteCRM(str(tmp_path / "crm.db")))
    assert result.outcome == "hangup" and result.hung_up_by == "caller"
    assert [e.data["step"] for e in events.of_kind("step_entered")] == ["main_menu"]
    assert [e.data["handler"] for e in events.of_kind("handler_entered")] == ["start", "hangup"]


# -- the call's language ---------------------------------------------------------------

GREETING = HEAD + """\
prompt hi:
  en-US tts "Hello."
  zh-CN tts "你好。"

on start:
  play hi
  hangup
"""


def _info(language):
    from datetime import UTC, datetime

    from ccdsl.runtime.core.channel import CallInfo

    return CallInfo("call-1", "+8613800000001", None, "4001",
                    datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "sim/1", language=language)


def test_the_call_starts_in_the_language_the_line_asks_for(tmp_path):
    run = run_flow(compile_flow(tmp_path, GREETING), info=_info("zh-CN"))
    assert run.channel.heard() == ["你好。"]
    assert run.of("call_started")[0].data["language"] == "zh-CN"
    assert run.logs() == []


def test_a_language_the_flow_lacks_starts_in_the_default_and_says_why(tmp_path):
    run = run_flow(compile_flow(tmp_path, GREETING), info=_info("fr-FR"))
    assert run.channel.heard() == ["Hello."]
    assert run.of("call_started")[0].data["language"] == "en-US"
    [why] = run.logs()
    assert "fr-FR" in why and "en-US, zh-CN" in why


# -- prompts: when they started, the voicemail greeting --------------------------------


def test_a_prompt_is_stamped_when_its_playback_started(tmp_path):
    program = flow(tmp_path, """\
on start:
  wait 3s
  play tts "Hello."
  play tts "Again."
  hangup
""")
    run = run_flow(program)  # the scripted channel plays each prompt for 1 s
    start = run.of("call_started")[0].at
    plays = run.of("prompt_played")
    assert [(e.at - start).total_seconds() for e in plays] == [3.0, 4.0]
    assert [e.data["ms"] for e in plays] == [1000, 1000]
    assert [e.data["interrupted_by"] for e in plays] == [None, None]


def test_a_menu_prompt_is_stamped_when_the_menu_started_to_play_it(tmp_path):
    run = run_flow(compile_flow(tmp_path, MENU), keys=[None, "1"])
    start = run.of("call_started")[0].at
    plays = run.of("prompt_played")
    # the first try waits out its 5 s timeout, the second plays at +5 s
    assert [(e.at - start).total_seconds() for e in plays] == [0.0, 5.0]
    assert all("ms" not in e.data for e in plays)  # played together with the wait for keys


def test_the_voicemail_greeting_is_a_played_prompt(tmp_path):
    program = flow(tmp_path, """\
prompt intro:
  en-US tts "Leave a message."
  zh-CN tts "请留言。"

on start:
  answer
  wait 2s
  voicemail for "service" greeting intro
  hangup
""")
    run = run_flow(program)
    [played] = run.of("prompt_played")
    assert played.data["prompt"] == "intro"
    assert [s["text"] for s in played.data["sounds"]] == ["Leave a message.", "beep"]
    assert played.at == run.of("call_started")[0].at + timedelta(seconds=2)
    assert run.kinds().index("prompt_played") < run.kinds().index("voicemail")


# -- crm.log_call: wrap-up and recording --------------------------------------------------


def test_log_call_sends_the_wrapup_values_and_the_recording(tmp_path):
    program = flow(tmp_path, """\
queue service skills [general] max_wait 60s

wrapup:
  reason: text
  resolved: bool

on start:
  answer
  record call
  queue service
  hangup

on hangup:
  crm.log_call(note: "test", outcome: "agent") on error -> log "not logged"
""")
    crm = SqliteCRM(str(tmp_path / "crm.db"))
    run = run_flow(program, crm=crm, queue_agent={"service": "li"},
                   wrapup={"reason": "order status", "resolved": True, "extra": "dropped"})
    [row] = crm.records("call_log")
    assert row.get("wrapup") == {"reason": "order status", "resolved": True}
    assert row.get("recording") == run.of("recording_started")[0].data["file"]
    shown = run.of("crm_query")[0].data["args"]
    assert shown["wrapup"] == {"reason": "order status", "resolved": True}
    assert shown["recording"].endswith(".wav") and "/" not in shown["recording"]


def test_log_call_without_wrapup_values_sends_none(tmp_path):
    program = flow(tmp_path, """\
wrapup:
  reason: text

on start:
  answer
  hangup

on hangup:
  crm.log_call(note: "test") on error -> log "not logged"
""")
    crm = SqliteCRM(str(tmp_path / "crm.db"))
    run_flow(program, crm=crm)
    [row] = crm.records("call_log")
    assert row.get("wrapup") is None and row.get("recording") is None


# -- an internal failure ends the call, never the server -------------------------------


class BrokenPlay(ScriptedChannel):
    """A channel with a bug: play raises what no contract allows."""

    async def play(self, sounds, *, interrupt_keys=""):
        raise RuntimeError("the media server said 42")


BROKEN = HEAD + """\
on start:
  answer
  play tts "Hello."
  log "not reached"
  hangup

on error:
  log "the error handler is not for interpreter bugs"
  hangup

on hangup:
  log "on hangup ran"
"""


def test_an_unexpected_exception_ends_the_call_with_an_internal_error(tmp_path):
    program = compile_flow(tmp_path, BROKEN)
    run = run_flow(program, channel_type=BrokenPlay)
    [error] = run.of("error")
    assert error.data["kind"] == "internal"
    assert error.data["message"] == "internal error: RuntimeError: the media server said 42"
    assert error.loc["line"] == 6 and error.data["where"] == error.loc  # the play
    assert run.logs() == ["on hangup ran"]
    assert run.kinds()[-1] == "call_ended"
    assert run.of("call_ended")[0].data["outcome"] == "error"
    assert run.result.outcome == "error" and "RuntimeError" in run.result.error
    assert run.channel.log[-1] == ("hangup", None)  # the line was closed


def test_an_internal_error_still_leaves_a_call_record(tmp_path):
    from ccdsl.runtime.operations.store import CallStore

    program = compile_flow(tmp_path, BROKEN)
    store = CallStore(tmp_path / "calls.db")
    run = run_flow(program, channel_type=BrokenPlay, also=store)
    store.flush()
    record = store.call(run.result.call_id)
    store.close()
    assert record is not None and record["outcome"] == "error"


def test_a_builtin_that_raises_is_an_internal_error_at_its_op(tmp_path, monkeypatch):
    from ccdsl.runtime.core.builtins import implementations as builtins_impl

    async def broken(ctx, bound, loc):
        raise KeyError("oops")

    monkeypatch.setitem(builtins_impl.FUNCTIONS, "upper", broken)
    program = flow(tmp_path, """\
on start:
  answer
  x = upper("a")
  hangup

on hangup:
  log "on hangup ran"
""")
    run = run_flow(program)
    [error] = run.of("error")
    assert error.data["kind"] == "internal" and "KeyError" in error.data["message"]
    assert error.loc["line"] == 6
    assert run.logs() == ["on hangup ran"]
    assert run.result.outcome == "error"


def test_a_fault_in_on_hangup_is_reported_and_the_call_still_ends(tmp_path, monkeypatch):
    from ccdsl.runtime.core.builtins import implementations as builtins_impl

    async def broken(ctx, bound, loc):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(builtins_impl.FUNCTIONS, "upper", broken)
    program = flow(tmp_path, """\
on start:
  answer
  hangup

on hangup:
  x = upper("a")
""")
    run = run_flow(program)
    [error] = run.of("error")
    assert error.data["kind"] == "internal" and error.data["handler"] == "hangup"
    assert run.result.outcome == "hangup"
    assert run.kinds()[-1] == "call_ended"


# -- queue strategy -------------------------------------------------------------------------


QUEUES = HEAD + """\
queue service skills [general] max_wait 60s
queue sales skills [sales] max_wait 60s strategy "ringall"

on start:
  answer
  queue service
  queue sales
  hangup
"""


def test_the_queue_strategy_reaches_the_channel(tmp_path):
    run = run_flow(compile_flow(tmp_path, QUEUES))
    requests = [data for what, data in run.channel.log if what == "enqueue"]
    assert [(r.queue, r.strategy) for r in requests] == [("service", "leastrecent"),
                                                         ("sales", "ringall")]


@pytest.mark.parametrize(("version", "option", "runs"), [
    ("1.0", "strategy", "leastrecent"),  # before the `strategy` option
    ("1.2", "autopause", "no"),  # before the `autopause` option
])
def test_an_older_ir_queue_without_an_option_runs_its_default(tmp_path, version, option, runs):
    program = compile_flow(tmp_path, QUEUES)
    doc = json.loads(json.dumps(dict(program.doc), default=dict))
    doc["ir_version"] = version
    for decl in doc["queues"].values():
        del decl["options"][option]
    run = run_flow(load_program(doc))
    requests = [data for what, data in run.channel.log if what == "enqueue"]
    assert {getattr(r, option) for r in requests} == {runs}


def test_the_queue_autopause_reaches_the_channel_yes_by_default(tmp_path):
    run = run_flow(compile_flow(tmp_path, QUEUES.replace('strategy "ringall"',
                                                         'strategy "ringall" autopause "all"')))
    requests = [data for what, data in run.channel.log if what == "enqueue"]
    assert [(r.queue, r.autopause) for r in requests] == [("service", "yes"), ("sales", "all")]


def test_a_strategy_computed_at_run_time_is_checked_there(tmp_path):
    program = flow(tmp_path, """\
const STRATEGY = "round-robin"

queue service skills [general] max_wait 60s strategy STRATEGY

on start:
  answer
  queue service on error -> log "bad queue"
  hangup
""")
    run = run_flow(program)
    assert run.logs() == ["bad queue"]
    assert "round-robin" in run.of("error")[0].data["message"]


def test_simulated_hang_up_some_time_after_entering_a_step(hotline, tmp_path):
    from ccdsl.runtime.sim.caller import HangUp

    result, events = _simulate(hotline, [HangUp(after_ms=2000, in_step="main_menu")],
                               crm=SqliteCRM(str(tmp_path / "crm.db")))
    assert result.hung_up_by == "caller"
    [entered] = events.of_kind("step_entered")
    [hangup] = events.of_kind("hangup")
    assert hangup.at - entered.at == timedelta(seconds=2)
    assert hangup.data["step"] == "main_menu"


def test_the_line_language_matches_the_flows_tag_whatever_its_case(tmp_path):
    run = run_flow(compile_flow(tmp_path, GREETING), info=_info("zh-cn"))
    assert run.of("call_started")[0].data["language"] == "zh-CN"
    assert run.channel.heard() == ["你好。"]
