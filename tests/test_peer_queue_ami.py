"""The AMI test peer's app_queue as `ccf deploy` leaves it: queues_ccf.conf written with
UpdateConfig, then `Reload app_queue.so`, sets the queues with no members (agents log in:
ccf serve adds them, dynamic); QueueAdd, QueuePause and QueueStatus then act on the same
members the FastAGI peer's Queue() rings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asterisk.test_deploy import IWS, SECRET, centre, write_config
from doubles.ami_server import AmiPeer

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.deploy import ami_connector, deploy, make_plan
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.testing.peer.app_queue import QueueConf


def test_a_deploy_sets_up_the_queues_app_queue_rings_from(tmp_path: Path) -> None:
    hotline = {**compile_file(str(IWS / "hotline.ccf")).ir, "tests": []}
    peer = AmiPeer(users={"ccf": SECRET})

    async def main():
        await peer.start()
        try:
            config = centre(write_config(tmp_path, peer.port))
            store = FlowStore(config.flows_dir)
            await deploy(config, store, make_plan(config, store, {"hotline": hotline}),
                         connect=ami_connector(config))
            link = AmiLink("127.0.0.1", peer.port, "ccf", SECRET, events="off")
            await link.start()
            try:
                before = {name: list(q.members) for name, q in peer.queues.items()}
                added = [await link.action("QueueAdd", Queue=queue, Interface=interface,
                                           MemberName=name, Penalty="0")
                         for queue, interface, name in (
                             ("ccf-service", "PJSIP/8002", "li"),
                             ("ccf-service", "PJSIP/8003", "wang"),
                             ("ccf-support", "PJSIP/8003", "wang"))]
                again = await link.action("QueueAdd", Queue="ccf-service",
                                          Interface="PJSIP/8002", MemberName="li")
                paused = await link.action("QueuePause", Interface="PJSIP/8003",
                                           Paused="true", Reason="lunch")
                _, items = await link.list_action("QueueStatus", Queue="ccf-service")
            finally:
                await link.close()
            return before, added, again, paused, items
        finally:
            await peer.stop()

    before, added, again, paused, items = asyncio.run(main())
    assert peer.reloads[-1] == "app_queue.so"
    service, support = peer.queues["ccf-service"], peer.queues["ccf-support"]
    messages = tmp_path / "sounds" / "ccf-queue"
    # the generated settings (docs/asterisk.md "The generated dialplan")
    assert service.conf == QueueConf(
        strategy="leastrecent", timeout_s=15, retry_s=5, autopause="yes", ringinuse=False,
        joinempty=frozenset({"unavailable", "invalid", "unknown"}),
        leavewhenempty=frozenset({"unavailable", "invalid", "unknown"}),
        setinterfacevar=True, setqueueentryvar=True, musicclass="default",
        # the caller's time in queue of examples/iws (runtime/asterisk/in_queue.py)
        context="ccf-service-keys", periodic=(f"{messages}/callback_offer",
                                              f"{messages}/still_waiting"),
        periodic_s=60, first_user=True)
    # the deploy rendered them where that name leads Asterisk (main/file.c)
    assert (tmp_path / "sounds" / "ccf-queue" / "zh-CN" / "callback_offer.wav").is_file()
    # no static members: every agent is added when logged in, and can log out
    assert before == {"ccf-service": [], "ccf-support": []}
    assert [a.message for a in added] == ["Added interface to queue"] * 3
    assert [(m.name, m.interface, m.dynamic) for m in service.members.values()] == [
        ("li", "PJSIP/8002", True), ("wang", "PJSIP/8003", True)]
    assert [m.name for m in support.members.values()] == ["wang"]
    # a second QueueAdd finds the member there; a pause reaches every queue wang is in
    assert again.message == "Unable to add interface: Already there"
    assert paused.message == "Interface paused successfully"
    assert [(q, m.paused, m.paused_reason) for q, m in peer.app_queue.memberships("PJSIP/8003")
            ] == [(support, True, "lunch"), (service, True, "lunch")]
    # QueueStatus lists the members as app_queue iterates them (its hash buckets)
    listed = [(i.get("Name"), i.get("Membership"), i.get("Paused")) for i in items
              if i.event == "QueueMember"]
    assert listed == [("li", "dynamic", "0"), ("wang", "dynamic", "1")]
