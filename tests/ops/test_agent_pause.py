"""`ccf agent pause|unpause` against the AMI peer: the QueuePause Asterisk 22
takes (ami-actions capture), every queue or one, and what is refused."""

from __future__ import annotations

from pathlib import Path

from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_state import PeerMember
from doubles.ami_thread import peer_in_thread

from ops.peer_thread import write_config

ENV = {"CCF_AMI_SECRET": "secret"}


def peer_with_members() -> AmiPeer:
    peer = AmiPeer(users={"ccf": "secret"}, auth_failure_delay=0.01)
    for queue in ("ccf-service", "ccf-support"):
        peer.add_queue(queue).members["PJSIP/8001"] = PeerMember("PJSIP/8001", "li",
                                                                  "PJSIP/8001")
    return peer


def pauses(peer: AmiPeer) -> list[dict]:
    return [{k: v for k, v in a.items() if k not in ("ActionID",)}
            for a in peer.actions if a.get("Action") == "QueuePause"]


def test_unpause_in_every_queue_after_an_auto_pause(tmp_path: Path) -> None:
    with peer_in_thread(peer_with_members()) as peer:
        for queue in peer.queues.values():
            queue.members["PJSIP/8001"].paused = True  # app_queue's Auto-Pause
        config = write_config(tmp_path, peer.port)
        result = ccf("agent", "unpause", "li", "--config", str(config), env=ENV)
        paused = [q.members["PJSIP/8001"].paused for q in peer.queues.values()]
    assert result.exit_code == 0, result.output
    assert pauses(peer) == [{"Action": "QueuePause", "Interface": "PJSIP/8001",
                             "Paused": "false"}]
    assert paused == [False, False]
    assert result.stdout == "agent li (PJSIP/8001) unpaused in every queue\n"


def test_pause_in_one_queue_with_a_reason(tmp_path: Path) -> None:
    with peer_in_thread(peer_with_members()) as peer:
        config = write_config(tmp_path, peer.port)
        result = ccf("agent", "pause", "li", "--queue", "support", "--reason", "lunch",
                     "--config", str(config), env=ENV)
        service = peer.queues["ccf-service"].members["PJSIP/8001"].paused
        support = peer.queues["ccf-support"].members["PJSIP/8001"]
    assert result.exit_code == 0, result.output
    assert pauses(peer) == [{"Action": "QueuePause", "Interface": "PJSIP/8001",
                             "Paused": "true", "Queue": "ccf-support", "Reason": "lunch"}]
    assert (service, support.paused, support.paused_reason) == (False, True, "lunch")
    assert result.stdout == "agent li (PJSIP/8001) paused in queue support: lunch\n"


def test_refusals_are_errors_not_tracebacks(tmp_path: Path) -> None:
    with peer_in_thread(AmiPeer(users={"ccf": "secret"}, auth_failure_delay=0.01)) as peer:
        config = write_config(tmp_path, peer.port)
        unknown = ccf("agent", "pause", "nobody", "--config", str(config), env=ENV)
        no_queue = ccf("agent", "unpause", "wang", "--config", str(config), env=ENV)
        no_secret = ccf("agent", "unpause", "li", "--config", str(config),
                        env={"CCF_AMI_SECRET": ""})
    assert unknown.exit_code == 2  # an unknown value: a usage error, as in every command
    assert "no agent 'nobody' in the agents file (the agents: li, wang)" in unknown.stderr
    assert no_queue.exit_code == 1
    assert "agent wang (PJSIP/8002) is a member of no queue on Asterisk" in no_queue.stderr
    assert no_secret.exit_code == 2 and "CCF_AMI_SECRET" in no_secret.stderr


def test_an_unknown_agent_is_a_usage_error_from_any_caller_and_asks_no_server(
        tmp_path: Path) -> None:
    import asyncio

    import pytest

    from ccdsl.cli.common import service_exit_code
    from ccdsl.cli.exit_codes import USAGE
    from ccdsl.runtime.asterisk.config import load_config
    from ccdsl.runtime.asterisk.pause import PauseError, set_paused

    with peer_in_thread(peer_with_members()) as peer:
        centre = load_config(str(write_config(tmp_path, peer.port)))
        with pytest.raises(PauseError) as caught:
            asyncio.run(set_paused(centre, "nobody", True))
    assert str(caught.value) == "no agent 'nobody' in the agents file (the agents: li, wang)"
    assert caught.value.unknown and service_exit_code(caught.value) == USAGE
    assert pauses(peer) == []
