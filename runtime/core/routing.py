"""The routing engine: the centre's agents indexed (AgentPool), a rule line turned into a Decision.

Never evaluates an expression or calls out: the interpreter hands it evaluated lines
(docs/runtime.md "The routing engine").
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ccdsl.runtime.core.centre import Agent, AgentState

# Skill levels run 1..10 (runtime.core.centre); a minimum of 0 means "has the
# skill at any level". Per-threshold sets are kept up to this level; a
# higher minimum is checked against the agent's own levels.
MAX_LEVEL = 10

RuleKind = Literal["owner", "last_agent", "agent", "skills", "queue"]
Action = Literal["dial", "enqueue", "skip"]

_STATE_WORDS = {
    AgentState.AVAILABLE: "available",
    AgentState.BUSY: "busy",
    AgentState.RINGING: "ringing on another call",
    AgentState.PAUSED: "paused",
    AgentState.LOGGED_OFF: "logged off",
}

_KIND_WORDS = {"owner": "owner", "last_agent": "last agent", "agent": "agent"}

_NO_TARGET = {
    "owner": "no account owner (unknown customer, or the CRM gave none)",
    "last_agent": "the caller has no last agent",
    "agent": "the agent name is null",
    "skills": "no skills given",
    "queue": "no queue given",
}


def _order_key(agent: Agent) -> tuple[float, str]:
    """Longest idle first, then by id. Never idle counts as idle forever."""
    since = agent.idle_since
    return (since.timestamp() if since is not None else float("-inf"), agent.id)


def _threshold(level: int) -> int:
    return min(max(level, 0), MAX_LEVEL)


def format_skills(skills: Mapping[str, int]) -> str:
    """`tech>=3, general`: a minimum of 0 reads as the bare skill name.
    Keeps the order the flow wrote them in."""
    return ", ".join(f"{s}>={lv}" if lv > 0 else s for s, lv in skills.items())


class AgentPool:
    """The centre's agents, indexed for routing.

    Change agents through the pool's methods only (`upsert`, `update`,
    `remove`): the pool keeps copies, and `get` returns the pool's copy,
    which callers must treat as read-only.

    Index: for each (skill, minimum level 0..MAX_LEVEL) the set of
    *available* agent ids with that skill at that level or above, the same
    per queue, and one list of all available agents sorted by
    (idle_since, id). A request intersects the sets of its skills (in C,
    smallest first), then takes the first agent of the intersection in
    idle order: by `min` when the intersection is small, by walking the
    sorted list when it is large (then a match comes within a few steps).

    The index is built on the first request that needs it, and kept up to
    date from then on: a simulated centre made for one call whose flow
    never routes by skills (most simulated calls) never pays for it.
    """

    # below this many candidates `min` over them beats walking the list
    _SMALL = 256

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._indexed = False  # see _ensure_index
        self._agents: dict[str, Agent] = {}
        self._keys: dict[str, tuple[float, str]] = {}  # of available agents
        self._order: list[tuple[float, str]] = []  # available agents, longest idle first
        self._by_skill: dict[tuple[str, int], set[str]] = {}
        self._by_queue: dict[str, set[str]] = {}
        for agent in agents:
            self.upsert(agent)

    # -- reading ---------------------------------------------------------

    def get(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    agent = get  # the CentreView spelling

    def agents(self) -> list[Agent]:
        """Every agent, by id."""
        return [self._agents[k] for k in sorted(self._agents)]

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def __iter__(self) -> Iterator[Agent]:
        return iter(self.agents())

    def available_count(self) -> int:
        self._ensure_index()
        return len(self._order)

    def best_available(self, skills: Mapping[str, int] | None = None,
                       exclude: Collection[str] = (), *,
                       queue: str | None = None) -> Agent | None:
        """The available agent with every skill at its minimum level (and
        a member of `queue` when given), not in `exclude`: the longest
        idle, ties by id. None when there is no such agent."""
        self._ensure_index()
        constraints: list[set[str]] = []
        high: dict[str, int] = {}  # minimums above MAX_LEVEL, checked one by one
        for skill, level in (skills or {}).items():
            members = self._by_skill.get((skill, _threshold(level)))
            if not members:
                return None
            constraints.append(members)
            if level > MAX_LEVEL:
                high[skill] = level
        if queue is not None:
            members = self._by_queue.get(queue)
            if not members:
                return None
            constraints.append(members)
        if not constraints:
            return self._first_in_order(None, exclude, high)
        constraints.sort(key=len)
        candidates = constraints[0].intersection(*constraints[1:])
        if len(candidates) <= self._SMALL:
            if exclude or high:
                candidates = {a for a in candidates
                              if a not in exclude and self._has_high(a, high)}
            if not candidates:
                return None
            return self._agents[min(candidates, key=self._keys.__getitem__)]
        return self._first_in_order(candidates, exclude, high)

    def _first_in_order(self, candidates: set[str] | None, exclude: Collection[str],
                        high: Mapping[str, int]) -> Agent | None:
        for _, agent_id in self._order:
            if candidates is not None and agent_id not in candidates:
                continue
            if agent_id in exclude or not self._has_high(agent_id, high):
                continue
            return self._agents[agent_id]
        return None

    def _has_high(self, agent_id: str, high: Mapping[str, int]) -> bool:
        return not high or self._agents[agent_id].has_skills(high)

    # -- changing --------------------------------------------------------

    def upsert(self, agent: Agent) -> Agent:
        """Add an agent, or replace the one with the same id. Returns the
        pool's copy."""
        self.remove(agent.id)
        # a field-for-field copy with its own skills and queues: what
        # dataclasses.replace made, without re-running __init__ per agent
        copy = object.__new__(type(agent))
        copy.__dict__.update(agent.__dict__, skills=dict(agent.skills),
                             queues=tuple(agent.queues))
        self._agents[copy.id] = copy
        if self._indexed and copy.state == AgentState.AVAILABLE:
            self._index(copy)
        return copy

    def update(self, agent_id: str, *, state: AgentState | None = None,
               idle_since: datetime | None = None, skills: Mapping[str, int] | None = None,
               queues: Iterable[str] | None = None,
               calls_taken: int | None = None) -> Agent:
        """Change some of an agent's fields (None: unchanged). An agent who
        becomes available should come with the time as `idle_since`, so the
        longest-idle order stays right. KeyError for an unknown agent."""
        agent = self._agents[agent_id]
        self._unindex(agent)
        if state is not None:
            agent.state = AgentState(state)
        if idle_since is not None:
            agent.idle_since = idle_since
        if skills is not None:
            agent.skills = dict(skills)
        if queues is not None:
            agent.queues = tuple(queues)
        if calls_taken is not None:
            agent.calls_taken = calls_taken
        if self._indexed and agent.state == AgentState.AVAILABLE:
            self._index(agent)
        return agent

    def set_state(self, agent_id: str, state: AgentState,
                  at: datetime | None = None) -> Agent:
        """Move an agent to a state; `at` becomes idle_since when the new
        state is available."""
        idle = at if AgentState(state) == AgentState.AVAILABLE else None
        return self.update(agent_id, state=state, idle_since=idle)

    def remove(self, agent_id: str) -> None:
        agent = self._agents.pop(agent_id, None)
        if agent is not None:
            self._unindex(agent)

    def _ensure_index(self) -> None:
        """Index the available agents, once: from then on every change
        keeps the index up to date (before, _unindex finds nothing to do)."""
        if self._indexed:
            return
        self._indexed = True
        for agent in self._agents.values():
            if agent.state == AgentState.AVAILABLE:
                self._index(agent)

    def _index(self, agent: Agent) -> None:
        agent_id = agent.id
        key = _order_key(agent)
        self._keys[agent_id] = key
        insort(self._order, key)
        by_skill = self._by_skill
        for skill, level in agent.skills.items():
            for t in range(_threshold(level) + 1):
                # get, not setdefault: setdefault makes an empty set every time
                members = by_skill.get((skill, t))
                if members is None:
                    by_skill[(skill, t)] = {agent_id}
                else:
                    members.add(agent_id)
        for q in agent.queues:
            members = self._by_queue.get(q)
            if members is None:
                self._by_queue[q] = {agent_id}
            else:
                members.add(agent_id)

    def _unindex(self, agent: Agent) -> None:
        key = self._keys.pop(agent.id, None)
        if key is None:
            return  # was not available, so not indexed
        i = bisect_left(self._order, key)
        del self._order[i]
        for skill, level in agent.skills.items():
            for t in range(_threshold(level) + 1):
                self._by_skill[(skill, t)].discard(agent.id)
        for q in agent.queues:
            self._by_queue[q].discard(agent.id)


