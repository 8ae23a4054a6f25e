"""The test peer's answer to AMI's MixMonitorMute, as apps/app_mixmonitor.c's
manager_mute_mixmonitor gives it (Asterisk 22), on the peer's simulated caller.

Answers only; the recording itself is the SimChannel's (runtime/sim/recording_mute.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.sim.channel import SimChannel

_FALSE = frozenset({"no", "false", "n", "f", "0", "off"})  # main/utils.c ast_false
_DIRECTIONS = frozenset({"read", "write", "both"})


def mute_refusal(get: Callable[[str], str | None]) -> str | None:
    """The Message of the Error manager_mute_mixmonitor answers for missing
    or wrong headers, checked in its order (Direction, Channel, State);
    None when they are all there. `get` reads a header (case ignored).
    The AMI double (tests/doubles/ami_control.py) answers by it too."""
    direction = (get("Direction") or "").lower()
    if not direction:
        return "No direction specified. Must be read, write or both"
    if direction not in _DIRECTIONS:
        return "Invalid direction specified. Must be read, write or both"
    if not get("Channel"):
        return "No channel specified"
    if not get("State"):
        return "No state specified"
    return None


def muting(state: str) -> bool:
    """State read as ast_true's opposite of ast_false: anything not false mutes."""
    return state.lower() not in _FALSE


async def mixmonitor_mute(sim: SimChannel, headers: Mapping[str, str]) -> AmiMessage:
    """Check the headers (mute_refusal), find the channel by name or
    uniqueid, then mute or unmute its MixMonitor. A channel that never had
    an audiohook (no MixMonitor ever started on it) cannot be muted; one
    whose recording has stopped can (nothing is muted: count 0, still
    Success). The reply: `Response: Error`, ActionID, `Message`
    (astman_send_error); or `Response: Success` and the ActionID, no Message."""
    request = AmiMessage(dict(headers))  # its lookups ignore case, as astman_get_header
    error = mute_refusal(request.get)
    if error is None:
        channel, info = request.get("Channel") or "", sim.info
        if channel.lower() != info.channel.lower() and channel != info.call_id:
            error = "No such channel"
        elif sim._recording is None and not sim.recordings:
            error = "Cannot set mute flag"
        elif (request.get("Direction") or "").lower() == "both" and sim._recording is not None:
            # read or write alone would leave one side heard: the flow sends `both`
            await sim.pause_recording(muting(request.get("State") or ""))
    reply: dict[str, str | list[str]] = {"Response": "Error" if error else "Success"}
    if request.get("ActionID"):
        reply["ActionID"] = request.get("ActionID") or ""
    if error:
        reply["Message"] = error
    return AmiMessage(reply)
