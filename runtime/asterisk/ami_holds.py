"""A hold made on an agent's own phone, as AMI reports it (Hold / Unhold on the agent's channel).

Turns those events into the desk's hold of that agent's caller; must not act on Asterisk (the
phone holds, not ccf serve) nor record anything itself (the desk does).
"""

from __future__ import annotations

from collections.abc import Callable

from ccdsl.runtime.asterisk.ami_protocol import AmiMessage

# on_hold(agent id, held): the desk's phone_hold
OnHold = Callable[[str, bool], None]


class PhoneHolds:
    """Which agent's phone holds its call now, by agent (so at most one entry per agent,
    whatever a peer sends).

    Asterisk 22 raises `Hold` on the channel whose phone sent the re-INVITE with sendonly or
    inactive (res_pjsip_sdp_rtp.c ast_queue_hold: the holding side's channel, not the held
    caller's) and `Unhold` when it resumes; a phone that hangs up while holding sends no
    Unhold. So: Hold on a channel of an agent's device holds that agent's caller; Unhold, or
    Hangup, of the channel that held ends it. A hold on any other channel (the caller's own
    phone, a trunk, a Local channel of the console) changes nothing, and neither does music
    on hold (MusicOnHoldStart comes for queue callers and the console's own hold too).

    agent_of(channel): the configured agent whose device the channel is on, or None.
    """

    def __init__(self, agent_of: Callable[[str], str | None]) -> None:
        self.agent_of = agent_of
        self.on_hold: OnHold | None = None
        self._held: dict[str, tuple[str, str]] = {}  # agent -> (server, channel)

    def apply(self, server: str, event: AmiMessage) -> None:
        name = event.event
        if name not in ("Hold", "Unhold", "Hangup"):
            return
        channel = event.get("Channel") or ""
        if name == "Hold":
            agent = self.agent_of(channel) if channel else None
            if agent is not None:
                self._held[agent] = (server, channel)
                self._tell(agent, True)
            return
        for agent, where in list(self._held.items()):
            if where == (server, channel):
                del self._held[agent]
                self._tell(agent, False)

    def holding(self, agent: str) -> str | None:
        """The channel whose phone holds the agent's call now (None: no phone hold)."""
        where = self._held.get(agent)
        return where[1] if where is not None else None

    def _tell(self, agent: str, held: bool) -> None:
        if self.on_hold is not None:
            self.on_hold(agent, held)
