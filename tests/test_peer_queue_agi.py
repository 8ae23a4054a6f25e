"""EXEC Queue at the FastAGI test peer, byte by byte: the reply, the variables app_queue sets,
the rings the flow is told of without AMI, and the simulated centre following app_queue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from asterisk.centre import WAIT_S
from doubles.raw import RawResponder

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.channel import CallInfo, QueueRing
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.queues import QueueConfig
from ccdsl.runtime.sim import AgentScript, ScriptedCaller, SimCentre, SimChannel
from ccdsl.runtime.sim.caller import HangUp
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine
from ccdsl.runtime.testing.peer.sim_backend import SimBackend

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
QUEUE = 'EXEC Queue "ccf-service,c,,,{},,\\"ccf-answered,c1\\""'


def backend(*, never: bool = True, autopause: str = "yes", actions=(), rings=None,
            legs=None) -> SimBackend:
    """wang (8003) never answers when `never`, li (8002) after 2 s; the
    service queue rings for 5 s, leastrecent."""
    queue = QueueConfig("service", {"general": 0}, ring_ms=5_000, strategy="leastrecent",
                        autopause=autopause)
    centre = SimCentre([(Agent("li", "Li", "8002", {"general": 1}), AgentScript(2_000)),
                        (Agent("wang", "Wang", "8003", {"general": 1}),
                         AgentScript(None if never else 2_000))], queues=[queue], now=T0)
    info = CallInfo("c1", "+8613800000001", None, "4008005678", T0, "PJSIP/caller-00000001")
    sim = SimChannel(info, VirtualClock(T0), ScriptedCaller(actions), centre)

    async def leg(call_id: str, agent: str) -> None:
        if legs is not None:
            legs.append((call_id, agent))

    return SimBackend(sim, answered=leg, rings=rings)


def drive(peer: SimBackend, commands: list[str]) -> list[bytes]:
    async def main():
        responder = RawResponder(commands)
        host, port = await responder.start()
        line = CallerLine(script="line", channel="PJSIP/caller-00000001", uniqueid="c1",
                          callerid="+8613800000001", extension="4008005678", priority=3)
        await AgiCaller(host, port, peer, line, timeout=WAIT_S).run()
        await responder.stop()
        return responder.replies[0]

    return asyncio.run(main())


def test_answered_after_a_ring_out_continue_and_the_member() -> None:
    told: list[tuple[str, QueueRing]] = []
    legs: list[tuple[str, str]] = []
    peer = backend(legs=legs, rings=lambda call_id, ring, request: told.append((call_id, ring)))
    replies = drive(peer, ["ANSWER", QUEUE.format(60), "GET VARIABLE QUEUESTATUS",
                           "GET VARIABLE QUEUEPOSITION", "GET VARIABLE MEMBERNAME",
                           "GET VARIABLE QEHOLDTIME"])
    # wang rang out (5 s), li answered after the 5 s retry and 2 s of ringing
    assert replies == [b"200 result=0\n", b"200 result=0\n", b"200 result=1 (CONTINUE)\n",
                       b"200 result=1 (1)\n", b"200 result=1 (li)\n", b"200 result=1 (12)\n"]
    assert told == [("c1", QueueRing("wang", "ringing")),
                    ("c1", QueueRing("wang", "no_answer", 5_000)),
                    ("c1", QueueRing("li", "ringing"))]
    assert legs == [("c1", "li")]
    # the simulated centre as the flow sees it: wang paused in the queue, li free again
    centre = peer.sim.centre
    centre.settle(peer.clock.now())  # as its next look at the agents does
    assert centre.is_paused("service", "wang") and not centre.is_paused("service", "li")
    assert centre.agent("li").state == AgentState.AVAILABLE
    assert centre.agent("li").calls_taken == 1
    member = peer.app_queue.queues["ccf-service"].members["PJSIP/8003"]
    assert (member.paused, member.paused_reason) == (True, "Auto-Pause")


def test_a_caller_hanging_up_while_it_rings_gets_minus_one_and_no_status() -> None:
    peer = backend(actions=[HangUp(after_ms=3_000)])
    replies = drive(peer, ["ANSWER", QUEUE.format(60), "GET VARIABLE QUEUESTATUS",
                           "GET VARIABLE ABANDONED", "GET VARIABLE QUEUEPOSITION"])
    assert replies == [b"200 result=0\n", b"200 result=-1\n", b"HANGUP\n", b"200 result=0\n",
                       b"200 result=1 (TRUE)\n", b"200 result=1 (1)\n"]
    # a cancelled ring is no ring-out: wang is not paused
    assert not peer.app_queue.queues["ccf-service"].members["PJSIP/8003"].paused


def test_nobody_answers_until_queues_timeout() -> None:
    peer = backend(autopause="no")
    peer.sim.centre.scripts["li"].answer_after_ms = None
    replies = drive(peer, ["ANSWER", QUEUE.format(20), "GET VARIABLE QUEUESTATUS",
                           "GET VARIABLE QUEUEPOSITION"])
    assert replies == [b"200 result=0\n", b"200 result=0\n", b"200 result=1 (TIMEOUT)\n",
                       b"200 result=1 (1)\n"]
    assert peer.clock.now() == T0.replace(second=20)


def test_no_logged_in_member_joinempty_and_an_unknown_queue_nothing() -> None:
    peer = backend()
    for agent in ("li", "wang"):
        peer.sim.centre.pool.update(agent, state=AgentState.LOGGED_OFF)
    replies = drive(peer, ["ANSWER", QUEUE.format(60), "GET VARIABLE QUEUESTATUS",
                           "GET VARIABLE QUEUEPOSITION",
                           'EXEC Queue "ccf-nosuchqueue,c,,,30,,\\"ccf-answered,c1\\""',
                           "GET VARIABLE QUEUESTATUS"])
    assert replies == [b"200 result=0\n", b"200 result=0\n", b"200 result=1 (JOINEMPTY)\n",
                       b"200 result=0\n", b"200 result=0\n", b"200 result=0\n"]
