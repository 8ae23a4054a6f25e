"""`ccf agent pause|unpause` on two Asterisk servers ([[asterisk]]): two AMI test peers over real
sockets; the QueuePause sent to each, done where the agent is a member, a server that does not
answer named (exit 4) after the other was done, each server's own secret variable."""

from __future__ import annotations

from pathlib import Path

from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_state import PeerMember
from doubles.ami_thread import peer_in_thread
from ports import free_port

from multi_server.test_deploy_servers import ENV, two_servers

LI = "PJSIP/8002"  # li's phone in examples/iws/agents.toml
QUEUES = ("ccf-service", "ccf-support")


def peer(user: str, secret: str, *, member: bool) -> AmiPeer:
    made = AmiPeer(users={user: secret}, auth_failure_delay=0.01)
    for queue in QUEUES:
        members = made.add_queue(queue).members
        if member:
            members[LI] = PeerMember(LI, "li", LI)
    return made


def pauses(of: AmiPeer) -> list[dict]:
    return [{k: v for k, v in a.items() if k != "ActionID"}
            for a in of.actions if a.get("Action") == "QueuePause"]


def test_pause_goes_to_every_server_the_agent_is_a_member_of(tmp_path: Path) -> None:
    with peer_in_thread(peer("ccf", ENV["SECRET_A"], member=True)) as a, \
            peer_in_thread(peer("ccf-b", ENV["SECRET_B"], member=True)) as b:
        config = two_servers(tmp_path, a.port, b.port)
        result = ccf("agent", "pause", "li", "--reason", "lunch", "--config", str(config),
                     env=ENV)
        states = [[q.members[LI].paused for q in p.queues.values()] for p in (a, b)]
    assert result.exit_code == 0, result.output
    sent = {"Action": "QueuePause", "Interface": LI, "Paused": "true", "Reason": "lunch"}
    assert pauses(a) == pauses(b) == [sent]
    assert states == [[True, True], [True, True]]
    assert result.stdout == "agent li (PJSIP/8002) paused in every queue on a, b: lunch\n"


def test_unpause_where_a_member_and_a_server_without_it_is_no_error(tmp_path: Path) -> None:
    with peer_in_thread(peer("ccf", ENV["SECRET_A"], member=False)) as a, \
            peer_in_thread(peer("ccf-b", ENV["SECRET_B"], member=True)) as b:
        for queue in b.queues.values():
            queue.members[LI].paused = True  # app_queue's Auto-Pause on b
        config = two_servers(tmp_path, a.port, b.port)
        result = ccf("agent", "unpause", "li", "--config", str(config), env=ENV)
        nowhere = ccf("agent", "pause", "wang", "--config", str(config), env=ENV)
        on_b = [q.members[LI].paused for q in b.queues.values()]
    assert result.exit_code == 0, result.output
    assert len(pauses(a)) >= 1  # asked, and app_queue said "Interface not found"
    assert on_b == [False, False]
    assert result.stdout == "agent li (PJSIP/8002) unpaused in every queue on b\n"
    # a member of no queue on any server: exit 1, said once
    assert nowhere.exit_code == 1
    assert ("agent wang (PJSIP/8003) is a member of no queue on any Asterisk server"
            in nowhere.stderr)


def test_a_server_that_does_not_answer_is_named_after_the_other_was_done(tmp_path) -> None:
    with peer_in_thread(peer("ccf", ENV["SECRET_A"], member=True)) as a:
        config = two_servers(tmp_path, a.port, free_port())
        result = ccf("agent", "pause", "li", "--config", str(config), env=ENV)
        on_a = [q.members[LI].paused for q in a.queues.values()]
    assert result.exit_code == 4, result.output
    assert on_a == [True, True]
    assert "agent li: paused on a; b: " in result.stderr
    assert "check the [[asterisk]] server b in" in result.stderr
    assert ENV["SECRET_B"] not in result.output


def test_each_servers_secret_is_needed(tmp_path: Path) -> None:
    config = two_servers(tmp_path, free_port(), free_port())
    result = ccf("agent", "unpause", "li", "--config", str(config),
                 env={"SECRET_A": ENV["SECRET_A"], "SECRET_B": ""})
    assert result.exit_code == 2
    assert ("the AMI secret of the Asterisk server b is missing: set the environment "
            "variable SECRET_B") in result.stderr
