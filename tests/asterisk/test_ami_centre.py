"""AmiCentre: AMI member, device and call events give the AgentState the
routing engine needs; resync (the link's on_connect) rebuilds the mirror
from Asterisk's lists; ensure_members makes the agents queue members."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from doubles.ami_server import AmiPeer
from doubles.ami_wire import error

from asterisk.centre import until
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage
from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.routing import RuleLine, decide

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def agents() -> list[Agent]:
    return [Agent("a1", "Ann", "100", {"sales": 5}), Agent("a2", "Bob", "101", {"sales": 2}),
            Agent("a3", "Cy", "", {"tech": 3})]


def centre(template: str = "PJSIP/{extension}") -> tuple[AmiCentre, VirtualClock]:
    clock = VirtualClock(T0)
    return AmiCentre(agents(), template, queues=("sales", "acme.support"), clock=clock), clock


def ev(name: str, **headers: object) -> AmiMessage:
    return AmiMessage({"Event": name, **{k: str(v) for k, v in headers.items()}})


def member(name: str = "QueueMemberAdded", queue: str = "ccf-sales", who: str = "a1",
           interface: str = "PJSIP/100", status: int = 1, paused: int = 0) -> AmiMessage:
    return ev(name, Queue=queue, MemberName=who, Interface=interface,
              StateInterface=interface, Membership="dynamic", Penalty=0, CallsTaken=0,
              LastCall=0, Status=status, Paused=paused)


@pytest.mark.parametrize(("device", "state"), [
    ("NOT_INUSE", AgentState.AVAILABLE), ("UNKNOWN", AgentState.AVAILABLE),
    ("INUSE", AgentState.BUSY), ("BUSY", AgentState.BUSY), ("ONHOLD", AgentState.BUSY),
    ("RINGINUSE", AgentState.BUSY), ("RINGING", AgentState.RINGING),
    ("UNAVAILABLE", AgentState.LOGGED_OFF), ("INVALID", AgentState.LOGGED_OFF)])
def test_device_states_map_to_agent_states(device, state):
    c, _ = centre()
    c.apply(ev("DeviceStateChange", Device="PJSIP/100", State=device))
    assert c.agent("a1").state == state
    assert c.agent("a2").state == AgentState.AVAILABLE  # untouched


def test_member_events_queues_pause_and_removal():
    c, clock = centre()
    c.apply(member())
    a1 = c.agent("a1")
    assert a1.state == AgentState.AVAILABLE and a1.queues == ("sales",)
    c.apply(member("QueueMemberAdded", queue="ccf-acme_support"))
    assert c.agent("a1").queues == ("acme.support", "sales")  # IR names
    c.apply(member("QueueMemberPause", paused=1))
    assert c.agent("a1").state == AgentState.AVAILABLE  # still free in acme.support
    c.apply(member("QueueMemberPause", queue="ccf-acme_support", paused=1))
    assert c.agent("a1").state == AgentState.PAUSED
    clock.advance(60_000)
    c.apply(member("QueueMemberPause", paused=0))
    assert c.agent("a1").state == AgentState.AVAILABLE
    assert c.agent("a1").idle_since == clock.now()
    c.apply(member("QueueMemberRemoved"))
    assert c.agent("a1").queues == ("acme.support",)
    c.apply(member("QueueMemberStatus", queue="ccf-acme_support", status=6, paused=1))
    assert c.agent("a1").state == AgentState.RINGING  # ringing beats paused


def test_members_found_by_interface_and_foreign_devices_ignored():
    c, _ = centre("Local/{extension}@agents")
    c.apply(member(who="Agent 100", interface="Local/100@agents", status=2))
    assert c.agent("a1").state == AgentState.BUSY
    c.apply(ev("DeviceStateChange", Device="Queue:sales_avail", State="INUSE"))
    c.apply(ev("DeviceStateChange", Device="Local/999@agents", State="INUSE"))
    c.apply(ev("DeviceStateChange", Device="Local/101@agents", State="NONSENSE"))
    assert [a.state for a in c.agents()] == [AgentState.BUSY, AgentState.AVAILABLE,
                                             AgentState.AVAILABLE]


def test_queue_calls_ringing_talking_done_and_waiting():
    c, clock = centre()
    c.apply(member())
    c.apply(ev("QueueCallerJoin", Queue="ccf-sales", Position=1, Count=1))
    c.apply(ev("QueueCallerJoin", Queue="ccf-sales", Position=2, Count=2))
    assert c.queue_waiting("sales") == 2
    c.apply(ev("AgentCalled", Queue="ccf-sales", Interface="PJSIP/100", MemberName="a1"))
    assert c.agent("a1").state == AgentState.RINGING
    c.apply(ev("QueueCallerLeave", Queue="ccf-sales", Position=1, Count=1))
    c.apply(ev("AgentConnect", Queue="ccf-sales", Interface="PJSIP/100", MemberName="a1",
               HoldTime=20, RingTime=3))
    assert c.agent("a1").state == AgentState.BUSY and c.queue_waiting("sales") == 1
    # the only member busy, one caller ahead: a1's call, then that caller's,
    # each a talk time (not measured yet: the default three minutes)
    assert c.queue_expected_wait_ms("sales") == 360_000
    clock.advance(120_000)
    c.apply(ev("AgentComplete", Queue="ccf-sales", Interface="PJSIP/100", MemberName="a1",
               HoldTime=20, TalkTime=120, Reason="caller"))
    a1 = c.agent("a1")
    assert a1.state == AgentState.AVAILABLE and a1.calls_taken == 1
    assert a1.idle_since == clock.now()
    # free member, one waiting ahead of us: that caller gets a1, we wait for
    # a1's next call, averaged as app_queue does: (3 * 0 + 120) / 4 s
    assert c.queue_expected_wait_ms("sales") == 30_000
    assert c.queue_waiting("unknown") == 0


def test_routing_reads_the_mirror():
    c, _ = centre()
    c.apply(member())
    c.apply(member(who="a2", interface="PJSIP/101"))
    c.apply(ev("DeviceStateChange", Device="PJSIP/100", State="INUSE"))
    decision = decide(RuleLine("skills", skills={"sales": 1}), c.pool)
    assert decision.action == "dial" and decision.agent == "a2"
    busy = decide(RuleLine("agent", target="a1"), c.pool)
    assert busy.action == "skip" and busy.reason == "agent a1 is busy"


async def _with_link(peer: AmiPeer, c: AmiCentre, body):
    port = await peer.start()
    link = AmiLink("127.0.0.1", port, "ccf", "s", on_event=c.apply, on_connect=c.resync,
                   backoff=(0.05, 0.2), ping_interval=None)
    try:
        await link.start()
        return await body(link)
    finally:
        await link.close()
        await peer.stop()


def test_resync_on_connect_and_rebuild_after_reconnect():
    c, _ = centre()
    peer = AmiPeer(users={"ccf": "s"}, queues=("ccf-sales",))
    peer.devices["PJSIP/101"] = "UNAVAILABLE"

    async def body(link):
        # on_connect resynced an empty centre; now make members, live
        await c.ensure_members(link, {"ccf-sales": {"sales": 1}})
        await c.ensure_members(link, {"ccf-sales": {"sales": 1}})  # Already there: fine
        peer.add_caller("ccf-sales")
        await until(lambda: c.queue_waiting("sales") == 1 and c.agent("a1").queues,
                    "the centre resynced")
        live = {a.id: (a.state, a.queues) for a in c.agents()}
        # while the link is down: a1 leaves the queue, a1's phone rings,
        # the caller hangs up; events that nobody hears
        peer.drop()
        await until(lambda: not link.connected, "the link to notice the drop")
        peer.queues["ccf-sales"].members.pop("PJSIP/100")
        peer.queues["ccf-sales"].callers.clear()
        peer.devices["PJSIP/100"] = "RINGING"
        await until(lambda: link.connected and link.connects == 2, "the link back")
        await until(lambda: c.agent("a1").state == AgentState.RINGING
                    and not c.agent("a1").queues and c.queue_waiting("sales") == 0,
                    "the centre rebuilt from the lists")
        after = {a.id: (a.state, a.queues) for a in c.agents()}
        return live, after, c.queue_waiting("sales")

    live, after, waiting = asyncio.run(_with_link(peer, c, body))
    assert live == {"a1": (AgentState.AVAILABLE, ("sales",)),
                    "a2": (AgentState.LOGGED_OFF, ("sales",)),
                    "a3": (AgentState.AVAILABLE, ())}
    # rebuilt from the lists, not appended to what was there
    assert after == {"a1": (AgentState.RINGING, ()),
                     "a2": (AgentState.LOGGED_OFF, ("sales",)),
                     "a3": (AgentState.AVAILABLE, ())}
    assert waiting == 0


def test_resync_without_devicestatelist_reads_channels():
    c, _ = centre()
    peer = AmiPeer(users={"ccf": "s"}, queues=("ccf-sales",))

    async def no_list(session, request):
        error(session, request, "Invalid/unknown command: DeviceStateList. "
                                "Use Action: ListCommands to show available commands.")

    peer._action_devicestatelist = no_list

    async def body(link):
        await link.action("Originate", Channel="PJSIP/101", Application="Wait", Data="5",
                          Async="true")
        await c.resync(link)
        return c.agent("a2").state, [a.get("Action") for a in peer.actions][-3:]

    state, actions = asyncio.run(_with_link(peer, c, body))
    assert state == AgentState.BUSY
    assert actions == ["QueueStatus", "DeviceStateList", "CoreShowChannels"]


def test_events_during_resync_are_applied_after_the_snapshot():
    c, _ = centre()

    class SlowLink:
        async def list_action(self, action, **headers):
            if action == "QueueStatus":
                c.apply(ev("DeviceStateChange", Device="PJSIP/100", State="INUSE"))
                return (AmiMessage({"Response": "Success", "EventList": "start"}),
                        [member(status=1)])
            return AmiMessage({"Response": "Success", "EventList": "start"}), []

    asyncio.run(c.resync(SlowLink()))
    assert c.agent("a1").state == AgentState.BUSY


def test_ensure_members_reports_refusals():
    c, _ = centre()
    peer = AmiPeer(users={"ccf": "s"}, queues=("ccf-sales",))

    async def body(link):
        with pytest.raises(AmiError) as info:
            await c.ensure_members(link, {"ccf-nosuch": {"sales": 3}})
        adds = [a for a in peer.actions if a.get("Action") == "QueueAdd"]
        return str(info.value), adds

    text, adds = asyncio.run(_with_link(peer, c, body))
    assert "ccf-nosuch: agent a1 (PJSIP/100): Unable to add interface to queue: " \
           "No such queue" in text
    # only a1 has sales >= 3; a3 has no extension and no sales skill
    assert [(a["MemberName"], a["Interface"]) for a in adds] == [("a1", "PJSIP/100")]


def _queue_adds(logged_in=None) -> tuple[list, AmiPeer]:
    """ensure_members over a1 (ready) and a4 (offline in the agents file):
    the QueueAdd actions it sent, and the peer."""
    agents = [Agent("a1", "Ann", "100", {"sales": 5}),
              Agent("a4", "Dee", "104", {"sales": 5}, state=AgentState.LOGGED_OFF)]
    c = AmiCentre(agents, "PJSIP/{extension}", queues=("sales",), clock=VirtualClock(T0))
    peer = AmiPeer(users={"ccf": "s"}, queues=("ccf-sales",))

    async def body(link):
        await c.ensure_members(link, {"ccf-sales": {"sales": 1}}, logged_in=logged_in)
        return [a for a in peer.actions if a.get("Action") == "QueueAdd"]

    return asyncio.run(_with_link(peer, c, body)), peer


def test_a_logged_off_agent_is_not_made_a_queue_member():
    # on Asterisk 22 a logged-off agent added as a member took calls (its
    # Local device reads "Not in use"); the simulator offers it none
    adds, _ = _queue_adds()
    assert [a["MemberName"] for a in adds] == ["a1"]


def test_ensure_members_adds_whom_the_desk_says_is_logged_in_as_dynamic_members():
    # ccf serve passes the console desk's logged_in: it wins over the agents file
    [add], peer = _queue_adds(logged_in=lambda agent: agent == "a4")
    assert (add["MemberName"], add["Interface"], add["Penalty"]) == ("a4", "PJSIP/104", "0")
    [m] = peer.app_queue.queues["ccf-sales"].members.values()
    assert m.dynamic and m.penalty == 0


def test_resync_lists_the_live_channels_and_events_keep_them_current():
    c, _ = centre()
    peer = AmiPeer(users={"ccf": "s"}, queues=("ccf-sales",))

    async def body(link):
        await link.action("Originate", Channel="Local/4008001234@ccf-inbound",
                          Application="Wait", Data="30", Async="true",
                          CallerID='"Alice" <+8613800000001>')
        await c.resync(link)
        listed = {name: dict(facts) for name, facts in c.channels.items()}
        actions = [a.get("Action") for a in peer.actions][-3:]
        return listed, actions

    listed, actions = asyncio.run(_with_link(peer, c, body))
    assert actions == ["QueueStatus", "DeviceStateList", "CoreShowChannels"]
    assert listed, "the originated call's channels are listed"
    assert all(facts.get("Uniqueid") for facts in listed.values())
    # a hang-up removes a channel; a new one is added with its facts
    gone = next(iter(listed))
    c.apply(ev("Hangup", Channel=gone, Uniqueid="1.1", Cause=16))
    c.apply(ev("Newchannel", Channel="PJSIP/100-0000000a", ChannelState=4,
               ChannelStateDesc="Ring", CallerIDNum="+8613900000000", Uniqueid="1795.7",
               Linkedid="1795.7", Context="from-trunk", Exten="4008001234"))
    assert gone not in c.channels
    assert c.channels["PJSIP/100-0000000a"]["ChannelStateDesc"] == "Ring"
    c.apply(ev("Newstate", Channel="PJSIP/100-0000000a", ChannelState=6,
               ChannelStateDesc="Up"))
    assert c.channels["PJSIP/100-0000000a"]["ChannelStateDesc"] == "Up"
    assert c.channels["PJSIP/100-0000000a"]["CallerIDNum"] == "+8613900000000"
