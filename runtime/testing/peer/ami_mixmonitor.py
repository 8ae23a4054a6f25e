"""The test peer's answer to AMI's MixMonitorMute, as apps/app_mixmonitor.c's
manager_mute_mixmonitor gives it (Asterisk 22), on the peer's simulated caller.

Answers only; the recording itself is the SimChannel's (runtime/sim/recording_mute.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.sim.channel import SimChannel

_FALSE = frozenset({"no", "false", "n", "f", "0", "off"})  # main/utils.c ast_false
_DIRECTIONS = frozenset({"read", "write", "both"})


def _reply(headers: Mapping[str, str], error: str | None = None) -> AmiMessage:
    """astman_send_error's `Response: Error`, ActionID, `Message`; or the
    action's own success: `Response: Success` and the ActionID, no Message."""
    reply: dict[str, str | list[str]] = {"Response": "Error" if error else "Success"}
    action_id = _get(headers, "ActionID")
    if action_id:
        reply["ActionID"] = action_id
    if error:
        reply["Message"] = error
    return AmiMessage(reply)


def _get(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():  # astman_get_header ignores case
        if key.lower() == name.lower():
            return str(value)
    return ""


async def mixmonitor_mute(sim: SimChannel, headers: Mapping[str, str]) -> AmiMessage:
    """Check the headers in app_mixmonitor.c's order (Direction, Channel,
    State), find the channel by name or uniqueid, then mute or unmute its
    MixMonitor. A channel that never had an audiohook (no MixMonitor ever
    started on it) cannot be muted; one whose recording has stopped can
    (nothing is muted: count 0, still Success)."""
    direction = _get(headers, "Direction")
    if not direction:
        return _reply(headers, "No direction specified. Must be read, write or both")
    if direction.lower() not in _DIRECTIONS:
        return _reply(headers, "Invalid direction specified. Must be read, write or both")
    channel = _get(headers, "Channel")
    if not channel:
        return _reply(headers, "No channel specified")
    state = _get(headers, "State")
    if not state:
        return _reply(headers, "No state specified")
    info = sim.info
    if channel.lower() != info.channel.lower() and channel != info.call_id:
        return _reply(headers, "No such channel")
    if sim._recording is None and not sim.recordings:
        return _reply(headers, "Cannot set mute flag")
    if direction.lower() == "both" and sim._recording is not None:
        # read or write alone would leave one side heard: the flow sends `both`
        await sim.pause_recording(state.lower() not in _FALSE)
    return _reply(headers)
