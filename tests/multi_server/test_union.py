"""CentreUnion's merge rules, event by event: which server an agent is read from (its device
present there; the first in the config's order when present on both), pauses from that server
only, queue waits summed and the shortest expected wait (the resync of one server alone:
test_serve_servers.py)."""

from __future__ import annotations

from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.ami_union import CentreUnion
from ccdsl.runtime.core.centre import Agent, AgentState

AGENTS = [Agent(id="zhang", name="Zhang", extension="8001", skills={}),
          Agent(id="li", name="Li", extension="8002", skills={})]


def union() -> CentreUnion:
    return CentreUnion({name: AmiCentre(AGENTS, "PJSIP/{extension}", queues=["service"])
                        for name in ("a", "b")})


def event(**headers: str) -> AmiMessage:
    return AmiMessage(dict(headers))


def device(centre: CentreUnion, server: str, dev: str, state: str) -> None:
    centre.apply(server, event(Event="DeviceStateChange", Device=dev, State=state))


def test_an_agent_is_read_from_the_server_its_phone_is_on():
    centre = union()
    device(centre, "a", "PJSIP/8002", "UNAVAILABLE")
    device(centre, "b", "PJSIP/8002", "INUSE")
    assert centre.agent("li").state == AgentState.BUSY
    assert centre.home("li") is centre.server("b")
    # nowhere present: the first server that said anything about it
    device(centre, "b", "PJSIP/8002", "UNAVAILABLE")
    assert centre.home("li") is centre.server("a")
    assert centre.agent("li").state == AgentState.LOGGED_OFF
    # present on both (a phone moving): the first in the config's order
    device(centre, "a", "PJSIP/8002", "NOT_INUSE")
    device(centre, "b", "PJSIP/8002", "INUSE")
    assert centre.agent("li").state == AgentState.AVAILABLE
    # never heard of anywhere: as configured
    assert centre.agent("zhang").state == AgentState.AVAILABLE
    assert {a.id: a.state for a in centre.agents()} == {"zhang": AgentState.AVAILABLE,
                                                        "li": AgentState.AVAILABLE}


def test_an_agent_heard_of_on_one_server_only_is_read_from_it():
    centre = union()
    assert centre.home("zhang") is centre.server("a")  # heard of nowhere: the first
    device(centre, "b", "PJSIP/8001", "UNAVAILABLE")  # absent, but b has heard of it
    assert centre.home("zhang") is centre.server("b")
    device(centre, "a", "PJSIP/8001", "INVALID")  # absent on both, heard of on both
    assert centre.home("zhang") is centre.server("a")  # both heard of it: the first


def test_pauses_come_from_the_agents_own_server():
    centre = union()
    device(centre, "b", "PJSIP/8001", "NOT_INUSE")
    for server in ("a", "b"):
        centre.apply(server, event(Event="QueueMemberPause", Queue="ccf-service",
                                   MemberName="zhang", Interface="PJSIP/8001",
                                   Paused="1" if server == "a" else "0",
                                   PausedReason="lunch",
                                   # app_queue's member status: the device's state there
                                   Status="5" if server == "a" else "1"))
    assert centre.pauses() == {}  # paused on a, where zhang's phone is not
    assert centre.agent("zhang").state == AgentState.AVAILABLE


def test_waits_are_summed_and_the_shortest_estimate_kept():
    centre = union()
    for server, count in (("a", "2"), ("b", "3")):
        centre.apply(server, event(Event="QueueCallerJoin", Queue="ccf-service", Count=count))
    assert centre.queue_waiting("service") == 5
    # b has a free member, a has none: a alone would say "never free"
    centre.apply("b", event(Event="QueueMemberAdded", Queue="ccf-service", MemberName="li",
                            Interface="PJSIP/8002", Status="1", Paused="0"))
    assert centre.queue_expected_wait_ms("service") == \
        centre.server("b").queue_expected_wait_ms("service") < \
        centre.server("a").queue_expected_wait_ms("service")
