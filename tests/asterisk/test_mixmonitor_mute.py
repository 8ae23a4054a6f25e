"""`pause recording` on Asterisk: MixMonitorMute as ccf serve sends it, and
the test peer's replies, which must be app_mixmonitor.c's (Asterisk 22.10.1,
manager_mute_mixmonitor: headers checked Direction, Channel, State; Success
carries no Message)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from ccdsl.runtime.asterisk.agi_mute import mute_mixmonitor
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.testing.peer.ami_mixmonitor import mixmonitor_mute

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
CHANNEL = "PJSIP/caller-00000001"


def _sim() -> SimChannel:
    info = CallInfo("1796032800.1", "+8613800000001", None, "", T0, CHANNEL)
    return SimChannel(info, VirtualClock(T0), ScriptedCaller(()))


def _ask(sim: SimChannel, **headers: str) -> dict:
    return asyncio.run(mixmonitor_mute(sim, headers)).headers


@pytest.mark.parametrize(("headers", "message"), [
    ({"Channel": CHANNEL, "State": "1"}, "No direction specified. Must be read, write or both"),
    ({"Channel": CHANNEL, "Direction": "up", "State": "1"},
     "Invalid direction specified. Must be read, write or both"),
    ({"Direction": "both", "State": "1"}, "No channel specified"),
    ({"Channel": CHANNEL, "Direction": "both"}, "No state specified"),
    ({"Channel": "PJSIP/other-1", "Direction": "both", "State": "1"}, "No such channel"),
    # no MixMonitor ever ran: the channel has no audiohooks
    ({"Channel": CHANNEL, "Direction": "both", "State": "1"}, "Cannot set mute flag"),
])
def test_refusals_are_app_mixmonitors(headers, message) -> None:
    assert _ask(_sim(), ActionID="ccf-7", **headers) == \
        {"Response": "Error", "ActionID": "ccf-7", "Message": message}


def test_mute_and_unmute_leave_silent_spans_in_the_one_recording() -> None:
    sim = _sim()
    asyncio.run(sim.start_recording("/rec/c1"))
    sim.clock.advance(1_000)
    assert _ask(sim, ActionID="a1", Channel=CHANNEL, Direction="both", State="1") == \
        {"Response": "Success", "ActionID": "a1"}
    sim.clock.advance(5_000)
    assert _ask(sim, Channel=CHANNEL.upper(), Direction="Both", State="off") == \
        {"Response": "Success"}
    sim.clock.advance(2_000)
    asyncio.run(sim.stop_recording())
    (entry,) = sim.recordings
    assert (entry.file, entry.duration_ms, entry.paused) == ("/rec/c1", 8_000, ((1_000, 6_000),))
    # stopped: still Success, nothing to mute (count 0)
    assert _ask(sim, Channel=CHANNEL, Direction="both", State="1") == {"Response": "Success"}


def test_ccf_serve_sends_both_directions_and_reads_the_reply() -> None:
    sent: list[tuple[str, dict]] = []

    async def switch(action: str, **headers: object) -> AmiMessage:
        sent.append((action, headers))
        return AmiMessage({"Response": "Error", "Message": "No such channel"})

    with pytest.raises(ExternalError, match="refused to pause the recording.*No such channel"):
        asyncio.run(mute_mixmonitor(switch, CHANNEL, True))
    assert sent == [("MixMonitorMute", {"Channel": CHANNEL, "Direction": "both", "State": "1"})]
    with pytest.raises(ExternalError, match="needs ccf serve's AMI link"):
        asyncio.run(mute_mixmonitor(None, CHANNEL, False))


def test_the_ami_double_answers_mixmonitormute_as_asterisk() -> None:
    """ccf serve's AMI link (what FlowServer.switch calls) against the AMI
    double: the replies and the MixMonitorMute event of app_mixmonitor.c."""
    from doubles.ami_server import AmiPeer
    from doubles.ami_state import PeerChannel

    from ccdsl.runtime.asterisk.ami import AmiLink

    peer = AmiPeer(users={"ccf": "secret"})

    async def main():
        await peer.start()
        try:
            peer.channels[CHANNEL] = PeerChannel(CHANNEL, "1796032800.1", "1796032800.1",
                                                 "ccf-inbound", "+864008001234")
            link = AmiLink("127.0.0.1", peer.port, "ccf", "secret", events="off")
            await link.start()
            try:
                never = await link.action("MixMonitorMute", Channel=CHANNEL, Direction="both",
                                          State="1")
                peer.channels[CHANNEL].variables["MIXMONITOR_FILENAME"] = "/rec/c1.wav"
                await mute_mixmonitor(link.action, CHANNEL, True)
                muted = peer.mixmonitor_mutes.get(CHANNEL)
                await mute_mixmonitor(link.action, CHANNEL, False)
                unknown = await link.action("MixMonitorMute", Channel="PJSIP/gone-1",
                                            Direction="both", State="0")
            finally:
                await link.close()
            return never, muted, unknown
        finally:
            await peer.stop()

    never, muted, unknown = asyncio.run(main())
    assert (never.ok, never.message) == (False, "Cannot set mute flag")
    assert muted is True and peer.mixmonitor_mutes[CHANNEL] is False
    assert (unknown.ok, unknown.message) == (False, "No such channel")
