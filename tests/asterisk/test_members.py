"""Queue members are dynamic: `ccf deploy`'s queues file lists none, ccf serve adds the
logged-in agents with QueueAdd when its AMI link comes up, so the console can log an
agent out (QueueRemove refuses a static `member =>` member: "Member not dynamic") and an
agent `offline` in the agents file is no member. Against the AMI peer over a socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from doubles.ami_server import AmiPeer

from asterisk.centre import deployed_hotline, until
from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE
from ccdsl.runtime.asterisk.service import LiveCentre

SECRET = "members-secret"


def members(peer: AmiPeer) -> dict[str, dict[str, bool]]:
    """Asterisk queue -> member name -> whether it is dynamic."""
    return {q.name: {m.name: m.dynamic for m in q.members.values()}
            for q in peer.app_queue.queues.values()}


def test_deploy_writes_no_members_and_serve_adds_the_logged_in_agents(tmp_path: Path):
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, auth_failure_delay=0.01)
        await peer.start()
        config = await deployed_hotline(tmp_path, peer.port, SECRET)
        deployed = peer.config_text(QUEUES_FILE)
        after_deploy = members(peer)
        live = LiveCentre(config, port=0, api_port=0)
        try:
            await live.start()
            await until(lambda: "service" in (live.centre.agent("zhang").queues or ()),
                        "zhang in the service queue")
            connected = members(peer)
            assert live.desk is not None
            await live.desk.logout("zhang")
            logged_out = members(peer)
        finally:
            await live.stop(1.0)
            await peer.stop()
        return deployed, after_deploy, connected, logged_out

    deployed, after_deploy, connected, logged_out = asyncio.run(main())
    # (the messages name files under tmp_path, whose name may say "member")
    assert "\nmember" not in deployed and "[ccf-service]" in deployed
    assert after_deploy == {"ccf-service": {}, "ccf-support": {}}
    # chen is `offline` in examples/iws/agents.toml: no member; wang alone has `tech`
    assert connected == {"ccf-service": {"zhang": True, "li": True, "wang": True},
                         "ccf-support": {"wang": True}}
    assert logged_out == {"ccf-service": {"li": True, "wang": True},
                          "ccf-support": {"wang": True}}
