"""`ccf serve` with two Asterisk servers (two AMI test peers, real sockets): a screen pop's
UserEvent goes to the server the agent's phone lives on, an in-queue call-back's hold
(QueuePause) to every server, where ccf serve made the agent a queue member, and its dial to
the server the call came in on (the first link up while that one is down)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

from asterisk.centre import until
from calls.test_callback import OWNER
from calls.world import OWNER_MESSAGE, run_test_call

from ccdsl.runtime.asterisk.queue_callbacks import ami_holds
from ccdsl.runtime.operations.callback_hold import HOLD_REASON
from multi_server.test_serve_servers import serving


def test_pop_to_the_agents_server_and_holds_on_every_server(tmp_path):
    # a message call (sim-1) in the call store ccf serve will use
    assert run_test_call(OWNER_MESSAGE, OWNER, tmp_path / "w",
                         tmp_path / "calls.db").result.call_id == "sim-1"

    async def main():
        async with serving(tmp_path) as (live, a, b):
            centre = live.centre
            peers = {"a": a, "b": b}

            # the pop of a call li answers: a UserEvent on b (li's phone), none on a
            pop = live.screen_pop
            call = SimpleNamespace(call_id="ast-a-1.1", caller="+8613800000001")
            await pop._user_event(pop.ami_for("li"), {}, call, "li")
            await pop._user_event(pop.ami_for("zhang"), {}, call, "zhang")
            sent = {name: [x["Agent"] for x in peer.actions if x["Action"] == "UserEvent"]
                    for name, peer in peers.items()}
            assert sent == {"a": ["zhang"], "b": ["li"]}

            # a call-back's hold: li held in ccf-service on both servers, then released
            holds = ami_holds(centre, live._ami_up, live._links_by_name)
            await holds.hold("service", "li", True)
            for peer in (a, b):
                member = peer.queues["ccf-service"].members["PJSIP/8002"]
                assert (member.paused, member.paused_reason) == (True, HOLD_REASON)
            await holds.hold("service", "li", False)
            assert not any(peer.queues["ccf-service"].members["PJSIP/8002"].paused
                           for peer in (a, b))

            # an in-queue call-back's dial (the dialler's place: control.callback) goes
            # through the server the call came in on, as the AMI events kept for it say
            live.store.record_centre_event("ami", "Newchannel",
                                           {"Uniqueid": "sim-1", "ccf_server": "b"},
                                           datetime.now(UTC), call_id="sim-1")
            placed = await live.control.callback("sim-1", "li", number="+8613800000001")
            assert placed["status"] == "done", placed
            dials = {name: [x["Channel"] for x in peer.actions if x["Action"] == "Originate"]
                     for name, peer in peers.items()}
            assert dials == {"a": [], "b": ["PJSIP/8002"]}

            # b's link down: the hold still goes to a, and li's pop to the first link up
            b.drop()
            await until(lambda: not live.links["b"].connected, "b's link to notice")
            assert pop.ami_for("li") is live.links["a"]
            await holds.hold("service", "li", True)
            assert a.queues["ccf-service"].members["PJSIP/8002"].paused
            # and the call-back of a call that came in on b: through a, the first link up
            placed = await live.control.callback("sim-1", "li", number="+8613800000001")
            assert [x["Channel"] for x in a.actions if x["Action"] == "Originate"] == \
                ["PJSIP/8002"]

    asyncio.run(main())
