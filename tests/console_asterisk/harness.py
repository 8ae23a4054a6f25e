"""A console's AsteriskControl on a real socket against the AMI double: ccf serve's
link feeding an AmiCentre and the control, a call bridged to an agent, a stand-in TTS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from asterisk.centre import WAIT_S
from doubles.ami_server import AmiPeer
from ops.peer_thread import add_call, write_config

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.console_control import AsteriskControl
from ccdsl.runtime.core.centre import Agent, parse_state
from ccdsl.runtime.operations.store import CallStore

CALL = "1795663790.9"
CALLER = "PJSIP/trunk-00000009"
AGENT_LEG = "PJSIP/8001-0000000a"
QUEUES = {"ccf-general": {"general": 1}, "ccf-tech": {"tech": 5}}


class FakeTts:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rendered: list[tuple[str, str]] = []

    async def render(self, text: str, language: str) -> str:
        self.rendered.append((text, language))
        return str(self.folder / "tts" / "abc123")


@dataclass
class World:
    peer: AmiPeer
    control: AsteriskControl
    centre: AmiCentre
    link: AmiLink
    tts: FakeTts
    config: object
    running: dict = field(default_factory=dict)

    def sent(self, *names: str) -> list[dict]:
        """The actions the peer received after the start, of these names."""
        return [a for a in self.peer.actions[self.start:] if a.get("Action") in names]

    start: int = 0


async def world(tmp_path: Path, *, call: bool = True, agent_leg: bool = True,
                link_up: bool = True) -> World:
    peer = AmiPeer(auth_failure_delay=0.01, queues=tuple(QUEUES))
    if call:
        add_call(peer, CALL, agent_channel=AGENT_LEG if agent_leg else None)
    await peer.start()
    config = load_config(write_config(tmp_path, peer.port), environ={"CCF_AMI_SECRET": "secret"})
    agents = [Agent(id=a.id, name=a.name, extension=a.extension, skills=dict(a.skills),
                    state=parse_state(a.state)) for a in config.agents.agents]
    centre = AmiCentre(agents, config.agents.interface, queues=["general", "tech"])
    link = AmiLink("127.0.0.1", peer.port, "ccf", "secret", timeout=WAIT_S, ping_interval=None)
    running = {CALL: SimpleNamespace(info=SimpleNamespace(channel=CALLER))} if call else {}
    tts = FakeTts(tmp_path)
    control = AsteriskControl(config, ami=lambda: link if link_up else None, centre=centre,
                              queues=lambda: QUEUES, tts=tts,
                              store=CallStore(str(tmp_path / "calls.db")),
                              running=running.get)

    def on_event(message):
        centre.apply(message)
        control.on_event(message)

    link.on_event = on_event
    await link.start()
    await centre.resync(link)
    w = World(peer, control, centre, link, tts, config, running)
    w.start = len(peer.actions)
    return w


async def close(w: World) -> None:
    await w.link.close()
    w.control.store.close()
    await w.peer.stop()
