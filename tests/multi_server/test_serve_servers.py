"""`ccf serve` with two Asterisk servers: two AMI test peers over real sockets, an AMI link to
each; an agent whose phone is on each server, the state merged (each agent from its own server,
queue waits summed), an action on a channel sent to the server that reported it, and one link
dropped and re-established without losing what the other server said."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from types import SimpleNamespace

from asterisk.centre import IWS, compiled, until, write_config
from doubles.ami_server import AmiPeer

from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.core.centre import AgentState
from multi_server.servers import asterisk_pair

ENV = {"SECRET_A": "serve-a-never-printed", "SECRET_B": "serve-b-never-printed"}
QUEUES = ("ccf-service", "ccf-support")  # the hotline's queues, as Asterisk names them
PHONES = {"PJSIP/8001": "a", "PJSIP/8002": "b"}  # zhang's phone is on a, li's on b


def two_server_config(folder: Path, port_a: int, port_b: int):
    path = write_config(folder, 1, numbers='"4008001234" = "hotline"',
                        extra="\n" + asterisk_pair(port_a, port_b))
    text = path.read_text(encoding="utf-8").replace("[ami]\nport = 1\n", "[ami]\n", 1)
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=ENV)


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, *, nowhere: tuple[str, ...] = ()):
    """Two AMI test peers, a and b, each with its phones of PHONES available and the others
    (and `nowhere`) unavailable; ccf serve of the hotline linked to both, its agents made
    members: (the live centre, a, b). All stopped at the end."""
    peers = {"a": AmiPeer(users={"ccf": ENV["SECRET_A"]}, queues=QUEUES),
             "b": AmiPeer(users={"ccf": ENV["SECRET_B"]}, queues=QUEUES)}
    live = None
    try:
        for name, peer in peers.items():
            await peer.start()
            for device, home in PHONES.items():
                # a phone registered elsewhere is unavailable here (PJSIP)
                peer.set_device_state(device, "NOT_INUSE" if home == name else "UNAVAILABLE")
            for device in nowhere:
                peer.set_device_state(device, "UNAVAILABLE")
        a, b = peers["a"], peers["b"]
        config = two_server_config(tmp_path, a.port, b.port)
        FlowStore(config.flows_dir).deploy({"hotline": compiled(IWS / "hotline.ccf")},
                                           numbers=config.numbers)
        live = LiveCentre(config, port=0, api_port=0)
        await live.start()
        centre = live.centre
        await until(lambda: a.logged_in == b.logged_in == 1
                    and all("service" in (centre.agent(x).queues or ())
                            for x in ("zhang", "li")), "both links and the members")
        yield live, a, b
    finally:
        if live is not None:
            await live.stop(1.0)
        for peer in peers.values():
            await peer.stop()


def pause_everywhere(peer: AmiPeer, member: str, interface: str, queues) -> None:
    for queue in queues:
        peer.emit({"Event": "QueueMemberPause", "Queue": queue, "MemberName": member,
                   "Interface": interface, "StateInterface": interface, "Paused": "1",
                   "Status": "1", "CallsTaken": "0", "LastCall": "0"})


def test_two_servers_merged_routed_and_one_link_dropped(tmp_path):
    async def main():
        # wang's phone is nowhere
        async with serving(tmp_path, nowhere=("PJSIP/8003",)) as (live, a, b):
            centre = live.centre
            peers = {"a": a, "b": b}
            server = live.status()["server"]
            assert server["ami"] == "up" and server["ami_links"] == {"a": "up", "b": "up"}
            # each server made the logged-in agents members (QueueAdd on both)
            for peer in (a, b):
                assert {x["MemberName"] for x in peer.actions if x["Action"] == "QueueAdd"} \
                    >= {"zhang", "li"}

            # an agent logged in on each server, each read from its own
            a.set_device_state("PJSIP/8001", "INUSE")
            pause_everywhere(b, "li", "PJSIP/8002", centre.server("b").member_queues("li"))
            await until(lambda: centre.agent("zhang").state == AgentState.BUSY, "zhang busy")
            await until(lambda: centre.agent("li").state == AgentState.PAUSED, "li paused")
            assert centre.agent("wang").state == AgentState.LOGGED_OFF
            # the events kept in the call store say which server sent them

            def kept():
                rows = live.store.query("SELECT data FROM centre_events WHERE source = 'ami' "
                                        "AND kind = 'DeviceStateChange'")
                return [json.loads(r["data"]) for r in rows]

            await until(lambda: any(d.get("Device") == "PJSIP/8001" and d.get("State") ==
                                    "INUSE" for d in kept()), "zhang's busy phone stored")
            assert {d["ccf_server"] for d in kept() if d.get("State") == "INUSE"} == {"a"}
            states = {x.id: x.state for x in centre.agents()}
            assert states["zhang"] == AgentState.BUSY and states["li"] == AgentState.PAUSED

            # a queue's waiting callers: the sum of both servers'
            a.add_caller("ccf-service")
            b.add_caller("ccf-service")
            b.add_caller("ccf-service", caller_num="+8613800000002")
            await until(lambda: centre.queue_waiting("service") == 3, "three waiting")
            assert centre.server("a").queue_waiting("service") == 1

            # an action on a call's channel goes to the server that reported it: both number
            # their channels alike, the call's Uniqueid (systemname-prefixed) tells them apart
            for name, peer in peers.items():
                for uid in (f"ast-{name}-1733.1", f"ast-{name}-1733.2"):
                    peer.emit({"Event": "Newchannel", "Channel": f"PJSIP/trunk-{uid[-1]}",
                               "ChannelState": "6", "Uniqueid": uid, "Linkedid": uid})
            b.emit({"Event": "Newchannel", "Channel": "PJSIP/trunk-3", "ChannelState": "6",
                    "Uniqueid": "ast-b-1733.3", "Linkedid": "ast-b-1733.3"})  # b's alone
            await until(lambda: all(f"PJSIP/trunk-{n}" in centre.server(name).channels
                                    for name in peers for n in (1, 2))
                        and "PJSIP/trunk-3" in centre.channels, "the channels of both")
            assert centre.server_of_channel("PJSIP/trunk-1", "ast-b-1733.1") == "b"
            assert centre.server_of_channel("PJSIP/trunk-2", "ast-a-1733.2~2") == "a"
            # the console hangs up a call b runs (its channel, as ccf serve's call has it)
            live.control.running = lambda call_id: SimpleNamespace(
                info=SimpleNamespace(channel="PJSIP/trunk-1"))
            before = len(a.actions)
            await live.control.hangup("ast-b-1733.1")
            assert [x["Channel"] for x in b.actions if x["Action"] == "Hangup"] == \
                ["PJSIP/trunk-1"]
            assert not [x for x in a.actions[before:] if x["Action"] == "Hangup"]
            # ccf serve's own action (MixMonitorMute) on the channel of a call it runs: a
            # name both servers have, told apart by that call's id
            live.server.calls["ast-b-1733.2"] = SimpleNamespace(
                info=SimpleNamespace(channel="PJSIP/trunk-2"))
            try:
                await live.server.switch("MixMonitorMute", Channel="PJSIP/trunk-2",
                                         Direction="both", State="1")
            finally:
                del live.server.calls["ast-b-1733.2"]
            assert [x["Channel"] for x in b.actions if x["Action"] == "MixMonitorMute"] == \
                ["PJSIP/trunk-2"]
            assert not [x for x in a.actions[before:] if x["Action"] == "MixMonitorMute"]
            # and on a channel only b has
            await live.server.switch("MixMonitorMute", Channel="PJSIP/trunk-3",
                                     Direction="read", State="1")
            assert [x["Channel"] for x in b.actions if x["Action"] == "MixMonitorMute"] == \
                ["PJSIP/trunk-2", "PJSIP/trunk-3"]

            # a's link drops: b's picture stays, b's news still arrives
            resyncs = [x["Action"] for x in a.actions].count("DeviceStateList")
            a.drop()
            await until(lambda: not live.links["a"].connected, "a's link to notice")
            server = live.status()["server"]
            assert server["ami"] == "down" and server["ami_links"] == {"a": "down", "b": "up"}
            assert centre.agent("li").state == AgentState.PAUSED
            b.set_device_state("PJSIP/8002", "INUSE")
            await until(lambda: centre.agent("li").state == AgentState.BUSY, "li busy on b")
            a.set_device_state("PJSIP/8001", "NOT_INUSE")  # nobody hears this one

            # a's link comes back and rebuilds a's part only
            await until(lambda: live.links["a"].connected and a.logged_in == 1
                        and [x["Action"] for x in a.actions].count("DeviceStateList")
                        == resyncs + 1, "a's link to come back and resync")
            await until(lambda: centre.agent("zhang").state == AgentState.AVAILABLE,
                        "zhang free again, from a's resync")
            assert centre.agent("li").state == AgentState.BUSY  # b's news, not lost
            assert centre.queue_waiting("service") == 3
            assert live.status()["server"]["ami_links"] == {"a": "up", "b": "up"}

    asyncio.run(main())
