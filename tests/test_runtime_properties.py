"""Properties of the runtime over whole simulated calls, checked with hypothesis.

The flows: the example call centre (examples/iws/hotline.ccf) and, for each
standard-library module, a small entry flow written here that calls every
sub-flow of the module, one step each (a library has no `on start` of its
own). Each flow is compiled once per test session.

1. For random worlds (a caller known to the CRM fixtures of examples/iws,
   a VIP or an unknown number; random key presses with random timing,
   silences, talking into voicemail and hang-ups; a clock on a weekday,
   a weekend, a night or a holiday of the hours table, in the flow's zone;
   agents with random skills and states), every call ends (hang-up,
   transfer, voicemail, or error with an error event) within the step
   budget, and leaves a complete record in a real SQLite call store.
2. A hang-up injected at every step a call enters (the call is run once to
   learn its steps, then once per step entry with the caller hanging up
   there) ends the call cleanly: a caller hang-up is recorded, `on hangup`
   runs once, nothing escapes `run_call`, and the record is complete. This
   is checked on the scripted paths a caller takes most (below) and on
   random worlds.

A failing example prints its world (the caller, the clock, the agents and
the script) and the call's trace (hypothesis `note`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.folder import import_crm_folder
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import EventList, FanOut
from ccdsl.runtime.core.interpreter import CallResult, run_call
from ccdsl.runtime.core.ir import Program, load_program
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim import (
    AgentScript,
    HangUp,
    Press,
    ScriptedCaller,
    Silence,
    SimCentre,
    SimChannel,
    Speak,
    StepWatch,
)
from ccdsl.runtime.sim.caller import KEYS

ROOT = Path(__file__).resolve().parent.parent
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"
FIXTURES = ROOT / "examples" / "iws" / "crm"
ZONE = ZoneInfo("Asia/Shanghai")  # the zone of every flow's `hours office`
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

# ---- the flows ----------------------------------------------------------------------

# Each standard-library module's sub-flows, called one per step of an entry
# flow, in this order, with these arguments.
STDLIB_CALLS: dict[str, list[str]] = {
    "voicemail": ['leave(for: "service")',
                  'leave_for_owner(customer: customer, fallback: "service")'],
    "survey": ["offer()"],
    "callback": ['offer(customer: customer, reason: "property test")',
                 'book(customer: customer, number: caller.number, reason: "property test")'],
    "business_hours": ["announce_closed(opens: office.next_open())",
                       'closed_with_choices(opens: office.next_open(), customer: customer, '
                       'mailbox: "service")'],
    "prompt_recording": ['record_by_phone(pin: "4321")', 'take(number: "12")',
                         'keep(number: "12", mailbox: "prompt-12")'],
}


def entry_flow(module: str, calls: list[str]) -> str:
    """An entry flow for a library module: `on start` looks the caller up,
    then step call_N calls the Nth sub-flow, and step `done` says goodbye
    and hangs up. (A step that hung up at once would end the call at the
    very instant the test's caller hangs up in it: the flow wins that tie.)"""
    steps = []
    for i, call in enumerate(calls, 1):
        after = f"call_{i + 1}" if i < len(calls) else "done"
        steps.append(f"step call_{i}:\n  result = stdlib.{module}.{call}\n"
                     f'  log "call_{i}: ${{result}}"\n  goto {after}\n')
    return (f"flow entry_{module}:\n  languages zh-CN, en-US\n\nuse stdlib.{module}\n\n"
            'hours office tz "Asia/Shanghai":\n  mon-fri 09:00-18:00\n  sat 10:00-16:00\n'
            '  closed 2026-10-01..2026-10-07 "National Day"\n\n'
            "on start:\n  answer\n"
            "  customer = crm.customer(phone: caller.number) on error -> customer = null\n"
            "  goto call_1\n\n" + "\n".join(steps)
            + "\nstep done:\n  play goodbye\n  hangup\n\n"
            + 'prompt goodbye:\n  zh-CN tts "再见。"\n  en-US tts "Goodbye."\n\n'
            + 'on hangup:\n  log "entry flow over"\n')


@dataclass(frozen=True)
class Flow:
    name: str
    ir: dict
    program: Program


@pytest.fixture(scope="session")
def flows(tmp_path_factory) -> dict[str, Flow]:
    folder = tmp_path_factory.mktemp("entry_flows")
    paths = {"hotline": HOTLINE}
    for module, calls in STDLIB_CALLS.items():
        path = folder / f"entry_{module}.ccf"
        path.write_text(entry_flow(module, calls), encoding="utf-8")
        paths[module] = path
    out = {}
    for name, path in paths.items():
        result = compile_file(str(path))
        assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
        out[name] = Flow(name, result.ir, load_program(result.ir))
    return out


@pytest.fixture(scope="session")
def crm_template(tmp_path_factory) -> Path:
    """The example CRM fixtures, imported once; each call gets a copy."""
    path = tmp_path_factory.mktemp("crm") / "crm.db"
    crm = SqliteCRM(path)
    import_crm_folder(crm, str(FIXTURES))
    crm.close_now()
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("calls")


# ---- a world, and a call in it ---------------------------------------------------------

STATES = ("available", "busy", "ringing-no-answer", "paused", "logged off")


@dataclass(frozen=True)
class AgentSpec:
    id: str
    skills: tuple[tuple[str, int], ...]
    state: str  # one of STATES
    answer_after_ms: int = 2_000
    talk_ms: int = 60_000
    ends: str = "agent"
    free_after_ms: int | None = None  # a busy agent becomes available then

    def build(self, start: datetime) -> tuple[Agent, AgentScript]:
        state = {"busy": AgentState.BUSY, "paused": AgentState.PAUSED,
                 "logged off": AgentState.LOGGED_OFF}.get(self.state, AgentState.AVAILABLE)
        free_at = (start + timedelta(milliseconds=self.free_after_ms)
                   if self.state == "busy" and self.free_after_ms is not None else None)
        answers = None if self.state == "ringing-no-answer" else self.answer_after_ms
        return (Agent(id=self.id, name=self.id, skills=dict(self.skills), state=state,
                      idle_since=start - timedelta(minutes=5)),
                AgentScript(answer_after_ms=answers, talk_ms=self.talk_ms, ends=self.ends,
                            free_at=free_at))


@dataclass(frozen=True)
class World:
    """Everything one simulated call depends on."""

    flow: str
    caller: str
    start: datetime
    agents: tuple[AgentSpec, ...] = ()
    actions: tuple = ()
    hang_up_at_entry: int | None = field(default=None, compare=False)

    def describe(self) -> str:
        lines = [f"flow {self.flow}, caller {self.caller or '(anonymous)'}, "
                 f"at {self.start.isoformat()} ({self.start:%A})"]
        lines += [f"  agent {a}" for a in self.agents]
        lines += [f"  caller: {a}" for a in self.actions]
        if self.hang_up_at_entry is not None:
            lines.append(f"  caller hangs up on step entry #{self.hang_up_at_entry}")
        return "\n".join(lines)


class HangsUpAtStep(ScriptedCaller):
    """A scripted caller who also hangs up the moment the flow enters its
    step for the `entry`-th time (0 = the first step entered), whatever
    the script is doing then."""

    def __init__(self, actions, entry: int) -> None:
        super().__init__(actions)
        self.entry = entry
        self.entries = 0
        self.forced: datetime | None = None
        self.forced_step: str | None = None

    def step_entered(self, step: str, now: datetime) -> None:
        super().step_entered(step, now)
        if self.entries == self.entry:
            self.forced, self.forced_step = now, step
        self.entries += 1

    def hangup_at(self) -> datetime | None:
        planned = super().hangup_at()
        if self.forced is None:
            return planned
        return self.forced if planned is None else min(planned, self.forced)


@dataclass
class Call:
    """A finished call: what run_call returned, its events as emitted and
    as stored, and its call record."""

    world: World
    result: CallResult
    emitted: list
    stored: list[dict]
    record: dict | None
    caller: ScriptedCaller

    def trace(self) -> str:
        return "\n".join(f"  {e.seq:3} {e.kind:18} {_short(e.data)}" for e in self.emitted)

    def step_entries(self) -> list[str]:
        return [e.data["step"] for e in self.emitted if e.kind == "step_entered"]

    def handler_runs(self, handler: str) -> int:
        return sum(1 for e in self.stored
                   if e["kind"] == "handler_entered" and e["data"].get("handler") == handler)


def _short(data: dict) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in data.items())
    return text if len(text) <= 140 else text[:137] + "..."


