"""Which wrap-up forms wait for an agent, as the call store has them (what a restarted desk and
every worker's desk show), on SQLite and PostgreSQL: the agent's own, asked for and not
filled in, of the last 12 hours, oldest first, the newest MAX_UNSAVED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import waiting, waiting_all

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def call(store: CallStore, call_id: str, agent: str, minutes_ago: float, *,
         asked: bool = True, ended: bool = True) -> None:
    start = NOW - timedelta(minutes=minutes_ago)
    kinds = [("call_started", {"caller": "+8613800000001", "flow": "hotline"}),
             ("agent_answered", {"agent": agent, "ring_ms": 1000}),
             ("conversation_ended", {"agent": agent, "talk_ms": 30_000, "wrapup": asked})]
    if asked:
        kinds.append(("wrapup_requested", {"agent": agent, "fields": ["reason"],
                                           "form": [{"name": "reason", "type": "text"}]}))
    if ended:
        kinds.append(("call_ended", {"outcome": "hangup"}))
    for seq, (kind, data) in enumerate(kinds, 1):
        store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))


def test_the_forms_that_wait(store_target) -> None:
    with CallStore(store_target) as store:
        call(store, "new", "zhang", 5)
        call(store, "old", "zhang", 60)
        call(store, "running", "zhang", 2, ended=False)
        call(store, "saved", "zhang", 30)
        call(store, "no-form", "zhang", 20, asked=False)
        call(store, "stale", "zhang", 13 * 60)
        call(store, "hers", "li", 10)
        store.flush()
        store.set_wrapup("saved", {"reason": "order"})
        store.flush()

        assert waiting_all(store, NOW_MS, limit=50) == {"zhang": ("old", "new", "running"),
                                                         "li": ("hers",)}
        assert waiting_all(store, NOW_MS, limit=2) == {"zhang": ("new", "running"),
                                                        "li": ("hers",)}
        found = waiting(store, "zhang", NOW_MS, ["saved", "no-form", "stale", "new", "unknown"],
                        limit=50)
        assert found.unsaved == ("old", "new", "running")
        # saved, ended with no form, older than the window; a call not written yet is kept
        assert found.done == {"saved", "no-form", "stale"}
        assert waiting(store, "li", NOW_MS, limit=50).unsaved == ("hers",)


def test_the_desk_keeps_the_stores_forms_and_its_own_not_written_yet() -> None:
    """sync_wrapups: the store's unsaved forms first, then the desk's own the store has not
    written yet; a form the store says is done goes; one saved here stays gone though a read
    begun before the save still names it. The agent's state is not changed."""
    import asyncio

    from tests.console.test_agent_desk import desk_for, feed

    async def main():
        desk, _, _ = desk_for({"zhang": "ready"})
        feed(desk, "c9", ("agent_offered", {"agent": "zhang", "via": "queue"}),
             ("agent_answered", {"agent": "zhang"}),
             ("conversation_ended", {"agent": "zhang", "wrapup": True}))
        desk.sync_wrapups("zhang", ["c1", "c2"], done=["c0"])
        after_read = desk.status("zhang")
        await desk.wrapped_up("zhang", "c1")
        desk.sync_wrapups("zhang", ["c1", "c2"])  # read before c1 was saved
        late = desk.status("zhang")
        desk.sync_wrapups("zhang", ["c2"], done=["c9"])
        return after_read, late, desk.status("zhang")

    after_read, late, last = asyncio.run(main())
    assert (after_read.state, after_read.wrapups) == ("wrapup", ("c1", "c2", "c9"))
    assert late.wrapups == ("c2", "c9")
    assert last.wrapups == ("c2",) and last.state == "wrapup"
