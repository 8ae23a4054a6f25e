"""The simulated contact centre: agents with scripted behaviour, and queues that act as app_queue's.

Must not import Asterisk code. Agents live in a routing `AgentPool`, so the routing
engine reads the index the simulator changes; docs/runtime.md "How the simulator
queues" lists the app_queue rules followed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from ccdsl.runtime.core.centre import Agent, AgentState, parse_state
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.core.queues import QueueConfig
from ccdsl.runtime.core.routing import AgentPool

if TYPE_CHECKING:
    from ccdsl.runtime.operations.agents_file import AgentSpec

DEFAULT_RING_MS = 15_000  # app_queue DEFAULT_TIMEOUT
DEFAULT_RETRY_MS = 5_000  # app_queue DEFAULT_RETRY
NEVER_FREE_WAIT_MS = 3_600_000  # the estimate when no member will ever be free
STRATEGIES = ("ringall", "linear", "rrmemory", "leastrecent", "fewestcalls", "random")

@dataclass
class AgentScript:
    """How a simulated agent behaves when a call comes."""

    answer_after_ms: int | None = 2_000  # None: never answers (ring-no-answer)
    talk_ms: int = 60_000
    ends: Literal["agent", "caller"] = "agent"  # who ends the conversation
    free_at: datetime | None = None  # a busy agent becomes available then
    wrapup_ms: int = 0  # busy after a conversation before taking the next call
    wrapup: dict | None = None  # what the agent enters on the flow's wrap-up form


def spec_agent(spec: AgentSpec, queues: tuple[str, ...] = ()) -> tuple[Agent, AgentScript]:
    """An agents file's (or a test's) agent as the simulated centre has it."""
    return (Agent(id=spec.id, name=spec.name or spec.id, extension=spec.extension,
                  skills=dict(spec.skills), state=parse_state(spec.state), queues=queues),
            AgentScript(answer_after_ms=spec.answer_after_ms, wrapup=spec.wrapup))


@dataclass(frozen=True)
class Waiter:
    call_id: str
    priority: int
    joined: datetime
    seq: int
    talk_ms: int | None  # a background caller's talk time; None for a simulated call

    def order(self) -> tuple:
        return (-self.priority, self.joined, self.seq)


class SimCentre:
    """Agents and queues of a simulated centre; implements CentreView."""

    def __init__(self, agents: Iterable[tuple[Agent, AgentScript]] = (), *,
                 queues: Iterable[QueueConfig] = (), seed: int = 0, now: datetime | None = None,
                 retry_ms: int = DEFAULT_RETRY_MS, clock: Clock | None = None,
                 number_script: AgentScript | None = None) -> None:
        self.pool = AgentPool()
        self.scripts: dict[str, AgentScript] = {}
        self._decl: dict[str, int] = {}  # agent id -> declaration order (member order)
        self.queues = {q.name: q for q in queues}
        self.retry_ms = retry_ms
        self._seed = seed
        self._rng: random.Random | None = None  # made on first use (see rng)
        # what an outside number does when dialled or transferred to
        self.number_script = number_script or AgentScript(answer_after_ms=3_000)
        self.numbers: dict[str, AgentScript] = {}
        self._waiting: dict[str, list[Waiter]] = {}
        self._skills: dict[str, dict[str, int]] = {q.name: q.skills for q in self.queues.values()}
        self._rrpos: dict[str, int] = {}
        self._paused: dict[str, set[str]] = {}  # queue -> members auto-paused in it
        # queue -> members held for an in-queue call-back (paused in it for ccf serve)
        self.held: dict[str, set[str]] = {}
        self._seq = 0
        self._now = now
        self.clock = clock  # when given, CentreView answers are as of its time
        for agent, script in agents:
            self.add_agent(agent, script)

    @property
    def rng(self) -> random.Random:
        """The seeded generator of the `random` strategy. Made when first
        used: seeding one costs more than the rest of a small centre's
        set-up, and most simulated calls never pick at random."""
        if self._rng is None:
            self._rng = random.Random(self._seed)
        return self._rng

    # -- set-up ------------------------------------------------------------

    def add_agent(self, agent: Agent, script: AgentScript | None = None) -> Agent:
        self._decl.setdefault(agent.id, len(self._decl))
        self.scripts[agent.id] = script or AgentScript()
        return self.pool.upsert(agent)

    def add_caller(self, queue: str, call_id: str, *, priority: int = 0, joined: datetime,
                   talk_ms: int = 60_000) -> None:
        """A background caller in a queue (not simulated call by call): it
        takes a member when its turn comes and keeps it for talk_ms."""
        self._add_waiter(queue, call_id, priority, joined, talk_ms)

    # -- CentreView ----------------------------------------------------------

    def agent(self, agent_id: str) -> Agent | None:
        return self.pool.get(agent_id)

    def agents(self) -> list[Agent]:
        return self.pool.agents()

    def queue_waiting(self, queue: str) -> int:
        return len(self._present(queue, self._view_time()))

    def queue_expected_wait_ms(self, queue: str) -> int:
        """When the next member is free for a caller joining now: members
        free up in turn (available now, busy until their free time), each
        taking the callers ahead for their talk time."""
        now = self._view_time()
        if now is None:
            return 0
        free: list[datetime] = []
        for agent in self.members(self._skills.get(queue, {})):
            script = self.scripts[agent.id]
            if agent.state == AgentState.AVAILABLE:
                free.append(now)
            elif agent.state == AgentState.BUSY and script.free_at is not None:
                free.append(max(script.free_at, now))
        if not free:
            return NEVER_FREE_WAIT_MS
        for waiter in self._present(queue, now):
            free.sort()
            free[0] += timedelta(milliseconds=waiter.talk_ms or 0)
        return int((min(free) - now).total_seconds() * 1000)

    # -- time ----------------------------------------------------------------

    def _view_time(self) -> datetime | None:
        if self.clock is not None:
            self.settle(self.clock.now())
        return self._now

    def settle(self, now: datetime) -> None:
        """Let the centre live until now: busy agents whose time has come
        become available, background callers ahead in the queues take
        free members, in time order."""
        while (t := self.next_change(self._now or now)) is not None and t <= now:
            self._now = t
            self._free_agents(t)
            self._serve(t)
        self._now = now
        self._free_agents(now)
        self._serve(now)

    def next_change(self, after: datetime) -> datetime | None:
        """The next time the centre changes by itself, after `after`."""
        times = [s.free_at for s in self.scripts.values() if s.free_at is not None]
        times += [w.joined for ws in self._waiting.values() for w in ws if w.joined > after]
        return min(times) if times else None

    def _free_agents(self, now: datetime) -> None:
        for agent_id, script in self.scripts.items():
            if script.free_at is not None and script.free_at <= now:
                at, script.free_at = script.free_at, None
                if self.pool.get(agent_id).state == AgentState.BUSY:
                    self.pool.set_state(agent_id, AgentState.AVAILABLE, at)

    def _serve(self, now: datetime) -> None:
        for queue in list(self._waiting):
            for waiter in self._present(queue, now):
                if waiter.talk_ms is None:
                    break  # a simulated call's turn: its channel rings members
                free = self.available(queue, self._skills.get(queue, {}))
                if not free:
                    break
                agent = self.pick(queue, "leastrecent", free)[0]
                self.leave(queue, waiter.call_id)
                self.connect(agent.id)
                self.release(agent.id, now + timedelta(milliseconds=waiter.talk_ms))

    # -- queues ----------------------------------------------------------------

    def members(self, skills: dict[str, int]) -> list[Agent]:
        """Logged-in agents with the skills, in member (declaration) order."""
        found = [a for a in self.pool.agents()
                 if a.state != AgentState.LOGGED_OFF and a.has_skills(skills)]
        return sorted(found, key=lambda a: self._decl[a.id])

    def is_empty(self, skills: dict[str, int]) -> bool:
        return not self.members(skills)

    def join(self, queue: str, call_id: str, priority: int, now: datetime,
             skills: dict[str, int]) -> int:
        """Put a simulated call in the queue; its position, 1 = first."""
        self._skills.setdefault(queue, skills)
        self._add_waiter(queue, call_id, priority, now, None)
        return self.position(queue, call_id, now)

    def position(self, queue: str, call_id: str, now: datetime) -> int:
        for i, waiter in enumerate(self._present(queue, now), start=1):
            if waiter.call_id == call_id:
                return i
        return 0

    def leave(self, queue: str, call_id: str) -> None:
        self._waiting[queue] = [w for w in self._waiting.get(queue, []) if w.call_id != call_id]

    def pick(self, queue: str, strategy: str, available: list[Agent], *,
             linpos: int = 0) -> list[Agent]:
        """Whom to ring now among the available members (member order):
        everyone for ringall, else the one best member. As app_queue, nothing
        remembers a member who rang out: leastrecent, fewestcalls and random
        may pick it again (its last call and call count did not change)."""
        if not available:
            return []
        if strategy == "ringall":
            return list(available)
        if strategy in ("linear", "rrmemory"):
            start = linpos if strategy == "linear" else self._rrpos.get(queue, 0)
            after = [a for a in available if self._decl[a.id] >= start]
            best = (after or available)[0]
            if strategy == "rrmemory":
                self._rrpos[queue] = self._decl[best.id] + 1
            return [best]
        if strategy == "leastrecent":
            # never idle (no call yet) counts as the oldest last call
            return [min(available, key=lambda a: (a.idle_since is not None,
                                                  a.idle_since.timestamp() if a.idle_since else 0,
                                                  self._decl[a.id]))]
        if strategy == "fewestcalls":
            return [min(available, key=lambda a: (a.calls_taken, self._decl[a.id]))]
        if strategy == "random":
            return [available[self.rng.randrange(len(available))]]
        raise ValueError(f"unknown queue strategy {strategy!r}; one of {', '.join(STRATEGIES)}")

    def pause(self, queue: str, agent_id: str, everywhere: bool) -> None:
        """app_queue's autopause after a ring-no-answer: the member is paused in
        this queue (autopause = yes) or in every queue (all: the agent is paused)."""
        if everywhere:
            self.pool.update(agent_id, state=AgentState.PAUSED)
        else:
            self._paused.setdefault(queue, set()).add(agent_id)

    def unpause(self, agent_id: str) -> None:
        """QueuePause with Paused: false and no queue: unpaused everywhere."""
        for members in self._paused.values():
            members.discard(agent_id)
        if self.pool.get(agent_id).state == AgentState.PAUSED:
            self.pool.update(agent_id, state=AgentState.AVAILABLE)

    def is_paused(self, queue: str, agent_id: str) -> bool:
        return agent_id in self._paused.get(queue, ()) \
            or self.pool.get(agent_id).state == AgentState.PAUSED

    def available(self, queue: str, skills: dict[str, int]) -> list[Agent]:
        """The members a queue may ring now: available, not paused in it."""
        paused = self._paused.get(queue, set()) | self.held.get(queue, set())
        return [a for a in self.members(skills)
                if a.state == AgentState.AVAILABLE and a.id not in paused]

    def member_index(self, agent_id: str) -> int:
        return self._decl[agent_id]

    # -- agents on a call -------------------------------------------------------

    def offer(self, agent_ids: Iterable[str]) -> None:
        for agent_id in agent_ids:
            self.pool.update(agent_id, state=AgentState.RINGING)

    def ring_out(self, agent_ids: Iterable[str]) -> None:
        """The ring ended unanswered: back to available, idle time kept."""
        for agent_id in agent_ids:
            if self.pool.get(agent_id).state == AgentState.RINGING:
                self.pool.update(agent_id, state=AgentState.AVAILABLE)

    def connect(self, agent_id: str) -> None:
        agent = self.pool.get(agent_id)
        self.pool.update(agent_id, state=AgentState.BUSY, calls_taken=agent.calls_taken + 1)

    def release(self, agent_id: str, at: datetime) -> None:
        """The conversation ended at `at`: available after wrap-up."""
        script = self.scripts[agent_id]
        script.free_at = at + timedelta(milliseconds=script.wrapup_ms)
        if script.free_at <= (self._now or at):
            self._free_agents(script.free_at)

    def number(self, number: str) -> AgentScript:
        return self.numbers.get(number, self.number_script)

    # -- inside ---------------------------------------------------------------

    def _add_waiter(self, queue: str, call_id: str, priority: int, joined: datetime,
                    talk_ms: int | None) -> None:
        self._seq += 1
        self._waiting.setdefault(queue, []).append(
            Waiter(call_id, priority, joined, self._seq, talk_ms))

    def _present(self, queue: str, now: datetime | None) -> list[Waiter]:
        waiters = self._waiting.get(queue, [])
        if now is not None:
            waiters = [w for w in waiters if w.joined <= now]
        return sorted(waiters, key=Waiter.order)
