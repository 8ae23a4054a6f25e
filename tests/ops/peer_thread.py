"""Test helpers for the operations commands: channels in the AMI peer's
model and a ccf.toml pointing at the peer (doubles.ami_thread
.peer_in_thread runs the peer where an in-process `ccf monitor` reaches it)."""

from __future__ import annotations

from pathlib import Path

from doubles.ami_server import AmiPeer
from doubles.ami_state import PeerChannel

AGENTS = """\
[[agents]]
id = "li"
name = "Li Na"
extension = "8001"
skills = ["general"]

[[agents]]
id = "wang"
name = "Wang Fang"
extension = "8002"
skills = ["general"]
"""


def write_config(folder: Path, ami_port: int, *, interface: str = "PJSIP/{extension}",
                 agents: bool = True, api_port: int | None = None) -> Path:
    lines = ["[ami]", 'host = "127.0.0.1"', f"port = {ami_port}", 'user = "ccf"',
             'timeout = "1s"', "", "[paths]", 'store = "calls.db"', 'sounds = "sounds"', "",
             "[agents]", f'interface = "{interface}"']
    if agents:
        (folder / "agents.toml").write_text(AGENTS, encoding="utf-8")
        lines.append('file = "agents.toml"')
    if api_port is not None:
        lines += ["", "[api]", 'host = "127.0.0.1"', f"port = {api_port}"]
    path = folder / "ccf.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def add_call(peer: AmiPeer, call_id: str = "1795663790.9", *, caller: str = "+8613800000001",
             agent_channel: str | None = "PJSIP/8001-0000000a",
             state: int = 6) -> PeerChannel:
    """A call as Asterisk shows it once Queue() has bridged an agent: the
    caller's trunk channel (Uniqueid = Linkedid = the call id) and the
    agent's channel carrying the call's Linkedid."""
    chan = PeerChannel("PJSIP/trunk-00000009", call_id, call_id, "ccf-inbound", "4008001234",
                       caller_num=caller, caller_name="Caller", application="AGI",
                       data="agi://127.0.0.1:4573/hotline")
    peer.channels[chan.name] = chan
    if agent_channel is not None:
        agent = PeerChannel(agent_channel, call_id[:-1] + "10", call_id, "ccf-answered", "s",
                            state=state, caller_num="8001", caller_name="Li Na",
                            device=agent_channel.rsplit("-", 1)[0])
        peer.channels[agent.name] = agent
    return chan
