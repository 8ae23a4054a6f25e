"""`pause recording` on Asterisk: the call's MixMonitor muted and unmuted by AMI's
MixMonitorMute (apps/app_mixmonitor.c, Asterisk 22), the same file going on silent.

AGI has no command for it, so ccf serve's AMI link sends the action. Must not start or
stop a recording (agi_channel.py does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage
from ccdsl.runtime.core.errors import ExternalError

# sends one AMI action and returns its reply: (action, **headers) -> reply;
# ccf serve's AmiLink.action while the link is up, the test peer's in tests
SwitchAction = Callable[..., Awaitable[AmiMessage]]


async def mute_mixmonitor(switch: SwitchAction | None, channel: str, on: bool) -> None:
    """Mute (on) or unmute both directions of every MixMonitor of `channel`.
    Asterisk answers `Response: Success` (no Message) when done, or an Error
    whose Message says why (No such channel, Cannot set mute flag, ...)."""
    what = "pause" if on else "resume"
    if switch is None:
        raise ExternalError(f"cannot {what} the recording: pausing needs ccf serve's AMI link "
                            "([ami] in ccf.toml), which is off or down", service="asterisk")
    try:
        reply = await switch("MixMonitorMute", Channel=channel, Direction="both",
                             State="1" if on else "0")
    except AmiError as exc:
        raise ExternalError(f"cannot {what} the recording: {exc}", service="asterisk") from None
    if not reply.ok:
        raise ExternalError(f"Asterisk refused to {what} the recording (MixMonitorMute): "
                            f"{reply.message or 'no reason given'}", service="asterisk")
