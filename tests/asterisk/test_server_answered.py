"""The `ccf-answered` connection names its agent: by the agent id Dial's
U() passes, else (Queue's gosub passes none) by the connection's own
channel, whose device is an agent's interface — `+` included."""

from __future__ import annotations

import asyncio

from asterisk.centre import WAIT_S
from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.names import ANSWERED_SCRIPT, ANSWERED_SUB
from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, Backend, CallerLine


def _answered(tmp_path, script: str, channel: str) -> list[str]:
    fired: list[str] = []

    async def on_answer(agent: str) -> None:
        fired.append(agent)

    async def main() -> None:
        devices = {"local/+8613800000009@agents": "li", "pjsip/8001": "zhang"}
        server = FlowServer(StaticFlows({}), lambda info: None,
                            AgiSettings(sounds_dir=str(tmp_path), recordings_dir=str(tmp_path)),
                            port=0, tts=TtsRenderer(tmp_path / "tts", ("true",)),
                            agents=lambda agent_id: None, clock=SystemClock(),
                            agent_for_interface=lambda device: devices.get(device.lower()))
        host, port = await server.start()
        try:
            server.hooks.register("1795.1", on_answer)
            line = CallerLine(script=script, channel=channel, uniqueid="1795.2",
                              context=ANSWERED_SUB, extension="s", priority=1)
            await AgiCaller(host, port, Backend(channel=channel), line, timeout=WAIT_S).run()
        finally:
            await server.stop(0)

    asyncio.run(main())
    return fired


def test_the_agent_named_by_dial_is_taken_as_named(tmp_path):
    fired = _answered(tmp_path, f"{ANSWERED_SCRIPT}?call=1795.1&agent=zhang",
                      "PJSIP/8001-0000000a")
    assert fired == ["zhang"]


def test_a_queue_member_is_found_by_its_channel_plus_sign_and_all(tmp_path):
    fired = _answered(tmp_path, f"{ANSWERED_SCRIPT}?call=1795.1&agent=",
                      "Local/+8613800000009@agents-0000000a;1")
    assert fired == ["li"]
