"""Every ring of a queue member is an agent leg on `ccf serve` as in the
simulator (issue 10): the FastAGI peer's caller waits in EXEC Queue while
the peer's app_queue model rings the members of the generated queues.conf
and the AMI test peer sends AgentCalled, AgentRingNoAnswer and
QueueMemberPause with the headers of the captures (ami-queue-*.txt);
LiveCentre hands them to the call, whose agent legs and report figures are
the simulator's for the same scenario (one agent who never answers, the
others free)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from doubles.ami_server import AmiPeer
from doubles.ami_state import PeerMember
from queue_line import call_the_line, line_flow

from asterisk.test_serve import SECRET, serving_a_queue_line, until
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim.scenario import run_simulation, simulation
from ccdsl.runtime.testing.peer.app_queue import Phone

CALLER = "+8613800000001"
CALL_ID = "1796549926.29"
# wang (PJSIP/8003, as in agents.toml) lets every call ring out. Among members
# who took no call yet app_queue's leastrecent rings the last of its member
# container, whose hash puts PJSIP/8003 after 8002 after 8001 (so it rang
# `never`, Local/8003@agx, first in the captures); the simulator takes the
# first declared, so the scenario declares wang, li, zhang for the two to agree
AGENTS = (AgentSpec("wang", {"general": 1}, extension="8003", answer_after_ms=None),
          AgentSpec("li", {"general": 1}, extension="8002", answer_after_ms=2_000),
          AgentSpec("zhang", {"general": 1}, extension="8001", answer_after_ms=2_000))


def legs_of(store: CallStore) -> list[tuple]:
    return [(r["agent"], r["via"], r["queue"], r["outcome"],
             r["ring_ms"] if r["outcome"] != "answered" else None)
            for r in store.query("SELECT * FROM agent_legs ORDER BY seq")]


def agents_of(path: str) -> dict:
    return {r["agent"]: (r["offered"], r["answered"], r["missed"], r["caller_gone"])
            for r in make_report(path).section("agents").records()}


def simulated(ir: dict, folder: Path) -> tuple[list, dict]:
    store = folder / "sim.db"
    scenario = simulation(ir, caller=CALLER, at="2026-12-07 10:00 UTC", agents=AGENTS)
    run_simulation(ir, scenario, store_path=str(store))
    with CallStore(store) as db:
        return legs_of(db), agents_of(str(store))


def served(ir: dict, folder: Path) -> tuple[list, dict, list, list]:
    async def main():
        phones = {spec.id: Phone(answer_after_ms=spec.answer_after_ms) for spec in AGENTS}
        async with serving_a_queue_line(folder, ir, phones) as (live, peer, port):
            scenario = simulation(ir, caller=CALLER, at="2026-12-07 10:00 UTC", agents=AGENTS)
            report, _ = await call_the_line(port, ir, scenario, peer.app_queue, call_id=CALL_ID,
                                            channel="PJSIP/caller-00000001")
            await until(lambda: live.store.call(CALL_ID) is not None
                        and live.store.call(CALL_ID)["outcome"] is not None, "the call's record")
            live.store.flush()  # what the store's writer holds, in the file for the queries
            legs = legs_of(live.store)
            pauses = live.store.query("SELECT data FROM centre_events WHERE source = 'ami' "
                                      "AND kind = 'QueueMemberPause' ORDER BY id")
            paused = sorted(a.id for a in live.centre.agents() if a.queues
                            and a.state.value == "paused")
        assert report.closed_by == "server"
        return legs, agents_of(str(live.config.store_path)), pauses, paused

    return asyncio.run(main())


@pytest.mark.parametrize("autopause", ["yes", "no"])
def test_serve_records_the_queue_rings_as_the_simulator_does(tmp_path: Path,
                                                             autopause: str) -> None:
    ir = line_flow(tmp_path, "leastrecent", autopause)
    sim_legs, sim_agents = simulated(ir, tmp_path)
    legs, agents, pauses, paused = served(ir, tmp_path)
    assert legs == sim_legs
    assert agents == sim_agents
    if autopause == "yes":
        # wang rang out once, was paused in the queue, li answered
        assert sim_legs == [("wang", "queue", "service", "missed", 5_000),
                            ("li", "queue", "service", "answered", None)]
        assert agents["wang"] == (1, 0, 1, 0)
        assert len(pauses) == 1 and '"PausedReason":"Auto-Pause"' in pauses[0]["data"]
        assert paused == ["wang"]  # paused in its only queue
    else:
        # nothing remembers a member who rang out: wang again and again
        # until the queue's 60 s are up
        assert {leg[0] for leg in sim_legs} == {"wang"}
        assert agents["wang"][2] == len(sim_legs) >= 4
        assert pauses == [] and paused == []


CAPTURES = Path(__file__).parent / "captures"


def captured_headers(name: str, event: str) -> list[str]:
    """The header names of the first `event` in a capture, in order."""
    keys: list[str] = []
    inside = False
    for line in (CAPTURES / name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("<< "):
            continue
        text = line[3:].removesuffix("\\r\\n")
        if text == f"Event: {event}":
            inside = True
        if inside:
            if not text:
                return keys
            keys.append(text.split(":", 1)[0])
    raise AssertionError(f"no {event} in {name}")


def test_the_peer_sends_the_captured_headers() -> None:
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=("ccf-service", "ccf-support"))
        sent: list[dict] = []
        peer.emit = sent.append  # what would go on the wire, in order
        for queue in ("ccf-service", "ccf-support"):
            peer.queues[queue].members["PJSIP/8001"] = PeerMember("PJSIP/8001", "zhang",
                                                                   "PJSIP/8001")
        caller = peer.caller_channel("PJSIP/caller-00000001", CALL_ID, CALLER, "Caller")
        peer.agent_called("ccf-service", "PJSIP/8001", caller)
        peer.agent_ring_no_answer("ccf-service", "PJSIP/8001", caller, 5_000, "all")
        return sent

    sent = asyncio.run(main())
    assert [e["Event"] for e in sent] == ["AgentCalled", "AgentRingNoAnswer",
                                          "QueueMemberPause", "QueueMemberPause"]
    capture = "ami-queue-leastrecent-autopause.txt"
    for event in sent[:3]:
        assert list(event) == captured_headers(capture, str(event["Event"]))
    assert sent[0]["Uniqueid"] == CALL_ID and sent[0]["MemberName"] == "zhang"
    assert sent[1]["RingTime"] == 5_000
    assert {(e["Queue"], e["Paused"], e["PausedReason"]) for e in sent[2:]} == {
        ("ccf-service", 1, "Auto-Pause"), ("ccf-support", 1, "Auto-Pause")}
