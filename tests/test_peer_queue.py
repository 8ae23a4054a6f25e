"""The test peer's app_queue replays the queue captures (tests/asterisk/captures/ami-queue-*.txt).

The experiment's seven queues and four members are set up as its queues.conf had them, a caller
runs Queue(<queue>,,,,45) on a virtual clock, and every app_queue event the model sends is the
captured one: at the same second after the join, with the same headers in the same order and
the same values (the caller's channel, the member's new channel, RingTime, HoldTime, Paused,
PausedReason, CallsTaken, LastPause, LastCall...). Then the rotation rules beyond one call.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from doubles.ami_sync import APP_QUEUE_EVENTS
from doubles.transcript import ami_events

from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.testing.peer.app_queue import AppQueue, Phone, QueueConf
from ccdsl.runtime.testing.peer.queue_call import run_queue
from ccdsl.runtime.testing.peer.queue_events import ChannelSnapshot

# the experiment's queues.conf (captures README): timeout 5, retry 2, the ccdsl
# empty rules, ringinuse no, four static members; one section per case
SETTINGS = ("timeout = 5\nretry = 2\ntimeoutpriority = app\nringinuse = no\n"
            "joinempty = unavailable,invalid,unknown\n"
            "leavewhenempty = unavailable,invalid,unknown\n")
MEMBERS = ("member => Local/8099@agx,0,a0\nmember => Local/8001@agx,0,a1\n"
           "member => Local/8002@agx,0,a2\nmember => Local/8003@agx,0,never\n")
QUEUES = {"exp-ra": "strategy = ringall\n", "exp-lr": "strategy = leastrecent\n",
          "exp-lrap": "strategy = leastrecent\nautopause = yes\n",
          "exp-rrap": "strategy = rrmemory\nautopause = yes\n",
          "exp-rr": "strategy = rrmemory\n",
          "exp-lrall": "strategy = leastrecent\nautopause = all\n",
          "exp-lin": "strategy = linear\n"}
CONF = "".join(f"[{q}]\n{extra}{SETTINGS}{MEMBERS}" for q, extra in QUEUES.items())
# the epoch second the caller joined at, read off each capture's LastPause and
# LastCall (the join came a fraction of a second after the caller's Uniqueid)
JOINED = {"ami-queue-leastrecent.txt": 1796549912.0,
          "ami-queue-leastrecent-autopause.txt": 1796549926.5,
          "ami-queue-leastrecent-autopause-all.txt": 1796549942.5,
          "ami-queue-ringall.txt": 1796549965.0, "ami-queue-rrmemory.txt": 1796550027.0}
MEMBER_KEYS = ("Queue", "MemberName", "Interface", "StateInterface", "Membership", "Penalty",
               "CallsTaken", "LastCall", "LastPause", "LoginTime", "InCall", "Status",
               "Paused", "PausedReason", "Ringinuse", "Wrapuptime")
CALLER_KEYS = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
               "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context",
               "Exten", "Priority", "Uniqueid", "Linkedid")
MEMBER_CALL = ("Queue", "Interface", "MemberName", "DestChannel", "DestChannelState",
               "DestCallerIDNum", "DestConnectedLineNum", "DestContext", "DestExten",
               "DestLinkedid")
KEYS = {"QueueCallerJoin": CALLER_KEYS + ("Queue", "Position", "Count"),
        "QueueCallerLeave": CALLER_KEYS + ("Queue", "Position", "Count"),
        "QueueCallerAbandon": CALLER_KEYS + ("Queue", "Position", "OriginalPosition",
                                             "HoldTime"),
        "AgentCalled": CALLER_KEYS + MEMBER_CALL,
        "AgentRingNoAnswer": MEMBER_CALL + ("RingTime",),
        "AgentConnect": MEMBER_CALL + ("HoldTime", "RingTime"),
        "AgentComplete": MEMBER_CALL + ("HoldTime", "TalkTime", "Reason"),
        "QueueMemberPause": MEMBER_KEYS, "QueueMemberStatus": MEMBER_KEYS}


class Line:
    """A QueueLine on a virtual clock: the caller hangs up at `hangup`, or
    when a conversation they end is over."""

    def __init__(self, clock: VirtualClock, hangup: datetime | None = None) -> None:
        self.clock = clock
        self.hangup = hangup
        self.legs: list[tuple[str, str]] = []  # (member, its channel) the gosub ran on

    def now(self) -> datetime:
        return self.clock.now()

    async def pass_ms(self, ms: int | None) -> None:
        end = None if ms is None else self.clock.now() + timedelta(milliseconds=ms)
        if self.hangup is not None and (end is None or self.hangup <= end):
            self.clock.advance(max(0, round((self.hangup - self.clock.now()).total_seconds()
                                            * 1000)))
            raise CallHungUp("the caller hung up")
        assert end is not None, "a caller who never hangs up waits for ever"
        self.clock.advance(ms)

    async def answered(self, member, channel) -> None:
        self.legs.append((member.name, channel.name))

    def caller_ends(self) -> None:
        self.hangup = self.clock.now()


def experiment(first_channel: int = 0x0F, login: int = 0) -> AppQueue:
    app = AppQueue(first_channel=first_channel)
    app.load_conf(CONF)
    for queue in app.queues.values():
        for member in queue.members.values():
            member.login_time = login
    return app


def captured(name: str) -> tuple[float, list[tuple[int, dict[str, str]]]]:
    """The capture's app_queue events, each at its whole second after the join."""
    events = [(at, e) for at, e in ami_events(name) if e["Event"] in APP_QUEUE_EVENTS]
    joined = events[0][0]
    return joined, [(round(at - joined), e) for at, e in events]


