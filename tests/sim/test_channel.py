"""SimChannel: what the caller hears, keys, waits, rings, queues and
hang-ups, on the virtual clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.channel import CallInfo, DialTarget, QueueRequest, Sound
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.core.events import Event, EventList
from ccdsl.runtime.sim.caller import HangUp, Press, ScriptedCaller, Silence, Speak
from ccdsl.runtime.sim.centre import AgentScript, SimCentre
from ccdsl.runtime.sim.channel import FILE_MS, SimChannel, StepWatch, tts_ms

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
WELCOME = Sound("tts", "Welcome to IWS customer service.", "en-US")
MENU = Sound("file", "iws/menu", "en-US")
BEEP = Sound("file", "beep", "en-US")


def make(actions=(), agents=(), *, busy_until=None, max_call_ms=2 * 3_600_000) -> SimChannel:
    clock = VirtualClock(T0)
    centre = SimCentre(now=T0)
    for agent_id, script, state in agents:
        centre.add_agent(Agent(agent_id, skills={"general": 1}, state=state), script)
    info = CallInfo("c1", "+8613800000001", None, "4008001234", T0, "sim/1")
    return SimChannel(info, clock, ScriptedCaller(actions, max_call_ms=max_call_ms), centre)


def elapsed(ch: SimChannel) -> int:
    return round((ch.clock.now() - T0).total_seconds() * 1000)


def kinds(ch: SimChannel) -> list[str]:
    return [k for k, _ in ch.log.entries]


def entries(ch: SimChannel, kind: str) -> list[dict]:
    return [d for k, d in ch.log.entries if k == kind]


async def no_op(agent: str) -> None:
    return None


def request(**kw) -> QueueRequest:
    base = dict(queue="service", priority=0, skills={"general": 0}, max_wait_ms=120_000,
                music="default", announce_position_ms=None, strategy="ringall", ring_ms=None)
    base.update(kw)
    return QueueRequest(**base)


# -- prompts ----------------------------------------------------------------------


def test_play_logs_what_was_heard_and_moves_the_clock():
    ch = make()
    assert asyncio.run(ch.play([WELCOME, MENU])) is None
    assert ch.heard() == [WELCOME, MENU]
    assert elapsed(ch) == tts_ms(WELCOME.text) + FILE_MS


def test_tts_of_chinese_takes_longer_per_character():
    assert tts_ms("欢迎致电") > tts_ms("Hi there")
    assert tts_ms("") >= 400


def test_barge_in_stops_the_prompt_and_returns_the_key():
    ch = make([Press("1", after_ms=500)])
    key = asyncio.run(ch.play([WELCOME, MENU], interrupt_keys="123"))
    assert key == "1"
    assert elapsed(ch) == 500
    [heard] = entries(ch, "heard")
    assert heard["interrupted_by"] == "1" and heard["ms"] == 500


def test_without_barge_in_a_key_is_lost():
    ch = make([Press("1", after_ms=500)])
    assert asyncio.run(ch.play([WELCOME])) is None
    assert [d["key"] for d in entries(ch, "key_lost")] == ["1"]


def test_say_and_wait_take_time():
    ch = make()
    asyncio.run(ch.say("digits", "2026", "en-US"))
    asyncio.run(ch.wait(3000, music="default"))
    assert elapsed(ch) == 4 * 500 + 3000
    assert entries(ch, "said")[0]["value"] == "2026"


def test_a_say_takes_as_long_as_the_switch_speaks_it():
    # en: Asterisk's own SAY NUMBER speaks 42, as the FastAGI peer times it;
    # zh-CN: no SAY sounds, so the words go to text-to-speech
    en, zh = make(), make()
    asyncio.run(en.say("number", "42", "en-US", words="forty-two"))
    asyncio.run(zh.say("date", "2026-12-03", "zh-CN", words="2026年12月3日"))
    assert elapsed(en) == tts_ms("42")
    assert elapsed(zh) == tts_ms("2026年12月3日")
    assert entries(en, "said")[0]["words"] == "forty-two"


# -- digits -----------------------------------------------------------------------


def test_untimed_press_answers_after_the_prompt():
    ch = make([Press("2")])
    digits = asyncio.run(ch.read_digits([MENU], max_digits=1, timeout_ms=5000,
                                        inter_digit_ms=3000, end_key=None))
    assert (digits.keys, digits.timed_out) == ("2", False)
    assert elapsed(ch) == FILE_MS


def test_digits_end_with_the_end_key_which_is_not_returned():
    ch = make([Press("2026#")])
    digits = asyncio.run(ch.read_digits([MENU], max_digits=10, timeout_ms=5000,
                                        inter_digit_ms=3000, end_key="#"))
    assert (digits.keys, digits.timed_out) == ("2026", False)


def test_inter_digit_timeout_ends_entry_as_timed_out():
    ch = make([Press("12"), Silence(10_000), Press("3")])
    digits = asyncio.run(ch.read_digits([MENU], max_digits=6, timeout_ms=5000,
                                        inter_digit_ms=3000, end_key="#"))
    assert (digits.keys, digits.timed_out) == ("12", True)
    # the last key came 250 ms after the first; then 3 s of waiting
    assert elapsed(ch) == FILE_MS + 250 + 3000


def test_no_key_times_out_after_the_first_digit_timeout():
    ch = make([Silence(60_000)])
    digits = asyncio.run(ch.read_digits([MENU], max_digits=1, timeout_ms=5000,
                                        inter_digit_ms=3000, end_key=None))
    assert (digits.keys, digits.timed_out) == ("", True)
    assert elapsed(ch) == FILE_MS + 5000


def test_a_key_during_the_prompt_is_the_first_digit():
    ch = make([Press("45", after_ms=100)])
    digits = asyncio.run(ch.read_digits([MENU], max_digits=2, timeout_ms=5000,
                                        inter_digit_ms=3000, end_key=None))
    assert digits.keys == "45"
    assert elapsed(ch) == 350


def test_a_non_interruptible_prompt_loses_keys():
    ch = make([Press("4", after_ms=100), Press("5")])
    digits = asyncio.run(ch.read_digits([MENU], max_digits=1, timeout_ms=5000,
                                        inter_digit_ms=3000, end_key=None,
                                        interruptible=False))
    assert digits.keys == "5"
    assert [d["key"] for d in entries(ch, "key_lost")] == ["4"]


# -- hang-ups at every kind of wait ----------------------------------------------------


def test_hangup_in_the_middle_of_a_prompt():
    ch = make([HangUp(after_ms=700)])
    with pytest.raises(CallHungUp):
        asyncio.run(ch.play([WELCOME]))
    assert elapsed(ch) == 700
    assert entries(ch, "heard")[0]["ms"] == 700
    assert entries(ch, "hangup") == [{"by": "caller", "at": 700}]


def test_hangup_during_a_menu_wait_and_every_later_operation_fails():
    ch = make([HangUp(after_ms=FILE_MS + 1000)])
    with pytest.raises(CallHungUp):
        asyncio.run(ch.read_digits([MENU], max_digits=1, timeout_ms=5000,
                                   inter_digit_ms=3000, end_key=None))
    assert elapsed(ch) == FILE_MS + 1000
    with pytest.raises(CallHungUp):
        asyncio.run(ch.play([MENU]))


def test_hangup_during_a_wait():
    ch = make([HangUp(after_ms=1500)])
    with pytest.raises(CallHungUp):
        asyncio.run(ch.wait(5000))
    assert elapsed(ch) == 1500


def test_hangup_when_the_flow_enters_a_step_through_the_sink_watch():
    ch = make([HangUp(in_step="main_menu")])
    sink = EventList()
    watch = StepWatch(sink, ch)
    watch.emit(Event("c1", 1, T0, "step_entered", {"step": "welcome"}))
    asyncio.run(ch.play([WELCOME]))
    watch.emit(Event("c1", 2, ch.clock.now(), "step_entered", {"step": "main_menu"}))
    with pytest.raises(CallHungUp):
        asyncio.run(ch.play([MENU]))
    assert len(sink.events) == 2


def test_hangup_while_ringing_an_agent_frees_the_agent():
    ch = make([HangUp(after_ms=1000)],
              [("li", AgentScript(answer_after_ms=5000), AgentState.AVAILABLE)])
    with pytest.raises(CallHungUp):
        asyncio.run(ch.dial(DialTarget("agent", "li"), ring_ms=20_000, on_answer=no_op))
    assert ch.centre.agent("li").state == AgentState.AVAILABLE


def test_hangup_during_a_conversation():
    """The conversation is returned ended by the caller, with its talk, so
    the interpreter records it before it ends the call; the line is over."""
    ch = make([HangUp(after_ms=30_000)],
              [("li", AgentScript(answer_after_ms=2000, talk_ms=60_000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.dial(DialTarget("agent", "li"), ring_ms=20_000, on_answer=no_op))
    assert (out.conversation.ended_by, out.conversation.talk_ms) == ("caller", 28_000)
    assert entries(ch, "conversation")[0]["talk_ms"] == 28_000
    with pytest.raises(CallHungUp):
        asyncio.run(ch.wait(10))
    ch.centre.settle(ch.clock.now())
    assert ch.centre.agent("li").state == AgentState.AVAILABLE


def test_hangup_during_a_queue_wait_leaves_the_queue():
    ch = make([HangUp(after_ms=40_000)], [("li", AgentScript(), AgentState.BUSY)])
    with pytest.raises(CallHungUp):
        asyncio.run(ch.enqueue(request(), on_answer=no_op))
    assert elapsed(ch) == 40_000
    assert ch.centre.queue_waiting("service") == 0
    assert entries(ch, "queue_left")[-1]["outcome"] == "hangup"


def test_hangup_while_leaving_voicemail_keeps_the_message():
    # the caller talks, and hangs up 4 s into the message
    ch = make([Speak(10_000)], max_call_ms=FILE_MS + 300 + 4000)
    out = asyncio.run(ch.voicemail("zhang", greeting=[MENU, BEEP], max_length_ms=180_000))
    assert (out.stored, out.duration_ms, out.mailbox) == (True, 4000, "zhang")
    assert out.file == "voicemail/zhang/c1"
    with pytest.raises(CallHungUp):
        asyncio.run(ch.wait(10))


def test_voicemail_plays_the_greeting_as_given_and_adds_no_beep_of_its_own():
    ch = make([Speak(1000)])
    asyncio.run(ch.voicemail("zhang", greeting=[MENU], max_length_ms=60_000))
    assert [d["text"] for d in entries(ch, "heard")] == ["iws/menu"]
    assert elapsed(ch) == FILE_MS + 1000


def test_voicemail_length_follows_speak_and_max_length():
    ch = make([Speak(200_000)])
    out = asyncio.run(ch.voicemail("service", greeting=[], max_length_ms=60_000))
    assert out.duration_ms == 60_000


@pytest.mark.parametrize("actions", [[], [Press("#")], [HangUp(after_ms=FILE_MS + 300 + 2000)]])
def test_a_caller_who_says_nothing_after_the_beep_leaves_no_message(actions):
    ch = make(actions)
    out = asyncio.run(ch.voicemail("wang", greeting=[MENU, BEEP], max_length_ms=180_000))
    assert (out.stored, out.file, out.duration_ms, out.mailbox) == (False, None, 0, "wang")
    assert [d["stored"] for d in entries(ch, "voicemail")] == [False]


def test_hangup_during_the_greeting_stores_nothing():
    ch = make([HangUp(after_ms=500)])
    with pytest.raises(CallHungUp):
        asyncio.run(ch.voicemail("service", greeting=[MENU], max_length_ms=60_000))
    assert entries(ch, "voicemail") == []


# -- dialling ---------------------------------------------------------------------------


def test_dial_an_agent_who_answers_runs_on_answer_then_talks():
    answered = []

    async def on_answer(agent):
        answered.append((agent, elapsed(ch)))

    ch = make([], [("li", AgentScript(answer_after_ms=3000, talk_ms=45_000),
                    AgentState.AVAILABLE)])
    out = asyncio.run(ch.dial(DialTarget("agent", "li"), ring_ms=20_000, on_answer=on_answer))
    assert out.status == "answered"
    assert (out.conversation.agent, out.conversation.ring_ms, out.conversation.talk_ms,
            out.conversation.ended_by) == ("li", 3000, 45_000, "agent")
    assert answered == [("li", 3000)]
    assert ch.centre.agent("li").calls_taken == 1


def test_dial_ring_no_answer_busy_and_logged_off():
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("busy", AgentScript(), AgentState.BUSY),
                   ("off", AgentScript(), AgentState.LOGGED_OFF)])
    out = asyncio.run(ch.dial(DialTarget("agent", "rna"), ring_ms=15_000, on_answer=no_op))
    assert out.status == "no_answer" and elapsed(ch) == 15_000
    assert asyncio.run(ch.dial(DialTarget("agent", "busy"), ring_ms=15_000,
                               on_answer=no_op)).status == "busy"
    assert asyncio.run(ch.dial(DialTarget("agent", "off"), ring_ms=15_000,
                               on_answer=no_op)).status == "unavailable"
    assert elapsed(ch) == 15_000


def test_a_conversation_the_caller_ends_is_a_hangup():
    ch = make([], [("li", AgentScript(talk_ms=10_000, ends="caller"), AgentState.AVAILABLE)])
    out = asyncio.run(ch.dial(DialTarget("agent", "li"), ring_ms=20_000, on_answer=no_op))
    assert out.conversation.ended_by == "caller"
    assert entries(ch, "conversation")[0]["ended_by"] == "caller"
    assert ch.ended_by == "caller"
    with pytest.raises(CallHungUp):
        asyncio.run(ch.wait(10))


def test_transfer_blind_and_attended():
    ch = make([], [("li", AgentScript(answer_after_ms=None), AgentState.AVAILABLE)])
    out = asyncio.run(ch.transfer(DialTarget("agent", "li"), mode="attended", ring_ms=10_000))
    assert out.status == "no_answer"
    out = asyncio.run(ch.transfer(DialTarget("number", "+862150001234"), mode="blind",
                                  ring_ms=10_000))
    assert out.status == "transferred"
    with pytest.raises(CallHungUp):  # our part of the call is over
        asyncio.run(ch.wait(10))


def test_transfer_to_an_agent_who_is_logged_off_fails():
    ch = make([], [("li", AgentScript(), AgentState.LOGGED_OFF)])
    out = asyncio.run(ch.transfer(DialTarget("agent", "li"), mode="blind", ring_ms=10_000))
    assert out.status == "failed"


def test_three_way_with_a_number():
    ch = make()
    out = asyncio.run(ch.three_way(DialTarget("number", "+8613800000009"), ring_ms=20_000,
                                   on_answer=no_op))
    assert out.status == "answered" and out.conversation.agent is None
    assert entries(ch, "three_way")[0]["status"] == "answered"


def test_recording_writes_an_index_entry_with_its_duration():
    ch = make()
    asyncio.run(ch.start_recording("recordings/c1.wav"))
    asyncio.run(ch.wait(4000))
    asyncio.run(ch.stop_recording())
    asyncio.run(ch.start_recording("recordings/c1-b.wav"))
    asyncio.run(ch.wait(1000))
    asyncio.run(ch.hangup())
    asyncio.run(ch.hangup())  # idempotent
    assert [(r.file, r.started_ms, r.duration_ms) for r in ch.recordings] == [
        ("recordings/c1.wav", 0, 4000), ("recordings/c1-b.wav", 4000, 1000)]
    assert entries(ch, "hangup") == [{"by": "flow", "at": 5000}]


# -- queues -------------------------------------------------------------------------------


def test_queue_answered_by_an_available_agent():
    ch = make([], [("li", AgentScript(answer_after_ms=2000, talk_ms=30_000),
                    AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(), on_answer=no_op))
    assert (out.status, out.wait_ms, out.position) == ("answered", 2000, 1)
    assert out.conversation.agent == "li"


def test_queue_times_out_at_max_wait():
    ch = make([], [("li", AgentScript(), AgentState.BUSY)])
    out = asyncio.run(ch.enqueue(request(max_wait_ms=60_000), on_answer=no_op))
    assert (out.status, out.wait_ms) == ("timeout", 60_000)


def test_an_empty_queue_is_reported_at_once():
    ch = make([], [("li", AgentScript(), AgentState.LOGGED_OFF)])
    out = asyncio.run(ch.enqueue(request(), on_answer=no_op))
    assert (out.status, out.wait_ms) == ("empty", 0)
    assert kinds(ch).count("queue_joined") == 0


def test_a_busy_agent_who_frees_up_answers_the_waiting_caller():
    ch = make([], [("li", AgentScript(answer_after_ms=1000), AgentState.BUSY)])
    ch.centre.scripts["li"].free_at = T0 + timedelta(seconds=30)
    out = asyncio.run(ch.enqueue(request(), on_answer=no_op))
    assert (out.status, out.wait_ms) == ("answered", 31_000)


def test_a_higher_priority_caller_is_served_first():
    ch = make([], [("li", AgentScript(answer_after_ms=1000), AgentState.BUSY)])
    ch.centre.scripts["li"].free_at = T0 + timedelta(seconds=30)
    ch.centre.add_caller("service", "vip", priority=10, joined=T0 + timedelta(seconds=5),
                         talk_ms=100_000)
    out = asyncio.run(ch.enqueue(request(max_wait_ms=300_000), on_answer=no_op))
    # li takes the VIP at 30 s, is free again at 130 s, then rings for 1 s
    assert (out.status, out.position, out.wait_ms) == ("answered", 1, 131_000)


def test_ring_no_answer_moves_on_to_the_next_member():
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("li", AgentScript(answer_after_ms=2000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(strategy="linear", ring_ms=10_000), on_answer=no_op))
    assert out.conversation.agent == "li"
    assert out.wait_ms == 10_000 + 5_000 + 2_000  # ring, app_queue's retry, ring
    assert entries(ch, "ring_no_answer")[0]["agents"] == ["rna"]


def test_leastrecent_without_autopause_rings_the_same_member_again():
    # as Asterisk 22 did (tests/asterisk/captures/ami-queue-leastrecent.txt): the member
    # who never answers is still the least recent, and is rung again after every retry
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("li", AgentScript(answer_after_ms=2000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(strategy="leastrecent", autopause="no",
                                         ring_ms=5_000, max_wait_ms=30_000), on_answer=no_op))
    assert out.status == "timeout"
    assert [e["agents"] for e in entries(ch, "ring_no_answer")] == [["rna"]] * 3
    assert ch.centre.agent("rna").state == AgentState.AVAILABLE


def test_autopause_pauses_the_member_in_the_queue_and_rings_on():
    # ami-queue-leastrecent-autopause.txt: AgentRingNoAnswer, QueueMemberPause
    # (Auto-Pause) in that queue only, the next member after retry
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("li", AgentScript(answer_after_ms=2000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(strategy="leastrecent", autopause="yes",
                                         ring_ms=5_000), on_answer=no_op))
    assert (out.conversation.agent, out.wait_ms) == ("li", 5_000 + 5_000 + 2_000)
    assert entries(ch, "queue_member_paused") == [
        {"queue": "service", "agent": "rna", "reason": "Auto-Pause", "at": 5_000}]
    assert ch.centre.is_paused("service", "rna") and not ch.centre.is_paused("other", "rna")
    assert ch.centre.agent("rna").state == AgentState.AVAILABLE  # other queues still ring it
    ch.centre.unpause("rna")
    assert not ch.centre.is_paused("service", "rna")


def test_autopause_all_pauses_the_member_everywhere():
    # ami-queue-leastrecent-autopause-all.txt: paused in every queue it is a member of
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("li", AgentScript(answer_after_ms=2000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(strategy="leastrecent", autopause="all",
                                         ring_ms=5_000), on_answer=no_op))
    assert out.conversation.agent == "li"
    assert ch.centre.agent("rna").state == AgentState.PAUSED
    assert ch.centre.is_paused("other", "rna")


def test_rrmemory_rings_on_without_autopause():
    # ami-queue-rrmemory.txt: after the no-answer, the next member in order
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("li", AgentScript(answer_after_ms=2000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(strategy="rrmemory", autopause="no", ring_ms=5_000),
                                 on_answer=no_op))
    assert (out.conversation.agent, out.wait_ms) == ("li", 12_000)
    assert not ch.centre.is_paused("service", "rna")


def test_ringall_pauses_nobody_when_one_answers():
    # ami-queue-ringall.txt: the other rings end with no AgentRingNoAnswer
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("li", AgentScript(answer_after_ms=2000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(autopause="yes"), on_answer=no_op))
    assert (out.conversation.agent, out.wait_ms) == ("li", 2000)
    assert not ch.centre.is_paused("service", "rna")
    assert entries(ch, "queue_member_paused") == []


def test_ringall_gives_the_call_to_the_first_to_answer():
    ch = make([], [("slow", AgentScript(answer_after_ms=8000), AgentState.AVAILABLE),
                   ("fast", AgentScript(answer_after_ms=3000), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(), on_answer=no_op))
    assert (out.conversation.agent, out.wait_ms) == ("fast", 3000)
    assert ch.centre.agent("slow").state == AgentState.AVAILABLE


def test_the_wait_limit_cuts_a_ring_in_progress():
    ch = make([], [("rna", AgentScript(answer_after_ms=None), AgentState.AVAILABLE)])
    out = asyncio.run(ch.enqueue(request(max_wait_ms=12_000, ring_ms=20_000),
                                 on_answer=no_op))
    assert (out.status, out.wait_ms) == ("timeout", 12_000)


def test_position_is_announced_with_music_between():
    ch = make([], [("li", AgentScript(), AgentState.BUSY)])
    ch.centre.add_caller("service", "bg", joined=T0, talk_ms=1000)
    out = asyncio.run(ch.enqueue(request(max_wait_ms=65_000, announce_position_ms=30_000),
                                 on_answer=no_op))
    assert out.status == "timeout" and out.position == 2
    assert [d["position"] for d in entries(ch, "position")] == [2, 2]
    heard = [s.text for s in ch.heard()]
    assert heard[:3] == ["queue-thereare", "2", "queue-callswaiting"]
    assert entries(ch, "queue_joined")[0]["music"] == "default"


def test_a_queue_without_a_wait_limit_ends_at_the_callers_limit():
    clock = VirtualClock(T0)
    centre = SimCentre(now=T0)
    centre.add_agent(Agent("li", skills={"general": 1}, state=AgentState.PAUSED))
    info = CallInfo("c1", "+8613800000001", None, "400", T0)
    ch = SimChannel(info, clock, ScriptedCaller([], max_call_ms=600_000), centre)
    with pytest.raises(CallHungUp):
        asyncio.run(ch.enqueue(request(max_wait_ms=None), on_answer=no_op))
    assert elapsed(ch) == 600_000


# -- determinism ------------------------------------------------------------------------------


def test_the_same_script_gives_the_same_log():
    def call():
        ch = make([Press("1", after_ms=300), Silence(2000), Press("20261128#"),
                   HangUp(after_ms=90_000)],
                  [("li", AgentScript(answer_after_ms=None), AgentState.AVAILABLE),
                   ("wang", AgentScript(answer_after_ms=4000), AgentState.AVAILABLE)])
        ch.centre.rng.seed(3)

        async def flow():
            await ch.answer()
            await ch.play([WELCOME], interrupt_keys="1")
            await ch.read_digits([MENU], max_digits=10, timeout_ms=5000, inter_digit_ms=3000,
                                 end_key="#")
            await ch.enqueue(request(strategy="random", autopause="yes"), on_answer=no_op)

        asyncio.run(flow())
        return ch.log.entries, ch.clock.now()

    assert call() == call()
