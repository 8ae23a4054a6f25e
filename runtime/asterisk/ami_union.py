"""Several Asterisk servers seen as one centre: an AmiCentre per server's AMI link, merged.

An agent is read from the server its device lives on; a queue's waiting callers are summed; a
link that drops and resyncs rebuilds its own server's mirror, and checks the phones' holds on
that server, only. Must not open links or write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.ami_holds import PhoneHolds
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.core.centre import Agent

# device states that say the device is not on that server (a PJSIP endpoint not registered
# there, or unknown to it): the agent's state comes from another server, if any has more
ABSENT = (None, "UNAVAILABLE", "INVALID")


class Channels(Mapping[str, dict[str, str]]):
    """Every server's live channels as one map (each name is one server's channel)."""

    def __init__(self, centres: Iterable[AmiCentre]) -> None:
        self._maps = [c.channels for c in centres]

    def __getitem__(self, name: str) -> dict[str, str]:
        for channels in self._maps:
            if name in channels:
                return channels[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        for channels in self._maps:
            yield from channels

    def __len__(self) -> int:
        return sum(len(c) for c in self._maps)

    @property
    def evicted(self) -> int:
        return sum(c.evicted for c in self._maps)

    @property
    def expired(self) -> int:
        return sum(c.expired for c in self._maps)


class CentreUnion:
    """The CentreView (and what the console and ccf serve ask of AmiCentre) over the
    AmiCentre of each server, by server name in the config's order ("" for the single
    [ami]). One server: every answer is that server's own."""

    def __init__(self, centres: Mapping[str, AmiCentre]) -> None:
        if not centres:
            raise ValueError("a centre needs at least one Asterisk server")
        self.centres = dict(centres)
        first = next(iter(self.centres.values()))
        self.interface_template = first.interface_template
        self.clock = first.clock
        self.channels = Channels(self.centres.values())
        # the agents' phones' own holds (ccf serve points its on_hold at the desk)
        self.holds = PhoneHolds(self.agent_of_channel, cap=first.channels.cap)

    def server(self, name: str) -> AmiCentre:
        return self.centres[name]

    def home(self, agent_id: str) -> AmiCentre:
        """The server the agent's device lives on: the first (in the config's order) that
        reports it present, else the first that reported it at all, else the first."""
        states = [(c, c.device_state(agent_id)) for c in self.centres.values()]
        present = [c for c, state in states if state not in ABSENT]
        heard = [c for c, state in states if state is not None]
        return (present or heard or [states[0][0]])[0]

    def server_of_channel(self, channel: str, call_id: str | None = None) -> str | None:
        """The name of the server whose link reported this channel (None: none did).
        Two servers number their channels alike (PJSIP/trunk-00000001 on each): with the
        call's id, the server whose channel has it as Uniqueid or Linkedid is the one (each
        server's asterisk.conf `systemname` keeps Uniqueids apart: docs/asterisk.md)."""
        found = [name for name, centre in self.centres.items() if channel in centre.channels]
        if len(found) > 1 and call_id:
            uniqueid = call_id.split("~", 1)[0]  # a call run again on its channel: UNIQUEID~N
            mine = [name for name in found
                    if uniqueid in (self.centres[name].channels[channel].get("Uniqueid"),
                                    self.centres[name].channels[channel].get("Linkedid"))]
            found = mine or found
        return found[0] if found else None

    # -- CentreView ----------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent | None:
        return self.home(agent_id).agent(agent_id)

    def agents(self) -> list[Agent]:
        first = next(iter(self.centres.values()))
        return [self.agent(a.id) or a for a in first.agents()]

    def queue_waiting(self, queue: str) -> int:
        return sum(c.queue_waiting(queue) for c in self.centres.values())

    def queue_expected_wait_ms(self, queue: str) -> int:
        """The shortest of the servers' estimates: a server whose queue has no member says
        'never free', which must not hide the one where members answer."""
        return min(c.queue_expected_wait_ms(queue) for c in self.centres.values())

    def pauses(self) -> dict[tuple[str, str], str]:
        """Each agent's pauses as its home server reports them."""
        out: dict[tuple[str, str], str] = {}
        for name, centre in self.centres.items():
            for (queue, agent_id), reason in centre.pauses().items():
                if self.home(agent_id) is self.centres[name]:
                    out[(queue, agent_id)] = reason
        return out

    # -- events and links, per server ------------------------------------------------

    def apply(self, server: str, event: AmiMessage) -> None:
        self.centres[server].apply(event)
        self.holds.apply(server, event)

    async def resync(self, server: str, link: AmiLink) -> None:
        known = self.holds.snapshot()  # before the mirror's CoreShowChannels is asked
        listed = await self.centres[server].resync(link)
        # an Unhold, Hold or Hangup may have come while the link was down
        await self.holds.reconcile(server, link, listed, known)

    def set_queues(self, queues: Iterable[str]) -> None:
        names = list(queues)
        for centre in self.centres.values():
            centre.set_queues(names)

    # -- devices and agents, the same on every server (the same agents file) ----------

    def agent_for_device(self, device: str) -> str | None:
        return next(iter(self.centres.values())).agent_for_device(device)

    def agent_of_channel(self, channel: str) -> str | None:
        return next((a for c in self.centres.values()
                     if (a := c.agent_of_channel(channel)) is not None), None)

    def knows_device(self, device: str) -> bool:
        return any(c.knows_device(device) for c in self.centres.values())

    def is_logged_in(self, agent_id: str) -> bool:
        return self.home(agent_id).is_logged_in(agent_id)

    def member_queues(self, agent_id: str) -> list[str]:
        return sorted({q for c in self.centres.values() for q in c.member_queues(agent_id)})

    # the console's changes are made on every server (ccf serve adds members on each)
    def note_login(self, agent_id: str, queues: Iterable[str]) -> None:
        names = list(queues)
        for centre in self.centres.values():
            centre.note_login(agent_id, names)

    def note_member(self, agent_id: str, queue: str, member: bool) -> None:
        for centre in self.centres.values():
            centre.note_member(agent_id, queue, member)

    def note_logout(self, agent_id: str) -> None:
        for centre in self.centres.values():
            centre.note_logout(agent_id)

    def note_paused(self, agent_id: str, paused: bool) -> None:
        for centre in self.centres.values():
            centre.note_paused(agent_id, paused)

    def note_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        for centre in self.centres.values():
            centre.note_skills(agent_id, skills)
