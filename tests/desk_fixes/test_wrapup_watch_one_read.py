"""The wrap-up watch reads the call store once a round, however many agents wrap a call up
(before: one read per agent, one after another), on SQLite and PostgreSQL; what each desk
then shows is what reading each agent's forms on their own shows."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from ccdsl.runtime.console import desk_wrapups
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.agent_desk import AgentDesk
from ccdsl.runtime.operations.live_feed import LiveFeed
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import claim, waiting, waiting_many
from tests.console.rig import RecordingControl
from tests.desk_fixes.test_wrapup_waiting import NOW, NOW_MS, call

AGENTS = [f"a{n:02d}" for n in range(30)]


class CountingStore:
    """The real store, its reads counted."""

    def __init__(self, store: CallStore) -> None:
        self._store = store
        self.reads = 0

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def query(self, sql: str, args=()):
        self.reads += 1
        return self._store.query(sql, args)


def floor(store: CallStore) -> None:
    """30 agents' calls: each wraps c<n> up; some have an older form, some a newer one asked
    on another worker; some forms were saved elsewhere."""
    for n, agent in enumerate(AGENTS):
        call(store, f"c{n}", agent, 5)
        if n % 3 == 0:
            call(store, f"o{n}", agent, 30)
        if n % 7 == 0:
            call(store, f"n{n}", agent, 1, ended=False)
    call(store, "stale", "a01", 13 * 60)
    call(store, "no-form", "a02", 20, asked=False)
    store.flush()
    for n, agent in enumerate(AGENTS):
        if n % 2 == 0:
            assert claim(store, f"c{n}", {"reason": "elsewhere"}, agent=agent)
        if n % 5 == 0 and n % 3 == 0:
            assert claim(store, f"o{n}", {"reason": "elsewhere"}, agent=agent)


def desk() -> AgentDesk:
    """Every agent wrapping their c<n> up; some desks hold forms of their own too."""
    made = AgentDesk({a: "ready" for a in AGENTS}, control=RecordingControl(), feed=LiveFeed(),
                     record=lambda *row: None, now=lambda: NOW)
    for n, agent in enumerate(AGENTS):
        for kind, data in (("agent_offered", {"via": "queue"}), ("agent_answered", {}),
                           ("conversation_ended", {"wrapup": True})):
            made.emit(Event(f"c{n}", 1, NOW, kind, {"agent": agent, **data}))
        if n % 3 == 0:
            made.sync_wrapups(agent, [f"o{n}", f"c{n}"])
        if n % 4 == 1:  # forms the store has not written yet, and its old ones
            made.sync_wrapups(agent, ["stale", "no-form", f"pending{n}", f"c{n}"])
    assert all(s.state == "wrapup" for s in made.all())
    return made


def shown(made: AgentDesk) -> list[tuple]:
    return [(s.agent, s.state, s.call_id, s.wrapups) for s in made.all()]


def test_one_read_a_round_and_the_same_desks(store_target) -> None:
    with CallStore(store_target) as real:
        floor(real)
        store = CountingStore(real)

        async def each_on_its_own() -> AgentDesk:
            made = desk()
            ctx = SimpleNamespace(desk=made, store=real, now=lambda: NOW)
            for agent in AGENTS:
                await desk_wrapups.refresh(ctx, agent)
            return made

        async def one_round() -> AgentDesk:
            made = desk()
            ctx = SimpleNamespace(desk=made, store=store, now=lambda: NOW)
            await desk_wrapups.look_again(ctx)
            return made

        alone = asyncio.run(each_on_its_own())
        together = asyncio.run(one_round())
        assert store.reads == 1
        assert shown(together) == shown(alone)
        # what the watch is for: a form saved elsewhere made its agent ready
        ready = {s.agent for s in together.all() if s.state == "ready"}
        assert ready == {a for n, a in enumerate(AGENTS) if n % 2 == 0}
        assert together.control.asked.count(("agent_pause", "a00", False, None)) == 1
        me = together.status("a01")
        # the store's first (the old ones gone), then the desk's own not written yet
        assert (me.state, me.wrapups) == ("wrapup", ("c1", "pending1"))
        assert together.status("a03").wrapups == ("o3", "c3")
        assert together.status("a14").wrapups == ("n14",)  # asked on another worker
        me = together.status("a15")
        assert (me.state, me.wrapups) == ("wrapup", ("c15",))

        async def nobody() -> int:
            made = AgentDesk({"x": "ready"}, control=RecordingControl(), feed=LiveFeed(),
                             record=lambda *row: None, now=lambda: NOW)
            store.reads = 0
            await desk_wrapups.look_again(SimpleNamespace(desk=made, store=store,
                                                          now=lambda: NOW))
            return store.reads

        assert asyncio.run(nobody()) == 0  # no agent wrapping up: no read at all


def test_many_agents_read_at_once_as_each_on_their_own(store_target) -> None:
    with CallStore(store_target) as store:
        floor(store)
        known = {a: [f"c{n}", f"o{n}", f"n{n}", "stale", "no-form", "unknown", f"c{n + 1}"]
                 for n, a in enumerate(AGENTS)}
        known["nobody"] = ["c1"]
        for limit in (50, 1):
            many = waiting_many(store, known, NOW_MS, limit=limit)
            assert many == {a: waiting(store, a, NOW_MS, ids, limit=limit)
                            for a, ids in known.items()}
        assert waiting_many(store, {}, NOW_MS, limit=50) == {}
