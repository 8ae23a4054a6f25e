"""A hold made on an agent's own phone, as AMI reports it (Hold / Unhold on the agent's channel).

Turns those events into the desk's hold of that agent's caller, and after a reconnect asks
Asterisk which holds still stand; must not change anything on Asterisk (the phone holds, not
ccf serve) nor record anything itself (the desk does).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ccdsl.runtime.asterisk.ami import AmiError, AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.limits import AMI_MAX_CHANNELS

log = logging.getLogger("ccdsl.centre")

# on_hold(agent id, held): the desk's phone_hold
OnHold = Callable[[str, bool], None]
# CoreShowChannels' reply and its items
Listed = tuple[AmiMessage, Sequence[AmiMessage]]
ON_HOLD = "CHANNEL(onhold)"  # func_channel.c: "1" while the channel is held, else "0"


@dataclass(frozen=True)
class Known:
    """What PhoneHolds knew before Asterisk's channels were listed (snapshot): only that can
    the list end or forget; what events told since is newer than the list."""

    held: Mapping[str, tuple[str, str]]
    behind: frozenset[tuple[str, str]]


def local_pair(channel: str, halves: tuple[str, ...] = (";1", ";2")) -> str | None:
    """A Local channel's name without its half (`Local/8001@agents-00000000;2` ->
    `Local/8001@agents-00000000`: core_local names both halves so, and LocalBridge pairs
    them); None for any other channel, or for a half not in `halves` (`(";2",)`: the half
    that runs the dialplan and dials)."""
    if channel[:6].lower() == "local/" and channel[-2:] in halves:
        return channel[:-2]
    return None


class PhoneHolds:
    """Which agent's phone holds its call now, by agent (so at most one entry per agent,
    whatever a peer sends): the one record of it (the desk shows what it is told).

    Asterisk 22 raises `Hold` on the channel whose phone sent the re-INVITE with sendonly or
    inactive (res_pjsip_sdp_rtp.c ast_queue_hold: the holding side's channel, not the held
    caller's) and `Unhold` when it resumes; a phone that hangs up while holding sends no
    Unhold. So: Hold on a channel of an agent's device holds that agent's caller; Unhold, or
    Hangup, of the channel that held ends it. A hold on any other channel (the caller's own
    phone, a trunk, a Local channel of the console) changes nothing, and neither does music
    on hold (MusicOnHoldStart comes for queue callers and the console's own hold too).

    A queue member that is a Local channel (`Local/8001@agents`) rings the phone from the
    Local pair's `;2` half (DialBegin: Channel `Local/8001@agents-…;2`, DestChannel
    `PJSIP/8001-…`), and the phone's Hold comes on that PJSIP channel: a channel dialled by
    the `;2` half of an agent's Local channel is that agent's too (`behind`, until its
    Hangup), and so is one listed in a bridge with that half after a reconnect (its
    DialBegin may have come while the link was down). Only the `;2` half: the `;1` half is
    the caller's side (Queue()'s, or an Originate's application), whose dials reach
    customers, not the agent.

    agent_of(channel): the configured agent whose device the channel is on, or None.
    """

    def __init__(self, agent_of: Callable[[str], str | None], *,
                 cap: int = AMI_MAX_CHANNELS) -> None:
        self.agent_of = agent_of
        self.on_hold: OnHold | None = None
        self.cap = max(1, cap)
        self._held: dict[str, tuple[str, str]] = {}  # agent -> (server, channel)
        # (server, channel or Local pair) -> agent: what an agent's Local member dialled;
        # bounded like the channel map, since a peer may never send the Hangup
        self._behind: OrderedDict[tuple[str, str], str] = OrderedDict()

    def apply(self, server: str, event: AmiMessage) -> None:
        name = event.event
        if name not in ("Hold", "Unhold", "Hangup", "DialBegin"):
            return
        channel = event.get("Channel") or ""
        if name == "DialBegin":
            self._dialled(server, channel, event.get("DestChannel") or "")
            return
        if name == "Hold":
            agent = self.agent_of_channel(server, channel) if channel else None
            if agent is not None:
                self._held[agent] = (server, channel)
                self._tell(agent, True)
            return
        if name == "Hangup":  # a Local pair's halves hang up together
            pair = local_pair(channel)
            self._behind.pop((server, pair if pair is not None else channel), None)
        for agent, where in list(self._held.items()):
            if where == (server, channel):
                del self._held[agent]
                self._tell(agent, False)

    def holding(self, agent: str) -> str | None:
        """The channel whose phone holds the agent's call now (None: no phone hold)."""
        where = self._held.get(agent)
        return where[1] if where is not None else None

    def agent_of_channel(self, server: str, channel: str) -> str | None:
        """The agent whose phone the channel is: its device, or what its Local member dialled."""
        agent = self.agent_of(channel)
        if agent is not None:
            return agent
        pair = local_pair(channel)
        return self._behind.get((server, pair if pair is not None else channel))

    def _dialled(self, server: str, caller: str, dest: str) -> None:
        if not dest or local_pair(caller, (";2",)) is None:
            return
        agent = self.agent_of_channel(server, caller)
        if agent is not None:
            self._behind_agent(server, agent, dest)

    def _behind_agent(self, server: str, agent: str, dest: str) -> None:
        """`dest`, which the ;2 half of the agent's Local channel dialled, is the agent's
        (unless it is some agent's device itself)."""
        if self.agent_of(dest) is not None:
            return
        pair = local_pair(dest)
        key = (server, pair if pair is not None else dest)
        self._behind.pop(key, None)
        self._behind[key] = agent
        while len(self._behind) > self.cap:
            self._behind.popitem(last=False)

    # -- after a reconnect -------------------------------------------------------------

    def snapshot(self) -> Known:
        """Taken before Asterisk's channels are listed for reconcile."""
        return Known(dict(self._held), frozenset(self._behind))

    async def reconcile(self, server: str, link: AmiLink, listed: Listed | None = None,
                        known: Known | None = None) -> None:
        """The link to `server` came back: an Unhold, Hold or Hangup may have been missed.

        Asterisk marks the HELD side: the channel bridged with the phone that held gets
        CHANNEL(onhold) 1 (main/channel.c indicate_data_internal), the holding phone's own
        channel stays 0 (captures/ami-phone-hold-ask*.txt). So CoreShowChannels lists the
        channels and their bridges, and for each agent's channel in a bridge `Getvar
        CHANNEL(onhold)` of the others tells whether that phone holds: a hold whose channel is
        gone ends, one whose bridge has no held channel ends, one begun while the link was
        down is shown. What Asterisk does not answer leaves the hold as it was.

        `listed`: CoreShowChannels as AmiCentre.resync just read it (None: asked here), with
        `known`, the snapshot taken before that question. Events read since reach apply at
        once (not held as the mirror's are), so a channel made after the list, whose Hold or
        Local DialBegin was read already, is missing from it: only what `known` has is ended
        or forgotten by the list, which is why the one list can serve both."""
        try:
            if listed is None:
                known = self.snapshot()
                listed = await link.list_action("CoreShowChannels")
            known = known if known is not None else self.snapshot()
            reply, items = listed
            if not reply.ok:
                log.warning("AMI: CoreShowChannels refused (%s): the phones' holds are "
                            "kept as they were", reply.message)
                return
            live: dict[str, str] = {}  # channel -> its bridge
            for item in items:
                if item.get("Channel"):
                    live[str(item.get("Channel"))] = item.get("BridgeId") or ""
            self._forget_gone(server, live, known.behind)
            bridges = _bridges(live)  # one reading of the list serves both questions
            self._bridged_behind(server, live, bridges)
            before = known.held
            found = await self._holders(server, live, bridges, link)
        except AmiError as exc:
            log.warning("AMI: the phones' holds not checked after the reconnect: %s", exc)
            return
        # a hold on another server is that server's link's to check: each Asterisk numbers
        # its channels itself, so this one may list a channel of the same name
        agents = {a for a in {*before, *found} if before.get(a, (server,))[0] == server}
        for agent in sorted(agents):
            if self._held.get(agent) != before.get(agent):
                continue  # an event since the list said it already
            where = before.get(agent)
            if where is not None:
                if where[1] in live and found.get(agent, {}).get(where[1]) is not False:
                    continue  # still held, or Asterisk did not say
                del self._held[agent]
                self._tell(agent, False)
            # a hold begun while the link was down, or moved to another channel of the
            # agent (the phone resumed one line and held another): shown now
            held = [c for c, on in found.get(agent, {}).items() if on]
            if held:
                self._held[agent] = (server, held[0])
                self._tell(agent, True)

    async def _holders(self, server: str, live: dict[str, str], bridges: dict[str, list[str]],
                       link: AmiLink) -> dict[str, dict[str, bool | None]]:
        """agent -> {its channel in a bridge: whether another channel of that bridge is held
        (None: Asterisk did not say)}."""
        asked: dict[str, bool | None] = {}
        found: dict[str, dict[str, bool | None]] = {}
        for channel, bridge in live.items():
            agent = self.agent_of_channel(server, channel) if bridge else None
            if agent is None:
                continue
            answers = []
            for other in bridges[bridge]:
                if other != channel:
                    if other not in asked:
                        asked[other] = await _on_hold(link, other)
                    answers.append(asked[other])
            held = (True if True in answers
                    else False if answers and None not in answers else None)
            found.setdefault(agent, {})[channel] = held
        return found

    def _bridged_behind(self, server: str, live: dict[str, str],
                        bridges: dict[str, list[str]]) -> None:
        """What the ;2 half of an agent's Local channel dialled while the link was down
        (its DialBegin never read): the channel bridged with that half (the phone's, as
        captures/ami-phone-hold-ask-queue-local.txt lists them) is the agent's."""
        for channel, bridge in live.items():
            if not bridge or local_pair(channel, (";2",)) is None:
                continue
            agent = self.agent_of_channel(server, channel)
            if agent is None:
                continue
            for other in bridges[bridge]:
                if other != channel:
                    self._behind_agent(server, agent, other)

    def _forget_gone(self, server: str, live: dict[str, str],
                     known: frozenset[tuple[str, str]]) -> None:
        pairs = {p for c in live if (p := local_pair(c)) is not None}
        for key in list(self._behind):
            if key in known and key[0] == server and key[1] not in live \
                    and key[1] not in pairs:
                del self._behind[key]

    def _tell(self, agent: str, held: bool) -> None:
        if self.on_hold is not None:
            self.on_hold(agent, held)


def _bridges(live: dict[str, str]) -> dict[str, list[str]]:
    """bridge -> the listed channels in it."""
    bridges: dict[str, list[str]] = {}
    for channel, bridge in live.items():
        if bridge:
            bridges.setdefault(bridge, []).append(channel)
    return bridges


async def _on_hold(link: AmiLink, channel: str) -> bool | None:
    """Whether Asterisk has the channel held (None: it did not say, e.g. gone meanwhile)."""
    reply = await link.action("Getvar", Channel=channel, Variable=ON_HOLD)
    value = reply.get("Value") if reply.ok else None
    return {"1": True, "0": False}.get(value or "")