def comparable(events) -> list[tuple]:
    return [(at, e["Event"], tuple((k, str(e[k])) for k in KEYS[str(e["Event"])]))
            for at, e in events]


def replay(name: str, *, hangup_s: float | None = None, prepare=None,
           unpause: str | None = None) -> tuple[list, list, Line]:
    """Run the capture's call through the model; (model's events, captured
    events, the line), events as (second after the join, headers)."""
    joined, expected = captured(name)
    join = next(e for _, e in expected if e["Event"] == "QueueCallerJoin")
    calls = [e for _, e in expected if e["Event"] == "AgentCalled"]
    first = int(calls[0]["DestChannel"].rsplit("-", 1)[1].split(";")[0], 16)
    login = int(next((e["LoginTime"] for _, e in expected if "LoginTime" in e), 0))
    app = experiment(first, login)
    # the phones: `never` never answers, the others after Wait(2); the talk
    # lasts until the client's hang-up, which the Reason says who it ended
    connect = [at for at, e in ami_events(name) if e["Event"] == "AgentConnect"]
    complete = [(at, e) for at, e in ami_events(name) if e["Event"] == "AgentComplete"]
    talk_ms = round((complete[0][0] - connect[0]) * 1000) if complete else 60_000
    ends = complete[0][1]["Reason"] if complete else "agent"
    app.phones["never"] = Phone(answer_after_ms=None)
    for name_ in ("a0", "a1", "a2"):
        app.phones[name_] = Phone(answer_after_ms=2_000, talk_ms=talk_ms, hangs_up=ends)
    if prepare is not None:
        prepare(app)
    start = datetime.fromtimestamp(JOINED[name], UTC)
    clock = VirtualClock(start)
    got: list[tuple[int, dict]] = []
    app.listeners.append(lambda e: got.append(
        (round((clock.now() - start).total_seconds()), e)))
    caller = ChannelSnapshot(
        join["Channel"], join["Uniqueid"], join["Linkedid"], context=join["Context"],
        exten=join["Exten"], priority=int(join["Priority"]), caller_num=join["CallerIDNum"],
        caller_name=join["CallerIDName"], connected_num=join["ConnectedLineNum"],
        connected_name=join["ConnectedLineName"])
    line = Line(clock, start + timedelta(seconds=hangup_s) if hangup_s is not None else None)
    asyncio.run(run_queue(app, join["Queue"], caller, line, timeout_s=45))
    if unpause is not None:  # the client's QueuePause, Paused: false, no Queue
        app.listeners[-1] = lambda e: got.append((None, e))  # after the call: no time
        app.pause(unpause, False)
    expected = [(None if e["Event"] == "QueueMemberPause" and e["Paused"] == "0" else at, e)
                for at, e in expected]
    return got, expected, line


