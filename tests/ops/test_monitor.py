"""`ccf monitor` against the AMI peer: the agent's channel found through
CoreShowChannels, the exact Originate of ChanSpy, the wait for its
OriginateResponse (Reason 4 answered, Failure / Reason 0 refused, none at
all), the call that is not there or has no agent yet, and the session
noted in the call store."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread
from doubles.ami_wire import error, reply
from ports import free_port

from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.monitor import (
    Mode,
    MonitorError,
    find_agent_leg,
    monitor_call,
    supervisor_device,
)
from ops.peer_thread import add_call, write_config

CALL = "1795663790.9"
ENV = {"CCF_AMI_SECRET": "secret"}


def run_monitor(tmp_path: Path, peer: AmiPeer, mode: Mode = Mode.listen, *, call: str = CALL,
                ring: float = 30.0, **config):
    async def main():
        await peer.start()
        centre = load_config(write_config(tmp_path, peer.port, **config), environ=ENV)
        try:
            return await monitor_call(centre, call, "8009", mode, ring_timeout_s=ring)
        finally:
            await peer.stop()

    return asyncio.run(main())


def originates(peer: AmiPeer) -> list[dict]:
    return [a for a in peer.actions if a.get("Action") == "Originate"]


@pytest.mark.parametrize(("mode", "options"), [(Mode.listen, "q"), (Mode.whisper, "qw"),
                                               (Mode.barge, "qB")])
def test_the_supervisor_is_rung_with_chanspy_on_the_agents_channel(tmp_path, mode,
                                                                    options) -> None:
    peer = AmiPeer(auth_failure_delay=0.01)
    add_call(peer)
    session = run_monitor(tmp_path, peer, mode)
    actions = [a["Action"] for a in peer.actions]
    assert actions[:3] == ["Login", "CoreShowChannels", "Originate"]
    (sent,) = originates(peer)
    assert sent["ActionID"].startswith("ccf-monitor-")
    # the headers in order, as ami-actions.txt's async Originate sends them
    assert list(sent.items())[2:] == [
        ("Channel", "PJSIP/8009"), ("Application", "ChanSpy"),
        ("Data", f"PJSIP/8001-0000000a,{options}"), ("CallerID", "Monitor <8009>"),
        ("Async", "true"), ("Timeout", "30000")]
    assert session.agent == "li" and session.agent_channel == "PJSIP/8001-0000000a"
    assert session.call_id == CALL and session.mode is mode
    # the supervisor's channel comes from the OriginateResponse, so the
    # command waited for it: the peer made that channel with ChanSpy on it
    spy = peer.channels[session.spy_channel]
    assert session.spy_channel.startswith("PJSIP/8009-")
    assert (spy.application, spy.data) == ("ChanSpy", f"PJSIP/8001-0000000a,{options}")
    assert spy.caller_num == "8009" and spy.caller_name == "Monitor"


def test_a_phone_that_cannot_be_rung_fails_with_the_reason(tmp_path) -> None:
    peer = AmiPeer(auth_failure_delay=0.01)
    add_call(peer)
    peer.devices["PJSIP/8009"] = "UNAVAILABLE"  # OriginateResponse Failure, Reason 0
    with pytest.raises(MonitorError, match=r"PJSIP/8009 did not take the call: the device "
                                           r"could not be rung"):
        run_monitor(tmp_path, peer)
    assert len(originates(peer)) == 1
    assert not any(c.application == "ChanSpy" for c in peer.channels.values())


class SilentPeer(AmiPeer):
    """Queues the Originate and never says how it ended."""

    async def _action_originate(self, session, request) -> None:
        reply(session, request, "Success", "Originate successfully queued")


def test_no_originate_response_is_a_clear_timeout(tmp_path) -> None:
    peer = SilentPeer(auth_failure_delay=0.01)
    add_call(peer)
    with pytest.raises(MonitorError, match=r"did not say whether PJSIP/8009 answered within "
                                           r"1\.2 s"):
        run_monitor(tmp_path, peer, ring=0.2)


class RefusingPeer(AmiPeer):
    async def _action_originate(self, session, request) -> None:
        error(session, request, "Permission denied")


def test_an_originate_asterisk_refuses_says_so(tmp_path) -> None:
    peer = RefusingPeer(auth_failure_delay=0.01)
    add_call(peer)
    with pytest.raises(MonitorError, match="Asterisk refused to ring PJSIP/8009: "
                                           "Permission denied"):
        run_monitor(tmp_path, peer)


def test_a_call_that_is_not_there_is_not_found(tmp_path) -> None:
    peer = AmiPeer(auth_failure_delay=0.01)
    add_call(peer, "1795663790.7")
    with pytest.raises(MonitorError, match=f"no call {CALL} on Asterisk"):
        run_monitor(tmp_path, peer)
    assert originates(peer) == []


def test_a_call_still_in_the_flow_has_no_agent_yet(tmp_path) -> None:
    peer = AmiPeer(auth_failure_delay=0.01)
    add_call(peer, agent_channel=None)
    with pytest.raises(MonitorError, match=f"call {CALL} has no agent yet"):
        run_monitor(tmp_path, peer)
    assert originates(peer) == []


def test_a_linked_channel_that_is_no_agents_device_is_not_the_agent(tmp_path) -> None:
    peer = AmiPeer(auth_failure_delay=0.01)
    add_call(peer, agent_channel="PJSIP/+862150001234@trunk-0000000b")  # a transfer out
    with pytest.raises(MonitorError, match="has no agent yet"):
        run_monitor(tmp_path, peer)


def test_the_agents_channel_is_picked_among_the_calls_channels() -> None:
    channels = [
        {"Channel": "PJSIP/trunk-00000009", "Uniqueid": CALL, "Linkedid": CALL,
         "ChannelState": "6"},
        {"Channel": "PJSIP/8002-0000000c", "Uniqueid": "9.1", "Linkedid": "9.1",
         "ChannelState": "6"},  # another call's agent
        {"Channel": "Local/8001@agents-0000000b;2", "Uniqueid": "9.3", "Linkedid": CALL,
         "ChannelState": "6"},
        {"Channel": "Local/8001@agents-0000000b;1", "Uniqueid": "9.2", "Linkedid": CALL,
         "ChannelState": "6"},
    ]
    leg = find_agent_leg(channels, CALL, {"Local/8001@agents": "li", "Local/8002@agents":
                                          "wang"})
    assert (leg.channel, leg.agent) == ("Local/8001@agents-0000000b;1", "li")
    assert leg.caller_channel == "PJSIP/trunk-00000009"
    # without agents in ccf.toml, any other channel of the call is the agent's
    assert find_agent_leg(channels, CALL, {}).channel == "Local/8001@agents-0000000b;1"
    # a channel still ringing comes after one that answered
    ringing = {"Channel": "PJSIP/8002-0000000d", "Uniqueid": "9.4", "Linkedid": CALL,
               "ChannelState": "5"}
    both = find_agent_leg([ringing, *channels], CALL, {"PJSIP/8002": "wang",
                                                       "Local/8001@agents": "li"})
    assert both.agent == "li"
    with pytest.raises(MonitorError, match="is not a call id"):
        find_agent_leg(channels, "1795,q", {})
    # the store's id of a channel's second AGI() run is UNIQUEID~2 (docs/store.md)
    again = find_agent_leg(channels, f"{CALL}~2", {"Local/8001@agents": "li"})
    assert (again.channel, again.agent) == ("Local/8001@agents-0000000b;1", "li")


def test_the_supervisors_device_comes_from_the_agents_interface() -> None:
    class Agent:
        def __init__(self, id, extension):
            self.id, self.extension = id, extension

    agents = [Agent("boss", "8009")]
    assert supervisor_device("PJSIP/{extension}", "8009", []) == "PJSIP/8009"
    assert supervisor_device("Local/{extension}@agents", "8009", []) == "Local/8009@agents"
    assert supervisor_device("SIP/{agent}-{extension}", "8009", agents) == "SIP/boss-8009"
    with pytest.raises(MonitorError, match="add the supervisor to the agents file"):
        supervisor_device("SIP/{agent}", "8010", agents)
    with pytest.raises(MonitorError, match="is not a phone number"):
        supervisor_device("PJSIP/{extension}", "8009,B", agents)


# ---- the command ---------------------------------------------------------------------


def test_ccf_monitor_connects_the_supervisor_and_notes_it_in_the_call_store(tmp_path) -> None:
    with peer_in_thread() as peer:
        add_call(peer)
        config = write_config(tmp_path, peer.port)
        result = ccf("monitor", CALL, "--supervisor", "8009", "--mode", "whisper",
                     "--config", str(config), env=ENV)
        sent = originates(peer)
    assert result.exit_code == 0, result.output
    assert (f"Monitoring call {CALL}: the supervisor at PJSIP/8009 whispers to agent li "
            "(PJSIP/8001-0000000a); the caller does not hear.") in " ".join(result.stdout.split())
    assert sent[0]["Data"] == "PJSIP/8001-0000000a,qw"
    db = sqlite3.connect(tmp_path / "calls.db")
    rows = db.execute("SELECT source, kind, call_id, data FROM centre_events").fetchall()
    assert len(rows) == 1
    source, kind, call_id, data = rows[0]
    assert (source, kind, call_id) == ("ccf", "monitor_started", CALL)
    assert json.loads(data) == {
        "call_id": CALL, "mode": "whisper", "supervisor": "8009", "device": "PJSIP/8009",
        "agent_channel": "PJSIP/8001-0000000a", "agent": "li",
        "spy_channel": json.loads(data)["spy_channel"]}
    assert json.loads(data)["spy_channel"].startswith("PJSIP/8009-")


def test_ccf_monitor_failures_are_one_line_with_their_status(tmp_path) -> None:
    with peer_in_thread() as peer:
        config = write_config(tmp_path, peer.port)
        missing = ccf("monitor", CALL, "-s", "8009", "--config", str(config), env=ENV)
        add_call(peer, agent_channel=None)
        waiting = ccf("monitor", CALL, "-s", "8009", "--config", str(config), env=ENV)
        no_secret = ccf("monitor", CALL, "-s", "8009", "--config", str(config),
                        env={"CCF_AMI_SECRET": ""})
    assert missing.exit_code == 1 and f"error: no call {CALL} on Asterisk" in missing.output
    assert waiting.exit_code == 1 and "has no agent yet" in waiting.output
    assert no_secret.exit_code == 2  # a usage error, as for every AMI command
    assert "set the environment variable CCF_AMI_SECRET" in no_secret.output
    assert not (tmp_path / "calls.db").exists()


def test_ccf_monitor_without_asterisk_says_where_it_looked(tmp_path) -> None:
    port = free_port()  # nobody listens there
    config = write_config(tmp_path, port)
    result = ccf("monitor", CALL, "-s", "8009", "--config", str(config), env=ENV)
    assert result.exit_code == 4  # UNREACHABLE
    assert f"cannot reach AMI at 127.0.0.1:{port}" in result.output
    assert f"check [ami] in {config}" in " ".join(result.output.split())


def test_ccf_monitor_checks_its_arguments(tmp_path) -> None:
    config = write_config(tmp_path, 5038)
    bad_mode = ccf("monitor", CALL, "-s", "8009", "--mode", "shout", "--config", str(config))
    assert bad_mode.exit_code == 2
    bad_call = ccf("monitor", "1795;x", "-s", "8009", "--config", str(config), env=ENV)
    assert bad_call.exit_code == 2 and "is not a call id" in bad_call.output
    bad_ext = ccf("monitor", CALL, "-s", "80a9", "--config", str(config), env=ENV)
    assert bad_ext.exit_code == 2 and "--supervisor" in bad_ext.output


def test_ccf_monitor_help() -> None:
    result = ccf("monitor", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Let a supervisor listen to, whisper to or barge into a call with an agent" in text
    assert "Monitoring exists on Asterisk only" in text
    for option in ("--supervisor", "--mode", "--ring", "--config", "listen", "whisper",
                   "barge"):
        assert option in text
