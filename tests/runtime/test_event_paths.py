"""The per-event and per-step shortcuts give what the long way gave: an
Event made by CallRuntime.emit without its __init__, StepWatch unwrapped by
the runtime, and the simulator's elapsed times read from the clock's ticks."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scripted_channel import History

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import CallInfo, Sound
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.folder import import_crm_folder
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import Event, EventList, new_event, set_fields
from ccdsl.runtime.core.interpreter import run_call
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.sim import AgentScript, HangUp, Press, ScriptedCaller, SimCentre, SimChannel
from ccdsl.runtime.sim.caller import Silence, Speak
from ccdsl.runtime.sim.channel import StepWatch

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday


# -- Event without __init__ ---------------------------------------------------------


def test_an_event_made_without_init_is_the_same_event():
    loc = {"file": "a.ccf", "line": 3, "column": 1}
    made = new_event(Event)
    set_fields(made, {"call_id": "c1", "seq": 2, "at": T0, "kind": "log",
                      "data": {"message": "hi"}, "loc": loc})
    built = Event("c1", 2, T0, "log", {"message": "hi"}, loc)
    assert made == built
    assert repr(made) == repr(built)
    assert vars(made) == vars(built) and list(vars(made)) == list(vars(built))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.kind = "other"  # type: ignore[misc]


# -- StepWatch unwrapped --------------------------------------------------------------


class _Opaque:
    """A sink the runtime cannot see into: every event goes through
    StepWatch.emit, the way the runtime took before it unwrapped it."""

    def __init__(self, watch: StepWatch) -> None:
        self.emit = watch.emit


SCRIPTS = (
    (Press("1"), Press("20261128#"), HangUp(after_ms=6_000)),
    (Press("0"), Press("5")),
    (HangUp(in_step="main_menu"),),
    (Press("1"), HangUp(in_step="order_lookup", after_ms=700)),
    (Press("7"), Silence(4_000), Press("2"), HangUp(in_step="tech_support")),
    (Speak(20_000),),
)


@pytest.fixture(scope="module")
def hotline(tmp_path_factory):
    result = compile_file(str(HOTLINE))
    assert result.ok and result.ir is not None
    fixtures = tmp_path_factory.mktemp("crm") / "fixtures.db"
    crm = SqliteCRM(fixtures)
    import_crm_folder(crm, str(ROOT / "examples" / "iws" / "crm"))
    crm.close_now()
    return result.ir, fixtures


def _call(hotline: tuple, actions: tuple, *, opaque: bool, folder: Path) -> tuple:
    ir, fixtures = hotline
    program = load_program(ir)
    crm_file = folder / f"crm-{opaque}.db"
    shutil.copyfile(fixtures, crm_file)
    crm = SqliteCRM(crm_file)
    clock = VirtualClock(T0)
    centre = SimCentre([(Agent(id="zhang", extension="8001", skills={"general": 8}),
                         AgentScript(answer_after_ms=4_000))],
                       queues=queue_configs(ir).values(), now=T0)
    info = CallInfo("c1", "+8613900000001", None, "4008001234", T0, "sim/1")
    channel = SimChannel(info, clock, ScriptedCaller(actions), centre)
    events = EventList()
    watch = StepWatch(events, channel)
    services = Services(clock=clock, crm=crm, centre=centre, history=History(),
                        sink=_Opaque(watch) if opaque else watch,
                        config=RuntimeConfig(recordings_dir=str(folder)))
    try:
        result = asyncio.run(run_call(program, channel, services))
    finally:
        crm.close_now()
    return ([(e.seq, e.at, e.kind, _timeless(e), e.loc) for e in events.events],
            result, channel.log.entries)


def _timeless(event: Event) -> dict:
    """An event's data without the CRM's own answer time (wall clock ms)."""
    if event.kind == "crm_query":
        return {**event.data, "ms": None}
    return event.data


@pytest.mark.parametrize("actions", SCRIPTS)
def test_the_runtime_unwrapping_stepwatch_changes_nothing(hotline, actions, tmp_path):
    folded = _call(hotline, actions, opaque=False, folder=tmp_path)
    through = _call(hotline, actions, opaque=True, folder=tmp_path)
    assert folded == through
    assert any(kind == "step_entered" for _, _, kind, _, _ in folded[0])


# -- the clock's ticks ----------------------------------------------------------------


@given(st.lists(st.integers(0, 3_600_000), max_size=30))
def test_ticks_are_the_whole_ms_moved(steps):
    clock = VirtualClock(datetime(2026, 11, 30, 2, 0, 0, 123_000, tzinfo=UTC))
    start = clock.now()
    for ms in steps:
        clock.advance(ms)
        assert clock.ticks == round((clock.now() - start).total_seconds() * 1000)


def test_a_part_ms_step_stops_the_ticks():
    clock = VirtualClock(T0)
    clock.advance(1500)
    clock.advance(0.5)  # type: ignore[arg-type]
    assert clock.ticks is None
    clock.advance(10)
    assert clock.ticks is None
    assert (clock.now() - T0).total_seconds() == 1.5105


class _OtherClock(VirtualClock):
    """A clock the channel does not read ticks from: the datetime way."""


SOUNDS = [Sound("tts", "Welcome to IWS customer service.", "en-US"),
          Sound("file", "iws/menu", "en-US"), Sound("tts", "您好", "zh-CN")]


def _line(clock: VirtualClock, actions: tuple) -> list:
    info = CallInfo("c1", "+8613800000001", None, "4008001234", T0, "sim/1")
    ch = SimChannel(info, clock, ScriptedCaller(actions), SimCentre(now=T0))

    async def talk() -> None:
        await ch.answer()
        await ch.play(SOUNDS, interrupt_keys="0123456789*#")
        await ch.read_digits(SOUNDS[:1], max_digits=4, timeout_ms=3_000, inter_digit_ms=2_000,
                             end_key="#")
        await ch.start_recording("r.wav")
        await ch.wait(1_234)
        await ch.play(SOUNDS)
        await ch.hangup()

    try:
        asyncio.run(talk())
    except Exception as err:  # noqa: BLE001 - a hang-up, the same on both lines
        return [ch.log.entries, type(err).__name__, clock.now()]
    return [ch.log.entries, None, clock.now()]


@given(st.lists(st.sampled_from([Press("1"), Press("12#"), Silence(700), Silence(3_100),
                                 HangUp(after_ms=2_500), HangUp()]), max_size=5))
def test_elapsed_times_from_ticks_are_the_datetime_ones(actions):
    start = datetime(2026, 11, 30, 2, 0, 0, 400_000, tzinfo=UTC)
    assert _line(VirtualClock(start), tuple(actions)) == \
        _line(_OtherClock(start), tuple(actions))