def test_leastrecent_without_autopause_rings_the_same_member_after_every_retry() -> None:
    # the client hung the caller (and the ringing member's channel) up 39.6 s
    # after the join; the model's caller hangs up then, and only the last
    # AgentRingNoAnswer, which the member's channel hanging up made, is not the model's
    got, expected, _ = replay("ami-queue-leastrecent.txt", hangup_s=39.59)
    last_ring_out = [e for _, e in expected if e["Event"] == "AgentRingNoAnswer"][-1]
    assert last_ring_out["RingTime"] == "4000"
    expected = [(at, e) for at, e in expected if e is not last_ring_out]
    assert comparable(got) == comparable(expected)
    rung = [(at, e["MemberName"]) for at, e in got if e["Event"] == "AgentCalled"]
    assert rung == [(0, "never"), (7, "never"), (14, "never"), (21, "never"), (28, "never"),
                    (35, "never")]


def test_autopause_yes_pauses_the_member_in_that_queue_and_rings_the_next() -> None:
    got, expected, line = replay("ami-queue-leastrecent-autopause.txt",
                                 unpause="Local/8003@agx")
    assert comparable(got) == comparable(expected)  # the whole exchange, in order
    pauses = [(e["Queue"], e["Paused"], e["PausedReason"]) for _, e in got
              if e["Event"] == "QueueMemberPause"]
    assert pauses[0] == ("exp-lrap", 1, "Auto-Pause")
    assert pauses[1:] == [(q, 0, "") for q in ("exp-ra", "exp-lr", "exp-lrap", "exp-rrap",
                                               "exp-rr", "exp-lrall", "exp-lin")]
    assert line.legs == [("a2", "Local/8002@agx-00000010;1")]  # the gosub on a2's channel


def test_autopause_all_pauses_the_member_in_every_queue() -> None:
    got, expected, _ = replay("ami-queue-leastrecent-autopause-all.txt",
                              unpause="Local/8003@agx")
    _same_but_the_racing_statuses(got, expected)
    auto = [(at, e["Queue"]) for at, e in got if e["Event"] == "QueueMemberPause"
            and e["Paused"] == 1]
    assert auto == [(5, q) for q in ("exp-ra", "exp-lr", "exp-lrap", "exp-rrap", "exp-rr",
                                     "exp-lrall", "exp-lin")]


def test_ringall_rings_every_member_at_once_and_the_others_end_silently() -> None:
    got, expected, _ = replay("ami-queue-ringall.txt")
    _same_but_the_racing_statuses(got, expected)
    rung = [(at, e["MemberName"]) for at, e in got if e["Event"] == "AgentCalled"]
    assert rung == [(0, "never"), (0, "a2"), (0, "a1"), (0, "a0")]
    assert not [e for _, e in got if e["Event"] == "AgentRingNoAnswer"]


def test_rrmemory_moves_on_to_the_next_member_after_a_no_answer() -> None:
    def sixth_call(app: AppQueue) -> None:
        # after a1, a2, never-then-a0, a1, a2: `never` is next, a0 has one call
        queue = app.queues["exp-rr"]
        queue.rrpos = queue.members["Local/8003@agx"].queuepos
        a0 = queue.members["Local/8099@agx"]
        a0.calls_taken, a0.last_call = 1, 1796550008

    got, expected, _ = replay("ami-queue-rrmemory.txt", prepare=sixth_call)
    assert comparable(got) == comparable(expected)