_CALLS = iter(range(1, 10**9))


def run_world(world: World, flows: dict[str, Flow], crm_template: Path, workdir: Path) -> Call:
    """Run the world's call with the interpreter over the simulator, a copy
    of the fixtures CRM and a fresh call store (both SQLite files), and
    read the call back from the store."""
    flow = flows[world.flow]
    call_id = f"prop-{next(_CALLS)}"
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        crm_path = Path(folder) / "crm.db"
        shutil.copyfile(crm_template, crm_path)
        crm = SqliteCRM(crm_path)
        store = CallStore(Path(folder) / "calls.db")
        try:
            clock = VirtualClock(world.start)
            caller = (ScriptedCaller(world.actions) if world.hang_up_at_entry is None
                      else HangsUpAtStep(world.actions, world.hang_up_at_entry))
            centre = SimCentre([a.build(world.start) for a in world.agents],
                               queues=queue_configs(flow.ir).values(), now=world.start)
            info = CallInfo(call_id=call_id, caller_number=world.caller, caller_name=None,
                            dialled="4008001234", started=world.start, channel="sim/1")
            channel = SimChannel(info, clock, caller, centre)
            events = EventList()
            services = Services(clock=clock, crm=crm, centre=centre, history=store,
                                sink=StepWatch(FanOut(events, store), channel),
                                config=RuntimeConfig(recordings_dir=folder))
            result = asyncio.run(run_call(flow.program, channel, services))
            stored = store.events(call_id)
            record = store.call(call_id)
        finally:
            store.close()
            crm.close_now()
    return Call(world, result, events.events, stored, record, caller)