@dataclass(frozen=True)
class RuleLine:
    """One line of a routing rule, already evaluated by the interpreter.

    target: for owner, last_agent and agent the agent id (None when the
    expression gave null: an unknown customer has no owner); for queue the
    queue's qualified name; unused for skills.
    skills: skill -> minimum level (0: any level); the line's skills for
    `skills`, the override for `queue` (empty: as the queue declares).
    """

    kind: RuleKind
    target: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    ring_ms: int | None = None
    priority: int = 0
    max_wait_ms: int | None = None
    applies: bool = True  # the line's `when` held (True when it has none)
    index: int = 0  # position in the rule, for the trace


@dataclass(frozen=True)
class Decision:
    """What to do with one rule line, and why (goes into the trace as the
    `routing_decision` event's `outcome` and `reason`)."""

    action: Action
    reason: str
    agent: str | None = None  # for dial
    extension: str | None = None  # the agent's extension, for dial
    queue: str | None = None  # for enqueue
    ring_ms: int | None = None
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    max_wait_ms: int | None = None

    def to_json(self) -> dict:
        return {"action": self.action, "reason": self.reason, "agent": self.agent,
                "queue": self.queue, "ring_ms": self.ring_ms, "priority": self.priority,
                "skills": dict(self.skills), "max_wait_ms": self.max_wait_ms}


