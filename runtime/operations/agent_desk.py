"""The agents' states as the console sees them, owned by the server (docs/console.md).

logged_out -> ready <-> paused (reason); ready -> ringing -> on_call -> wrapup -> ready.
Log-in, log-out and pauses come from people (the console); ringing, talking and wrap-up
from the calls' events, so the simulator and Asterisk move an agent the same way. Every
change is a `centre_events` row (`agent_state`) for reports and a change on the live feed.
Must not talk to a phone system itself: a CentreControl does that.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.centre_control import CentreControl, ControlError
from ccdsl.runtime.operations.live_feed import LiveFeed

log = logging.getLogger("ccdsl.console")

STATES = ("logged_out", "ready", "paused", "ringing", "on_call", "wrapup")
WRAPUP_REASON = "wrap-up"  # the queue pause while an agent fills a call's wrap-up form
NO_ANSWER_REASON = "no answer"  # app_queue's Auto-Pause of a member who let a call ring out
DEFAULT_REASONS = ("break", "lunch", "meeting", "training", "coaching")
MAX_UNSAVED = 50  # wrap-up forms an agent may leave unsaved before the oldest is forgotten
GONE_KEPT = 10_000  # the calls whose form was saved here, remembered (sync_wrapups)


@dataclass(frozen=True)
class AgentStatus:
    agent: str
    state: str
    since: datetime
    reason: str | None = None  # a pause's reason
    call_id: str | None = None  # the call it rings with, talks on or wraps up
    held_since: datetime | None = None  # when the hold began (None: not held): the pages time it
    # who holds the caller, each on its own: "console" (the desk's Hold, which its Resume
    # ends) and "phone" (the agent's own phone, which alone can end its hold; which channel
    # holds is ccf serve's AMI side's record, ami_holds.py). Held while either holds.
    holders: tuple[str, ...] = ()
    # the calls whose wrap-up form waits to be saved, oldest first: kept whatever the agent
    # does meanwhile (ready, pause, leave the queues, the next call) until it is saved
    wrapups: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "state": self.state, "since": self.since.isoformat(),
                "reason": self.reason, "call_id": self.call_id, "held": self.held,
                "held_since": self.held_since.isoformat() if self.held_since else None,
                "held_by": list(self.holders), "wrapups": list(self.wrapups)}

    @property
    def held(self) -> bool:
        """The caller is on hold (on_call only)."""
        return self.held_since is not None

    def seconds(self, now: datetime) -> int:
        """How long the agent has been in this state at `now` (the wallboard and the
        agents page both say this)."""
        return _seconds(now, self.since)

    def held_seconds(self, now: datetime) -> int | None:
        """How long the caller has been on hold at `now`, or None when not held."""
        return None if self.held_since is None else _seconds(now, self.held_since)


def _seconds(now: datetime, since: datetime) -> int:
    return round(max((now - since).total_seconds(), 0.0))


class AgentDesk:
    """The states (module doc). An EventSink for the calls' events.

    initial: agent id -> its state at start ("logged_out" or "ready": the
      agents file's `offline` agents start logged out).
    record: (kind, data, call_id) -> None, writes a `centre_events` row.
    now: the clock's now.
    autopaused: whether a ring-out in the queue (a flow's queue name) pauses
      the member (its `autopause`): the desk then shows the agent paused, as
      the queue has them, until they go ready.
    """

    def __init__(self, initial: Mapping[str, str], *, control: CentreControl,
                 feed: LiveFeed, record: Callable[[str, dict, str | None], None],
                 now: Callable[[], datetime], reasons: Iterable[str] = DEFAULT_REASONS,
                 autopaused: Callable[[str], bool] = lambda queue: False) -> None:
        self.control = control
        self.feed = feed
        self.record = record
        self.now = now
        self.reasons = tuple(reasons)
        self.autopaused = autopaused
        started = now()
        self._status = {agent: AgentStatus(agent, state, started)
                        for agent, state in initial.items()}
        self._tasks: set[asyncio.Task] = set()
        self._gone: OrderedDict[str, None] = OrderedDict()  # calls whose form was saved here
        # (agent, call) whose form was saved while they still talked: done when the talk ends
        self._saved_talking: set[tuple[str, str]] = set()

    # -- reading ---------------------------------------------------------------------

    def status(self, agent: str) -> AgentStatus:
        try:
            return self._status[agent]
        except KeyError:
            raise ControlError(f"no agent {agent!r} in the agents file", 404) from None

    def all(self) -> list[AgentStatus]:
        return [self._status[a] for a in sorted(self._status)]

    def logged_in(self, agent: str) -> bool:
        return self.status(agent).state != "logged_out"

    def why_not_leave(self, agent: str) -> str | None:
        """Why the agent may not log out of the console now (a call rings, is
        talked on, or its wrap-up is not saved), said with what to do; None
        when they may."""
        now = self.status(agent)
        if now.state == "ringing":
            return ("a call is ringing on your desk: answer it, or let it ring out, "
                    "then log out")
        if now.state == "on_call":
            return "you are on a call: finish the call first, then log out"
        if now.wrapups:
            return (f"the wrap-up of call {now.wrapups[0]} is not saved: save the wrap-up "
                    f"of call {now.wrapups[0]} first, then log out")
        return None

    # -- people's changes ------------------------------------------------------------

    async def login(self, agent: str) -> AgentStatus:
        if self.status(agent).state != "logged_out":
            return self.status(agent)
        await self.control.agent_login(agent)
        return self._set(agent, "ready")

    async def logout(self, agent: str) -> AgentStatus:
        now = self.status(agent)
        if now.state == "logged_out":
            return now
        if now.state in ("ringing", "on_call"):
            raise ControlError(f"agent {agent} is {_words(now.state)}: log out after the call")
        await self.control.agent_logout(agent)
        return self._set(agent, "logged_out")

    async def pause(self, agent: str, reason: str) -> AgentStatus:
        if reason not in self.reasons:
            raise ControlError(f"{reason!r} is not a pause reason; one of "
                               f"{', '.join(self.reasons)}", 400)
        now = self.status(agent)
        if now.state not in ("ready", "paused", "wrapup"):
            raise ControlError(f"agent {agent} is {_words(now.state)}: cannot pause now")
        await self.control.agent_pause(agent, True, reason)
        return self._set(agent, "paused", reason=reason)

    async def ready(self, agent: str) -> AgentStatus:
        now = self.status(agent)
        if now.state == "ready":
            return now
        if now.state not in ("paused", "wrapup"):
            raise ControlError(f"agent {agent} is {_words(now.state)}: cannot go ready now")
        await self.control.agent_pause(agent, False, None)
        return self._set(agent, "ready")

    async def hold(self, agent: str, call_id: str, on: bool) -> AgentStatus:
        """Put the agent's caller on the console's hold or take them off it (the control
        does it); the desk remembers, so a page opened again shows it. The console's hold
        is its own beside the phone's: Resume ends the console's only, and Hold while the
        phone holds adds the console's (so its Resume is the console's again)."""
        now = self.status(agent)
        if now.state != "on_call" or now.call_id != call_id:
            raise ControlError(f"call {call_id} is not the call agent {agent} is talking on")
        if ("console" in now.holders) == on:
            if not on and "phone" in now.holders:
                raise ControlError(f"agent {agent}'s own phone holds call {call_id}: take "
                                   "the call off hold on the phone")
            return now
        await self.control.hold(call_id, on)
        return self._held(agent, call_id, on, "console")

    def phone_hold(self, agent: str, on: bool) -> None:
        """The agent's own phone held its caller or took them off hold (Asterisk's Hold /
        Unhold on the agent's channel): the phone's hold beside the console's, nothing sent
        to the phone system. Which call the phone holds is derived: the one the agent talks
        on; the AMI side keeps which channel holds and tells this of every change."""
        now = self._status.get(agent)
        if now is None or now.state != "on_call" or now.call_id is None \
                or ("phone" in now.holders) == on:
            return
        self._held(agent, now.call_id, on, "phone")

    def _held(self, agent: str, call_id: str, on: bool, by: str) -> AgentStatus:
        """`by` holds or no longer holds: one `call_hold` row when the caller goes on hold
        or comes off it (so its rows pair up), every change on the live feed."""
        before = self._status[agent]
        holders = tuple(h for h in ("console", "phone")
                        if (h == by and on) or (h != by and h in before.holders))
        since = (before.held_since or self.now()) if holders else None
        after = replace(before, held_since=since, holders=holders)
        self._status[agent] = after
        if bool(holders) != bool(before.holders):
            how = {"by": "phone"} if by == "phone" else {}
            self.record("call_hold", {"agent": agent, "on": on, **how}, call_id)
        self.feed.publish("agent", after.to_json(), agent=agent)
        return after

    async def wrapped_up(self, agent: str, call_id: str) -> None:
        """The agent saved the call's wrap-up: its form no longer waits, and
        the agent is ready again if it was wrapping that call up: one change.
        ControlError when the phone system keeps the agent paused (the form
        no longer waits even so)."""
        now = self._status.get(agent)
        if now is None:
            return
        self._forgotten(call_id)
        if now.state == "on_call" and now.call_id == call_id:
            self._saved_talking.add((agent, call_id))  # cleared when the talk ends
        if now.state == "wrapup" and now.call_id == call_id:
            try:
                await self.control.agent_pause(agent, False, None)
            except ControlError:
                self.forget_wrapup(agent, call_id)
                raise
            after = self._status[agent]
            # nothing moved the agent meanwhile (it may have taken and ended another call)
            if after.state == "wrapup" and after.call_id == call_id:
                self._set(agent, "ready", saved=call_id)
                return
        self.forget_wrapup(agent, call_id)

    def forget_wrapup(self, agent: str, call_id: str) -> None:
        """The call's form no longer waits (saved, or the call ended with none
        stored), so it no longer keeps the agent from logging out."""
        self._forgotten(call_id)
        now = self._status.get(agent)
        if now is not None and call_id in now.wrapups:
            self._status[agent] = now = replace(
                now, wrapups=tuple(c for c in now.wrapups if c != call_id))
            self.feed.publish("agent", now.to_json(), agent=agent)

    def wrapup_unsaved(self, agent: str | None, call_id: str) -> None:
        """A form taken as saved was not stored after all (wrapup.WrapupDesk gave up on a
        busy store): it waits on the agent's desk again, newest, to be saved again."""
        now = self._status.get(agent) if agent else None
        if now is None:
            return
        self._gone.pop(call_id, None)
        self._saved_talking.discard((agent, call_id))
        waiting = tuple(c for c in now.wrapups if c != call_id) + (call_id,)
        self._status[agent] = now = replace(now, wrapups=waiting[-MAX_UNSAVED:])
        self.feed.publish("agent", now.to_json(), agent=agent)

    def _forgotten(self, call_id: str) -> None:
        """A store read begun before the form was saved must not bring it back."""
        self._gone[call_id] = None
        while len(self._gone) > GONE_KEPT:
            self._gone.popitem(last=False)

    def looked_up(self, agent: str) -> tuple[str, ...]:
        """The calls whose forms the desk asks the store about (store_wrapups.waiting's
        `known`): the agent's waiting ones and the call the agent is wrapping up, which
        the waiting list may have let go (past MAX_UNSAVED) while the agent is still
        paused for it."""
        now = self.status(agent)
        wrapping = (now.call_id,) if now.state == "wrapup" and now.call_id else ()
        return tuple(dict.fromkeys(now.wrapups + wrapping))

    def saved_elsewhere(self, agent: str, done: Collection[str]) -> str | None:
        """The call the agent is wrapping up, when the store says its form no longer waits
        (`done`, read for looked_up's calls, so whatever the waiting list holds) and no save
        through this desk took it (another worker's, `ccf wrapup`): wrapped_up then moves
        the agent as this desk's own save does. None otherwise."""
        now = self._status.get(agent)
        if now is None or now.state != "wrapup" or now.call_id is None:
            return None
        return now.call_id if now.call_id in done and now.call_id not in self._gone else None

    def sync_wrapups(self, agent: str, unsaved: Sequence[str],
                     done: Collection[str] = ()) -> AgentStatus:
        """The agent's waiting forms as the call store has them (store_wrapups.waiting),
        which every worker shares and a restart keeps: `unsaved` (oldest first), then the
        forms this desk holds that the store has not written yet; none the store says no
        longer waits (`done`: saved on another worker, say). The agent's state is left as it
        is: forms waiting after a restart wait as they do after Ready."""
        now = self.status(agent)

        def waits(call_id: str) -> bool:
            return call_id not in done and call_id not in self._gone

        stored = tuple(c for c in dict.fromkeys(unsaved) if waits(c))
        kept = (stored + tuple(c for c in now.wrapups if c not in stored and waits(c))
                )[-MAX_UNSAVED:]
        if kept != now.wrapups:
            self._status[agent] = now = replace(now, wrapups=kept)
            self.feed.publish("agent", now.to_json(), agent=agent)
        return now

    # -- the calls' events -----------------------------------------------------------

    def emit(self, event: Event) -> None:
        kind, data = event.kind, event.data
        agent = data.get("agent")
        if not isinstance(agent, str) or agent not in self._status:
            if kind == "call_ended":
                self._call_gone(event.call_id)
            return
        now = self._status[agent]
        if kind == "agent_offered" and now.state == "ready":
            self._set(agent, "ringing", call_id=event.call_id)
        elif kind == "agent_no_answer" and now.state == "ringing" \
                and now.call_id == event.call_id:
            if data.get("via") == "queue" and self.autopaused(str(data.get("queue") or "")):
                self._set(agent, "paused", reason=NO_ANSWER_REASON)
            else:
                self._set(agent, "ready")
        elif kind == "agent_answered" and now.state in ("ready", "ringing"):
            self._set(agent, "on_call", call_id=event.call_id)
        elif kind == "conversation_ended" and now.call_id == event.call_id \
                and now.state == "on_call":
            self._after_talk(agent, event.call_id, bool(data.get("wrapup")))

    def _after_talk(self, agent: str, call_id: str, form: bool) -> None:
        saved = (agent, call_id) in self._saved_talking
        self._saved_talking.discard((agent, call_id))
        if not form or saved:  # no form, or the agent saved it while talking
            self._set(agent, "ready")
            return
        self._gone.pop(call_id, None)
        waiting = tuple(c for c in self._status[agent].wrapups if c != call_id) + (call_id,)
        if len(waiting) > MAX_UNSAVED:
            log.warning("agent %s left %d wrap-up forms unsaved: the oldest (call %s) is no "
                        "longer shown", agent, len(waiting), waiting[0])
        self._status[agent] = replace(self._status[agent], wrapups=waiting[-MAX_UNSAVED:])
        self._set(agent, "wrapup", call_id=call_id)
        # no call is offered while the form is open
        self._spawn(self._pause_for_wrapup(agent, call_id))

    async def _pause_for_wrapup(self, agent: str, call_id: str) -> None:
        try:
            await self.control.agent_pause(agent, True, WRAPUP_REASON)
        except ControlError as exc:
            log.warning("agent %s not paused for the wrap-up of call %s: %s", agent,
                        call_id, exc)

    def _call_gone(self, call_id: str) -> None:
        """A call ended: an agent it was ringing is ready again."""
        if self._saved_talking:  # a talk that never said its end leaves no mark behind
            self._saved_talking = {k for k in self._saved_talking if k[1] != call_id}
        for status in list(self._status.values()):
            if status.call_id == call_id and status.state == "ringing":
                self._set(status.agent, "ready")

    # -- one change ------------------------------------------------------------------

    def _set(self, agent: str, state: str, *, reason: str | None = None,
             call_id: str | None = None, saved: str | None = None) -> AgentStatus:
        """`saved`: a call whose form no longer waits, in the same change."""
        before = self._status[agent]
        keep_call = call_id or (before.call_id if state == "wrapup" else None)
        after = replace(before, state=state, since=self.now(), reason=reason, call_id=keep_call,
                        held_since=None, holders=(),
                        wrapups=tuple(c for c in before.wrapups if c != saved))
        self._status[agent] = after
        seconds = max((after.since - before.since).total_seconds(), 0.0)
        self.record("agent_state", {"agent": agent, "state": state, "reason": reason,
                                    "from": before.state, "from_reason": before.reason,
                                    "seconds_in_previous": round(seconds, 3)}, keep_call)
        self.feed.publish("agent", after.to_json(), agent=agent)
        return after

    def _spawn(self, coro) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop: a synchronous test feeding events
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _words(state: str) -> str:
    return {"on_call": "on a call", "wrapup": "wrapping up a call",
            "logged_out": "logged out"}.get(state, state)