# ---- what every call must leave behind -----------------------------------------------------

ENDINGS = {"hangup", "transfer", "voicemail", "abandoned", "error"}


def check_complete(call: Call) -> None:
    """The call ended in a known way within the step budget, and its record
    and events are complete in the store."""
    result, record, stored = call.result, call.record, call.stored
    assert result.outcome in ENDINGS
    errors = [e for e in stored if e["kind"] == "error"]
    assert not [e for e in errors if e["data"].get("kind") == "step_budget"], \
        "the call ran out of its step budget"
    if result.outcome == "error":
        assert errors, "an error outcome without an error event"
    assert record is not None, "no call record"
    assert record["outcome"] == result.outcome
    assert record["started"] and record["ended"]
    assert record["duration_ms"] is not None and record["duration_ms"] >= 0
    assert record["duration_ms"] == result.duration_ms
    assert record["ended_ms"] >= record["started_ms"]
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    assert len(stored) == len(call.emitted) == result.events
    assert [e["at_ms"] for e in stored] == sorted(e["at_ms"] for e in stored), \
        "events out of time order"
    kinds = [e["kind"] for e in stored]
    assert kinds[0] == "call_started" and kinds[-1] == "call_ended"
    assert kinds.count("call_started") == 1 and kinds.count("call_ended") == 1
    assert kinds.count("hangup") == 1
    assert stored[-1]["data"]["outcome"] == result.outcome
    if call.world.flow in ("hotline", *STDLIB_CALLS):  # each has an `on hangup`
        assert call.handler_runs("hangup") == 1


def check_caller_hung_up(call: Call) -> None:
    """The call injected with a hang-up ended by the caller, cleanly."""
    check_complete(call)
    assert isinstance(call.caller, HangsUpAtStep) and call.caller.forced is not None, \
        "the call never entered the step to hang up in"
    assert call.result.hung_up_by == "caller"
    assert call.record["ended_by"] == "caller"
    hangup = next(e for e in call.stored if e["kind"] == "hangup")
    assert hangup["data"]["by"] == "caller"
    assert call.result.outcome in ("hangup", "abandoned", "voicemail")
    if call.result.outcome == "voicemail":
        assert call.record["voicemail_file"], "a voicemail outcome with no message stored"


def explain(call: Call) -> str:
    return f"{call.world.describe()}\noutcome {call.result}\ntrace:\n{call.trace()}"


def hang_up_at_every_step(world: World, flows, crm_template, workdir) -> int:
    """Run the world once to learn its step entries, then once per entry
    with the caller hanging up there. Returns the number of entries."""
    first = run_world(world, flows, crm_template, workdir)
    try:
        check_complete(first)
    except AssertionError as exc:
        raise AssertionError(f"the call without a hang-up: {exc}\n{explain(first)}") from exc
    entries = first.step_entries()
    for k, step in enumerate(entries):
        injected = World(world.flow, world.caller, world.start, world.agents, world.actions,
                         hang_up_at_entry=k)
        call = run_world(injected, flows, crm_template, workdir)
        try:
            check_caller_hung_up(call)
            assert call.caller.forced_step == step
        except AssertionError as exc:
            raise AssertionError(f"hang-up in step {step} (entry #{k}): {exc}\n"
                                 f"{explain(call)}") from exc
    return len(entries)


# ---- strategies -------------------------------------------------------------------------

