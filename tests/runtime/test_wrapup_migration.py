"""Schema 13 keeps a wrap-up per call and agent (table wrapups): a store of schema 12, whose
calls kept one wrap-up each in calls.wrapup, is migrated with every wrap-up carried over as its
agent's (saved values, and forms still waiting), on SQLite (when opened) and PostgreSQL (by
`ccf store migrate`). The file of schema 12 is this schema with 13's change undone, so what
is tested is the step from the previous version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ccf_cli import ccf
from store_faults.rig import on_disk

from ccdsl.runtime.operations.database import connect, is_postgres, transaction
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import waiting
from tests.runtime.test_store_migrations import columns, version

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
FIELDS = ["reason", "resolved"]


def schema_12_store(target: str) -> None:
    """A store as ccdsl of schema 12 left it: three calls, one wrap-up saved, one asked for
    and not filled in, one call with none."""
    with CallStore(target):
        pass
    db = connect(target)
    try:
        with transaction(db):
            db.execute("DROP TABLE wrapups")
            db.execute("ALTER TABLE calls ADD COLUMN wrapup TEXT")
            db.execute("UPDATE meta SET value = '12' WHERE key = 'schema_version'")
            for n, (agent, wrapup) in enumerate((
                    ("zhang", {"agent": "zhang", "fields": FIELDS,
                               "values": {"reason": "order", "resolved": True}}),
                    ("li", {"agent": "li", "fields": FIELDS, "values": None}),
                    (None, None)), 1):
                db.execute("INSERT INTO calls (call_id, flow, caller, started, started_ms, "
                           "ended, ended_ms, outcome, agent, talked_to_agent, wrapup) "
                           "VALUES (?, 'hotline', '+861', ?, ?, ?, ?, 'hangup', ?, ?, ?)",
                           (f"c{n}", T0.isoformat(), T0_MS + n, T0.isoformat(),
                            T0_MS + n + 60_000, agent, int(agent is not None),
                            json.dumps(wrapup) if wrapup else None))
    finally:
        db.close()


def check_carried_over(target: str) -> None:
    assert version(target) == 13
    assert "wrapup" not in columns(target, "calls")  # one place for a wrap-up: wrapups
    assert _same_json(target)
    with CallStore(target) as calls:
        assert calls.call("c1")["wrapups"] == [
            {"agent": "zhang", "fields": FIELDS,
             "values": {"reason": "order", "resolved": True}}]
        assert calls.call("c1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
        assert calls.call("c2")["wrapups"] == [{"agent": "li", "fields": FIELDS,
                                                "values": None}]
        assert calls.call("c3")["wrapups"] == [] and calls.call("c3")["wrapup"] is None
        # li's form still waits; zhang's saved one does not
        assert waiting(calls, "li", T0_MS + 1000, limit=50).unsaved == ("c2",)
        assert waiting(calls, "zhang", T0_MS + 1000, ("c1",), limit=50).done == {"c1"}


def _same_json(target: str) -> bool:
    """The rows as JSON values (PostgreSQL's JSON text may space them otherwise)."""
    rows = on_disk(target, "SELECT call_id, agent, fields, entered FROM wrapups "
                           "ORDER BY call_id")
    return [(r[0], r[1], json.loads(r[2]), json.loads(r[3]) if r[3] else None)
            for r in rows] == [("c1", "zhang", FIELDS, {"reason": "order", "resolved": True}),
                               ("c2", "li", FIELDS, None)]


def test_a_schema_12_store_keeps_its_wrap_ups_each_as_its_agents(store_target) -> None:
    schema_12_store(store_target)
    assert version(store_target) == 12 and "wrapup" in columns(store_target, "calls")
    if is_postgres(store_target):  # several workers share it: the command upgrades it
        result = ccf("store", "migrate", "--store", store_target)
        assert result.exit_code == 0, result.output
        assert "migrated schema version 12 -> 13" in result.output
    else:  # a SQLite file is migrated when opened
        with CallStore(store_target):
            pass
    check_carried_over(store_target)


def test_a_migrated_store_takes_another_agents_wrap_up_of_the_same_call(store_target) -> None:
    """After the migration the call's old wrap-up is zhang's: li saves one of their own."""
    schema_12_store(store_target)
    if is_postgres(store_target):
        assert ccf("store", "migrate", "--store", store_target).exit_code == 0
    from ccdsl.runtime.operations.store_wrapups import claim

    with CallStore(store_target) as calls:
        assert claim(calls, "c1", {"reason": "refund"}, None, "li")
        assert not claim(calls, "c1", {"reason": "changed"}, None, "zhang")
        saved = {w["agent"]: w["values"] for w in calls.call("c1")["wrapups"]}
    assert saved == {"zhang": {"reason": "order", "resolved": True}, "li": {"reason": "refund"}}