def _same_but_the_racing_statuses(got, expected) -> None:
    """app_queue's QueueMemberStatus of the answering member comes from its
    device's state, which raced the connect in these captures (before the
    QueueCallerLeave, InCall still 0): the other events in order, and the
    statuses in theirs, InCall aside."""
    def others(events):
        return comparable([(at, e) for at, e in events if e["Event"] != "QueueMemberStatus"])

    def statuses(events):
        return [(at, [kv for kv in fields if kv[0] != "InCall"])
                for at, _, fields in comparable([(at, e) for at, e in events
                                                  if e["Event"] == "QueueMemberStatus"])]

    assert others(got) == others(expected)
    assert statuses(got) == statuses(expected)


@pytest.mark.parametrize("name", sorted(JOINED))
def test_every_event_has_the_captured_headers_in_their_order(name: str) -> None:
    got, _, _ = replay(name, hangup_s=39.59 if name == "ami-queue-leastrecent.txt" else None,
                       unpause="Local/8003@agx")
    headers = {}
    for capture in JOINED:
        for _, e in ami_events(capture):
            headers.setdefault(e["Event"], list(e))
    for _, event in got:
        assert list(event) == headers[str(event["Event"])], event["Event"]


# ---- beyond one call --------------------------------------------------------------------


def call(app: AppQueue, queue: str, n: int, *, timeout_s: int | None = 45,
         hangup_s: float | None = None) -> tuple[list[tuple[int, dict]], dict, Line]:
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC) + timedelta(hours=n)
    clock = VirtualClock(start)
    got: list[tuple[int, dict]] = []

    def keep(event):
        got.append((round((clock.now() - start).total_seconds() * 1000), event))

    app.listeners.append(keep)
    line = Line(clock, start + timedelta(seconds=hangup_s) if hangup_s is not None else None)
    caller = ChannelSnapshot(f"PJSIP/caller-{n:08x}", f"1796600000.{n}", f"1796600000.{n}",
                             context="ccf-inbound", exten="4008005678")
    try:
        result = asyncio.run(run_queue(app, queue, caller, line, timeout_s=timeout_s))
    finally:
        app.listeners.remove(keep)
    return got, {**result.variables, "result": result.result}, line


def rung(events) -> list[str]:
    return [e["MemberName"] for _, e in events if e["Event"] == "AgentCalled"]


def test_rrmemory_goes_round_the_members_call_after_call_as_the_captured_run() -> None:
    app = experiment()
    app.phones["never"] = Phone(answer_after_ms=None)
    app.queues["exp-rr"].rrpos = 1  # the run began after a call to a0
    runs = [rung(call(app, "exp-rr", n)[0]) for n in range(6)]
    assert runs == [["a1"], ["a2"], ["never", "a0"], ["a1"], ["a2"], ["never", "a0"]]


def test_leastrecent_rings_the_member_whose_last_call_is_oldest() -> None:
    app = experiment()
    lrap = app.queues["exp-lrap"]
    assert [m.name for m in lrap.ordered()] == ["a0", "a1", "a2", "never"]  # hash buckets
    first = rung(call(app, "exp-lrap", 1)[0])
    assert first == ["never"]  # no last call anywhere: the last of the container
    # never answers (the default phone) and takes the call: a2 is next, then a1, a0
    assert [rung(call(app, "exp-lrap", n)[0]) for n in (2, 3, 4)] == [["a2"], ["a1"], ["a0"]]
    assert rung(call(app, "exp-lrap", 5)[0]) == ["never"]  # the oldest last call again