# callers of the fixtures (examples/iws/crm/customers.csv): C2002 is the VIP;
# C4004's number is written with spaces there, as people type them
KNOWN = ("+8613800000001", "+14155550123", "+8613912345678")
VIP = "+8613800000002"
callers = st.one_of(st.sampled_from(KNOWN), st.just(VIP),
                    st.from_regex(r"\+86139[0-9]{8}", fullmatch=True),
                    st.sampled_from(["", "anonymous", "8001"]))

# the days the hours table treats specially (hotline.ccf `hours office`)
HOLIDAYS = (date(2026, 1, 1), date(2026, 2, 15), date(2026, 2, 18), date(2026, 2, 23),
            date(2026, 10, 1), date(2026, 10, 4), date(2026, 10, 7), date(2026, 9, 27))


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, ZONE)


days = st.dates(date(2026, 1, 1), date(2026, 12, 31))
# a day moved back to the Friday before (weekdays) or on to the weekend after
weekdays = days.map(lambda d: d - timedelta(days=max(0, d.weekday() - 4)))
weekends = st.builds(lambda d, sunday: d + timedelta(days=(5 - d.weekday()) % 7 + sunday),
                     days, st.integers(0, 1))
office_time = st.times(time(9, 0), time(17, 59, 59))
night_time = st.one_of(st.times(time(18, 0), time(23, 59, 59)), st.times(time(0), time(8, 59)))
open_clocks = st.builds(_at, weekdays, office_time)  # open: the menu, most paths
clocks = st.one_of(
    open_clocks, open_clocks, open_clocks,
    st.builds(_at, weekends, st.times()),  # Saturday 10-16 open, Sunday closed
    st.builds(_at, days, night_time),  # closed
    st.builds(_at, st.sampled_from(HOLIDAYS), st.times()),  # closed, or the make-up day open
    st.builds(_at, days, st.times()),  # anything, to the second
    st.builds(_at, days, st.sampled_from([time(9), time(17, 59, 59), time(18),
                                          time(8, 59, 59)])),  # the edges of the hours
)

SKILLS = ("general", "tech", "zh-CN", "en-US")
agents = st.builds(
    AgentSpec,
    id=st.just(""),
    skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=4).map(
        lambda d: tuple(sorted(d.items()))),
    state=st.sampled_from(STATES),
    answer_after_ms=st.integers(0, 25_000),
    talk_ms=st.integers(0, 300_000),
    ends=st.sampled_from(["agent", "caller"]),
    free_after_ms=st.none() | st.integers(0, 600_000),
)
# the owners of the fixtures (zhang, wang, li) and two others
AGENT_IDS = ("zhang", "li", "wang", "chen", "zhao")
centres = st.lists(agents, max_size=len(AGENT_IDS)).flatmap(
    lambda specs: st.permutations(AGENT_IDS).map(
        lambda ids: tuple(AgentSpec(i, s.skills, s.state, s.answer_after_ms, s.talk_ms, s.ends,
                                    s.free_after_ms) for i, s in zip(ids, specs, strict=False))))

# what a caller of these flows types: menu keys, order numbers (found and
# not), the prompt-recording PIN, and anything else
keys = st.one_of(st.sampled_from(["0", "1", "2", "3", "5", "9", "#", "*"]),
                 st.sampled_from(["20261128#", "20261125#", "20261101#", "20261120#",
                                  "99999999#", "4321#", "12#", "13800000009#"]),
                 st.text(alphabet=KEYS, min_size=1, max_size=12))
presses = st.builds(Press, keys, st.none() | st.integers(0, 20_000))
actions = st.lists(st.one_of(presses, presses, presses,
                             st.builds(Silence, st.integers(0, 40_000)),
                             st.builds(Speak, st.integers(0, 200_000))), max_size=10)
scripts = st.tuples(actions, st.none() | st.integers(0, 400_000)).map(
    lambda pair: tuple(pair[0]) + ((HangUp(after_ms=pair[1]),) if pair[1] is not None else ()))

FLOWS = ("hotline", *STDLIB_CALLS)
worlds = st.builds(World, flow=st.sampled_from(FLOWS), caller=callers, start=clocks,
                   agents=centres, actions=scripts)
# the hotline weighs more: it is the centre people run
weighted_worlds = st.one_of(worlds, worlds.map(lambda w: World(
    "hotline", w.caller, w.start, w.agents, w.actions)))


