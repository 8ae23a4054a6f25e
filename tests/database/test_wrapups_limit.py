"""An agent's unsaved wrap-up forms (store_wrapups.waiting, through waiting_many, and every
agent's, waiting_all) are cut to the newest `limit` by the database, per agent, on SQLite and
PostgreSQL: the store's read returns no
more than `limit` of an agent's forms however many wait, and they are the ones the whole window
cut in Python gave: oldest first, ties of one start in call id order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import waiting, waiting_all, waiting_many

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
# (call, agent, minutes before NOW): zhang's forms oldest first are old, t-a, t-b (one start),
# mid, new, newest; li has two
CALLS = (("newest", "zhang", 1), ("t-b", "zhang", 40), ("old", "zhang", 90), ("mid", "zhang", 30),
         ("t-a", "zhang", 40), ("new", "zhang", 5), ("hers-1", "li", 50), ("hers-2", "li", 20))
ZHANG = ("old", "t-a", "t-b", "mid", "new", "newest")


def _call(store: CallStore, call_id: str, agent: str, minutes_ago: int) -> None:
    start = NOW - timedelta(minutes=minutes_ago)
    kinds = (("call_started", {"caller": "+8613800000001", "flow": "hotline"}),
             ("agent_answered", {"agent": agent, "ring_ms": 1000}),
             ("conversation_ended", {"agent": agent, "talk_ms": 30_000, "wrapup": True}),
             ("wrapup_requested", {"agent": agent, "fields": ["reason"],
                                   "form": [{"name": "reason", "type": "text"}]}),
             ("call_ended", {"outcome": "hangup"}))
    for seq, (kind, data) in enumerate(kinds, 1):
        store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))


class _Counted:
    """The store as waiting_many and waiting_all read it, counting the unsaved forms each
    read returns (waiting_many's part 1; waiting_all's every row)."""

    def __init__(self, store: CallStore) -> None:
        self.store = store
        self.forms: dict[str, int] = {}

    def query(self, sql, args=()):
        rows = self.store.query(sql, args)
        for r in rows:
            if r.get("part", 1) == 1:
                self.forms[r["agent"]] = self.forms.get(r["agent"], 0) + 1
        return rows


def test_the_newest_forms_up_to_the_limit_come_from_the_database(store_target) -> None:
    with CallStore(store_target) as store:
        for call_id, agent, minutes_ago in CALLS:
            _call(store, call_id, agent, minutes_ago)
        store.flush()
        assert waiting(store, "zhang", NOW_MS, limit=50).unsaved == ZHANG
        for limit in (1, 3, 4, 6):
            counted = _Counted(store)
            found = waiting_many(counted, {"zhang": ("old",), "li": ()}, NOW_MS, limit=limit)
            assert found["zhang"].unsaved == ZHANG[-limit:]
            assert found["li"].unsaved == ("hers-1", "hers-2")[-limit:]
            assert counted.forms == {"zhang": limit, "li": min(limit, 2)}
            # a form past the limit still waits: it is not done
            assert found["zhang"].done == frozenset()
            assert waiting(store, "zhang", NOW_MS, limit=limit).unsaved == ZHANG[-limit:]
            counted = _Counted(store)
            assert waiting_all(counted, NOW_MS, limit=limit) == {
                "zhang": ZHANG[-limit:], "li": ("hers-1", "hers-2")[-limit:]}
            assert counted.forms == {"zhang": limit, "li": min(limit, 2)}