def decide(line: RuleLine, pool: AgentPool, *, exclude: Collection[str] = (),
           waiting: Callable[[str], int] | None = None) -> Decision:
    """Turn one evaluated rule line into a decision.

    exclude: agents already rung in this route (they did not answer).
    waiting: calls waiting in a queue now, for the reason of a queue line
    (the simulator's or AMI's count); None leaves the count out.
    """
    if not line.applies:
        return Decision("skip", f"{_label(line)}: its `when` condition is false")
    if line.kind in _KIND_WORDS:
        return _decide_agent(line, pool, exclude)
    if line.kind == "skills":
        return _decide_skills(line, pool, exclude)
    if line.kind == "queue":
        return _decide_queue(line, waiting)
    raise ValueError(f"unknown routing rule kind {line.kind!r}")


def _label(line: RuleLine) -> str:
    if line.kind == "skills":
        return f"skills {format_skills(line.skills)}" if line.skills else "skills"
    if line.kind == "queue":
        return f"queue {line.target}" if line.target else "queue"
    word = _KIND_WORDS[line.kind]
    return f"{word} {line.target}" if line.target else word


def _decide_agent(line: RuleLine, pool: AgentPool, exclude: Collection[str]) -> Decision:
    word = _KIND_WORDS[line.kind]
    if not line.target:
        return Decision("skip", _NO_TARGET[line.kind])
    label = f"{word} {line.target}"
    agent = pool.get(line.target)
    if agent is None:
        return Decision("skip", f"{label} is not a known agent")
    if agent.id in exclude:
        return Decision("skip", f"{label} was already rung on this call")
    if agent.state != AgentState.AVAILABLE:
        return Decision("skip", f"{label} is {_STATE_WORDS[agent.state]}")
    return Decision("dial", f"{label} is available", agent=agent.id,
                    extension=agent.extension or None, ring_ms=line.ring_ms)


def _decide_skills(line: RuleLine, pool: AgentPool, exclude: Collection[str]) -> Decision:
    wanted = f" with {format_skills(line.skills)}" if line.skills else ""
    agent = pool.best_available(line.skills, exclude)
    if agent is None:
        return Decision("skip", f"no available agent{wanted}", skills=line.skills)
    return Decision("dial", f"{agent.id} is the longest idle available agent{wanted}",
                    agent=agent.id, extension=agent.extension or None, ring_ms=line.ring_ms,
                    skills=line.skills)


def _decide_queue(line: RuleLine, waiting: Callable[[str], int] | None) -> Decision:
    if not line.target:
        return Decision("skip", _NO_TARGET["queue"])
    parts = [f"queue {line.target}"]
    if line.skills:
        parts[0] += f" ({format_skills(line.skills)})"
    details = []
    if waiting is not None:
        details.append(f"{waiting(line.target)} waiting")
    if line.priority:
        details.append(f"priority {line.priority}")
    reason = parts[0] + (": " + ", ".join(details) if details else "")
    return Decision("enqueue", reason, queue=line.target, priority=line.priority,
                    skills=line.skills, max_wait_ms=line.max_wait_ms, ring_ms=line.ring_ms)