# ---- 1. every call ends and leaves its record ----------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_OK)
@given(world=weighted_worlds)
def test_every_call_ends_with_a_complete_record(world, flows, crm_template, workdir) -> None:
    note(world.describe())
    call = run_world(world, flows, crm_template, workdir)
    note(f"outcome {call.result}\ntrace:\n{call.trace()}")
    event(f"{world.flow}: {call.result.outcome} by {call.result.hung_up_by}")
    check_complete(call)


# ---- 2. a hang-up at every step ---------------------------------------------------------

OPEN = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)  # a Monday morning
NIGHT = datetime(2026, 11, 28, 22, 0, tzinfo=ZONE)
ZHANG = AgentSpec("zhang", (("general", 8), ("zh-CN", 9)), "available", answer_after_ms=4000)
LI = AgentSpec("li", (("general", 6), ("zh-CN", 9)), "available", answer_after_ms=3000)
WANG = AgentSpec("wang", (("general", 4), ("tech", 8), ("zh-CN", 9)), "available")
BUSY_LI = AgentSpec("li", (("general", 6),), "busy")
OWNER = "+8613800000001"  # C1001, owner zhang
UNKNOWN = "+8613900000000"

# The paths callers take most, each through several steps.
PATHS = {
    "hotline: order found, then an agent and the survey": World(
        "hotline", UNKNOWN, OPEN, (LI,), (Press("1"), Press("20261128#"), Press("0"),
                                          Press("5"))),
    "hotline: order not found, no number, then hang-up": World(
        "hotline", UNKNOWN, OPEN, (LI,), (Press("1"), Press("99999999#"), Press("1"),
                                          Silence(40_000), Silence(6_000), HangUp())),
    "hotline: the owner answers": World("hotline", OWNER, OPEN, (ZHANG, LI), (Press("0"),)),
    "hotline: technical support queue": World(
        "hotline", UNKNOWN, OPEN, (LI, WANG), (Press("2"), Press("4"))),
    "hotline: all busy, call-back": World(
        "hotline", UNKNOWN, OPEN, (BUSY_LI,), (Press("0"), Silence(130_000), Press("2"),
                                              Press("1"))),
    "hotline: all busy, keep waiting, then voicemail": World(
        "hotline", OWNER, OPEN, (BUSY_LI,), (Press("0"), Silence(130_000), Press("3"),
                                            Silence(130_000), Press("1"))),
    "hotline: menu retries exhausted": World(
        "hotline", UNKNOWN, OPEN, (LI,), (Press("7"), Press("8"), Silence(20_000))),
    "hotline: English, then after hours": World(
        "hotline", "+14155550123", OPEN, (), (Press("9"), Press("1"), Press("20261101#"))),
    "hotline: after hours voicemail for the owner": World("hotline", OWNER, NIGHT, (), ()),
    "voicemail: both subs": World("voicemail", OWNER, OPEN, (), (Speak(5_000), Speak(8_000))),
    "survey": World("survey", UNKNOWN, OPEN, (), (Press("4"),)),
    "callback: another number": World(
        "callback", OWNER, OPEN, (), (Press("2"), Press("13800000009#"))),
    "business hours: closed, a message": World(
        "business_hours", UNKNOWN, NIGHT, (), (Press("1"), Speak(4_000))),
    "prompt recording: kept": World(
        "prompt_recording", UNKNOWN, OPEN, (),
        (Press("4321#"), Press("12#"), Speak(3_000), Press("1"), Speak(3_000), Press("3"))),
}


@pytest.mark.parametrize("name", list(PATHS))
def test_a_hang_up_at_every_step_of_a_path_ends_cleanly(name, flows, crm_template,
                                                         workdir) -> None:
    entries = hang_up_at_every_step(PATHS[name], flows, crm_template, workdir)
    assert entries >= 1


def test_the_paths_enter_every_step_of_every_flow(flows, crm_template, workdir) -> None:
    """The scripted paths above reach every step, so the hang-up test
    covers each step of each flow."""
    entered: dict[str, set[str]] = {}
    for world in PATHS.values():
        call = run_world(world, flows, crm_template, workdir)
        entered.setdefault(world.flow, set()).update(call.step_entries())
    for name, flow in flows.items():
        assert entered.get(name, set()) == set(flow.ir["steps"]), name


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(world=weighted_worlds)
def test_a_hang_up_at_every_step_of_a_random_call_ends_cleanly(world, flows, crm_template,
                                                               workdir) -> None:
    note(world.describe())
    entries = hang_up_at_every_step(world, flows, crm_template, workdir)
    event(f"{world.flow}: {min(entries, 5)}{'+' if entries >= 5 else ''} step entries")