def test_a_paused_member_and_one_not_logged_in_are_never_rung() -> None:
    app = experiment()
    app.phones["a2"] = Phone(answer_after_ms=None)
    app.pause("Local/8003@agx", True, "exp-lr", "lunch")  # never: paused in this queue
    app.set_device("Local/8001@agx", "UNAVAILABLE")  # a1: its phone is logged off
    got, result, _ = call(app, "exp-lr", 1, timeout_s=30)
    # a2 before a0 among equals (bucket 22 after 9); with no autopause in exp-lr
    # it rings out and rings again every 7 s until Queue()'s 30 s are up
    assert rung(got) == ["a2"] * 5
    assert result["QUEUESTATUS"] == "TIMEOUT" and result["result"] == 0
    # nobody left to ring: still in the queue (paused counts as there), so the caller
    # waits out Queue()'s timeout with no ring, then leaves as abandoned
    for interface in ("Local/8099@agx", "Local/8002@agx"):
        app.pause(interface, True, "exp-lr")
    got, result, _ = call(app, "exp-lr", 2, timeout_s=20)
    assert rung(got) == []
    assert [(ms, e["Event"]) for ms, e in got] == [
        (0, "QueueCallerJoin"), (20_000, "QueueCallerAbandon"), (20_000, "QueueCallerLeave")]
    assert result == {"QUEUESTATUS": "TIMEOUT", "QUEUEPOSITION": "1", "ABANDONED": "TRUE",
                      "result": 0}


def test_no_member_logged_in_means_joinempty_and_no_event() -> None:
    app = experiment()
    for device in ("Local/8099@agx", "Local/8001@agx", "Local/8002@agx", "Local/8003@agx"):
        app.set_device(device, "UNAVAILABLE")
    got, result, _ = call(app, "exp-lr", 1)
    assert got == [] and result == {"QUEUESTATUS": "JOINEMPTY", "result": 0}


def test_a_caller_who_hangs_up_while_a_member_rings_abandons_without_a_ring_no_answer() -> None:
    app = experiment()
    app.phones["never"] = Phone(answer_after_ms=None)
    got, result, _ = call(app, "exp-lrap", 1, hangup_s=3.5)
    assert [(ms, e["Event"]) for ms, e in got] == [
        (0, "QueueCallerJoin"), (0, "AgentCalled"), (3_500, "QueueCallerAbandon"),
        (3_500, "QueueCallerLeave")]
    assert result == {"ABANDONED": "TRUE", "QUEUEPOSITION": "1", "result": -1}
    assert not app.queues["exp-lrap"].members["Local/8003@agx"].paused


def test_an_answered_call_sets_what_queues_conf_asks_for() -> None:
    app = AppQueue()
    app.load_conf("[ccf-service]\nstrategy = leastrecent\ntimeout = 15\nretry = 5\n"
                  "ringinuse = no\nsetinterfacevar = yes\nsetqueueentryvar = yes\n"
                  "member => PJSIP/8002,0,li\n")
    assert app.queues["ccf-service"].conf == QueueConf(
        strategy="leastrecent", ringinuse=False, setinterfacevar=True, setqueueentryvar=True)
    got, result, line = call(app, "ccf-service", 1)
    assert result == {"QUEUESTATUS": "CONTINUE", "QUEUEPOSITION": "1",
                      "MEMBERINTERFACE": "PJSIP/8002", "MEMBERNAME": "li", "MEMBERCALLS": "0",
                      "MEMBERLASTCALL": "0", "MEMBERPENALTY": "0", "MEMBERDYNAMIC": "0",
                      "MEMBERREALTIME": "0", "QEHOLDTIME": "2", "QEORIGINALPOS": "1",
                      "result": 0}
    assert line.legs == [("li", "PJSIP/8002-0000000f")]
    assert [e["Event"] for _, e in got] == [
        "QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect",
        "QueueMemberStatus", "AgentComplete", "QueueMemberStatus"]
    done = got[-1][1]
    assert (done["CallsTaken"], done["Status"], done["InCall"]) == (1, 1, 0)
