"""`ccf callback` and `ccf monitor` on two Asterisk servers ([[asterisk]]): two AMI test peers
over real sockets. A call-back is placed through the server the call came in on (the AMI events
ccf serve kept say which), else the first that answers; monitoring rings the supervisor on the
server whose channels hold the call; a server that does not answer is named."""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from calls.test_callback import AGENTS, world  # noqa: F401 - the fixture: call sim-1
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread
from ops.peer_thread import add_call
from ports import free_port

from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.monitor import Mode, MonitorError, monitor_call
from ccdsl.runtime.operations.store import CallStore
from multi_server.servers import asterisk_pair

ENV = {"SECRET_A": "commands-a-not-printed", "SECRET_B": "commands-b-not-printed"}
CALL = "1795663790.9"


def two_servers(folder: Path, port_a: int, port_b: int, store: Path) -> Path:
    path = folder / "ccf.toml"
    path.write_text(textwrap.dedent(f"""\
        [ami]
        timeout = "1s"
        {{pair}}[paths]
        store = "{store}"
        [agents]
        file = "{AGENTS}"
        interface = "PJSIP/{{extension}}"
        [outbound]
        interface = "PJSIP/{{number}}@trunk"
        """).replace("{pair}", asterisk_pair(port_a, port_b)), encoding="utf-8")
    return path


def came_in_on(store: Path, call_id: str, server: str) -> None:
    """What ccf serve's AMI keeper stores for a call's channel: its server's name."""
    with CallStore(str(store)) as calls:
        calls.record_centre_event("ami", "Newchannel",
                                  {"Uniqueid": call_id, "ccf_server": server},
                                  datetime.now(UTC), call_id=call_id)


def originates(peer: AmiPeer) -> list[dict]:
    return [a for a in peer.actions if a.get("Action") == "Originate"]


def test_a_call_back_goes_to_the_server_the_call_came_in_on(world):  # noqa: F811
    came_in_on(world["store"], "sim-1", "b")
    with peer_in_thread(AmiPeer(users={"ccf": ENV["SECRET_A"]})) as a, \
            peer_in_thread(AmiPeer(users={"ccf": ENV["SECRET_B"]})) as b:
        config = two_servers(world["dir"], a.port, b.port, world["store"])
        result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config), env=ENV)
    assert result.exit_code == 0, result.output
    assert len(originates(b)) == 1 and not originates(a)
    assert originates(b)[0]["Channel"] == "PJSIP/8002"  # li's phone
    assert "placed through the Asterisk server b" in result.output
    assert not any(secret in result.output for secret in ENV.values())


def test_a_call_back_falls_back_to_the_next_server_that_answers(world):  # noqa: F811
    came_in_on(world["store"], "sim-1", "a")  # a is down: b places it
    with peer_in_thread(AmiPeer(users={"ccf": ENV["SECRET_B"]})) as b:
        config = two_servers(world["dir"], free_port(), b.port, world["store"])
        result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config), env=ENV)
    assert result.exit_code == 0, result.output
    assert len(originates(b)) == 1
    assert "placed through the Asterisk server b" in result.output


def test_a_call_back_no_server_answers_names_each_and_exits_4(world):  # noqa: F811
    config = two_servers(world["dir"], free_port(), free_port(), world["store"])
    result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config), env=ENV)
    assert result.exit_code == 4, result.output
    assert "cannot reach Asterisk's AMI: a: " in result.stderr and "; b: " in result.stderr
    assert "nothing was placed" in result.stderr
    with CallStore(str(world["store"])) as calls:  # nothing recorded as a call-back
        kinds = [r["kind"] for r in calls.query("SELECT kind FROM centre_events")]
    assert "callback" not in kinds


def run_monitor(tmp_path: Path, a: AmiPeer | None, b: AmiPeer | None):
    async def main():
        for peer in (a, b):
            if peer is not None:
                await peer.start()
        path = two_servers(tmp_path, a.port if a else free_port(),
                           b.port if b else free_port(), tmp_path / "calls.db")
        centre = load_config(path, environ=ENV)
        try:
            return await monitor_call(centre, CALL, "8009", Mode.listen, ring_timeout_s=5)
        except MonitorError as exc:
            return exc
        finally:
            for peer in (a, b):
                if peer is not None:
                    await peer.stop()

    return asyncio.run(main())


def peers() -> tuple[AmiPeer, AmiPeer]:
    return (AmiPeer(users={"ccf": ENV["SECRET_A"]}, auth_failure_delay=0.01),
            AmiPeer(users={"ccf": ENV["SECRET_B"]}, auth_failure_delay=0.01))


def test_monitoring_rings_the_supervisor_on_the_server_holding_the_call(tmp_path):
    a, b = peers()
    add_call(b, CALL)
    session = run_monitor(tmp_path, a, b)
    assert not isinstance(session, MonitorError), session
    assert session.agent_channel == "PJSIP/8001-0000000a"
    assert [x["Action"] for x in a.actions] == ["Login", "CoreShowChannels", "Logoff"]
    (sent,) = originates(b)
    assert (sent["Application"], sent["Data"]) == ("ChanSpy", "PJSIP/8001-0000000a,q")


def test_monitoring_a_call_no_server_holds(tmp_path):
    nowhere = run_monitor(tmp_path, *peers())
    assert isinstance(nowhere, MonitorError) and not nowhere.unreachable
    assert str(nowhere).startswith(f"no call {CALL} on any of the 2 Asterisk servers")
    a, b = peers()
    add_call(a, CALL, agent_channel=None)
    waiting = run_monitor(tmp_path, a, b)
    assert f"call {CALL} has no agent yet" in str(waiting)


def test_monitoring_with_a_server_down(tmp_path):
    a, _ = peers()
    add_call(a, CALL)
    found = run_monitor(tmp_path, a, None)  # the call is on a: b's silence changes nothing
    assert not isinstance(found, MonitorError), found
    assert len(originates(a)) == 1
    lost = run_monitor(tmp_path, peers()[0], None)  # not on a, b did not answer: exit 4
    assert isinstance(lost, MonitorError) and lost.unreachable
    assert str(lost).startswith("b: ") and "check the [[asterisk]] server b in" in str(lost)
    assert "nothing was rung" in str(lost)


def test_the_monitor_command_exits_4_naming_the_silent_server(tmp_path):
    with peer_in_thread(peers()[0]) as a:
        config = two_servers(tmp_path, a.port, free_port(), tmp_path / "calls.db")
        result = ccf("monitor", CALL, "-s", "8009", "--config", str(config), env=ENV)
    assert result.exit_code == 4, result.output
    assert "b: " in result.stderr and "the [[asterisk]] server b" in result.stderr
    assert json.dumps(ENV["SECRET_A"])[1:-1] not in result.output
