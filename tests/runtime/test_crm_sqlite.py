"""The embedded CRM on a real SQLite file: what the builtins `crm.*` get
back, how phone numbers match, owners, logged calls, and failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from ccdsl.runtime.core.crm.config import CrmConfigError, SqliteConfig, load_config
from ccdsl.runtime.core.crm.connect import open_crm
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.values import Duration, Record, TimeOfDay

ROOT = Path(__file__).resolve().parents[2]


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def crm(tmp_path: Path) -> SqliteCRM:
    crm = SqliteCRM(tmp_path / "crm.db")
    crm.upsert("customer", [
        {"id": "C1001", "name": "Chen Jing", "phone": "+86 138-0000-0001", "owner": "zhang",
         "tier": "regular"},
        {"id": "C2002", "name": "Wang Lei", "phone": "+8613800000002", "owner": "li",
         "tier": "vip"},
    ])
    crm.upsert("order", [
        {"id": "O1", "number": "20261128", "status": "shipped", "customer": "C1001",
         "total": 259.5, "eta": dt.date(2026, 12, 3)},
        {"id": "O2", "number": "20261125", "status": "pending", "customer": "C2002"},
    ])
    return crm


def test_find_customer_matches_numbers_written_any_way(crm):
    for dialled in ("+8613800000001", "+86 (138) 0000-0001", "+86.138.0000.0001"):
        customer = run(crm.find_customer(dialled))
        assert customer == Record("customer", {
            "id": "C1001", "name": "Chen Jing", "phone": "+8613800000001", "owner": "zhang",
            "tier": "regular"})
    assert run(crm.find_customer("+8613900000000")) is None
    assert run(crm.find_customer("")) is None


def test_numbers_written_by_another_tool_still_match(tmp_path):
    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table customer (id text primary key, phone text, owner text)")
        conn.execute("insert into customer values ('X1', '+1 (415) 555-0123', 'wang')")
    crm = SqliteCRM(path)
    assert run(crm.find_customer("+14155550123")).id == "X1"


def test_find_is_an_exact_match_on_every_field_given(crm):
    order = run(crm.find("order", {"number": "20261128"}))
    assert order.kind == "order"
    assert order.get("status") == "shipped"
    assert order.get("eta") == dt.date(2026, 12, 3)  # a date reads back as a date
    assert order.get("total") == 259.5
    assert run(crm.find("order", {"number": "20261128", "status": "pending"})) is None
    assert run(crm.find("order", {"number": "2026112"})) is None
    assert run(crm.find("order", {"status": "pending"})).id == "O2"


def test_unknown_type_or_field_finds_nothing(crm):
    assert run(crm.find("invoice", {"number": "1"})) is None
    assert run(crm.find("order", {"colour": "red"})) is None
    # a field no record has is null on every record
    assert run(crm.find("order", {"colour": None, "number": "20261125"})).id == "O2"


def test_values_never_become_sql(crm):
    sneaky = "x' or '1'='1"
    assert run(crm.find("order", {"number": sneaky})) is None
    assert run(crm.find_customer(sneaky)) is None
    with pytest.raises(ExternalError, match="not a valid record type name"):
        run(crm.find("order; drop table customer", {}))
    with pytest.raises(ExternalError, match="not a valid field name"):
        run(crm.find("order", {"number = number or 1": 1}))
    assert run(crm.find_customer("+8613800000002")).id == "C2002"


def test_owner_of_a_customer_and_of_a_record_pointing_at_one(crm):
    customer = run(crm.find_customer("+8613800000002"))
    assert run(crm.owner(customer)) == "li"
    order = run(crm.find("order", {"number": "20261128"}))
    assert run(crm.owner(order)) == "zhang"
    # a record from elsewhere (a test fixture) with only an id: the stored owner
    assert run(crm.owner(Record("customer", {"id": "C1001"}))) == "zhang"
    assert run(crm.owner(Record("customer", {"id": "nobody"}))) is None
    assert run(crm.owner(Record("order", {"customer": customer}))) == "li"


def test_create_gives_ids_and_keeps_value_kinds(crm):
    opened = dt.datetime(2026, 11, 30, 10, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ticket = run(crm.create("ticket", {
        "subject": "Call-back requested", "customer": "C1001", "created": opened,
        "urgent": True, "tags": ["callback", "vip"], "wait": Duration(90_000),
        "best_time": TimeOfDay(9 * 60 + 30)}))
    assert ticket.id == "ticket-1"
    assert ticket.fields == {
        "id": "ticket-1", "subject": "Call-back requested", "customer": "C1001",
        "created": opened, "urgent": True, "tags": ("callback", "vip"),
        "wait": Duration(90_000), "best_time": TimeOfDay(570)}
    second = run(crm.create("ticket", {"subject": "Another"}))
    assert second.id == "ticket-2"
    # a new kind of record is a new table, found like any other
    task = run(crm.create("callback_task", {"phone": "+8613900000000"}))
    assert run(crm.find("callback_task", {"phone": "+8613900000000"})) == task


def test_create_refuses_a_duplicate_id_and_reserved_names(crm):
    with pytest.raises(ExternalError, match="already exists"):
        run(crm.create("customer", {"id": "C1001"}))
    for name in ("call_log", "_ccdsl_columns", "sqlite_master"):
        with pytest.raises(ExternalError, match="reserved"):
            run(crm.create(name, {"x": 1}))


def test_update_sets_fields_and_returns_the_stored_record(crm):
    customer = run(crm.find_customer("+8613800000001"))
    updated = run(crm.update(customer, {"language": "en-US", "tier": "vip"}))
    assert updated.get("language") == "en-US"
    assert updated.get("name") == "Chen Jing"
    assert run(crm.find_customer("+8613800000001")) == updated
    with pytest.raises(ExternalError, match="no customer with id 'C9'"):
        run(crm.update(Record("customer", {"id": "C9"}), {"tier": "vip"}))
    with pytest.raises(ExternalError, match="has no id"):
        run(crm.update(Record("customer", {}), {"tier": "vip"}))


def test_log_call_links_the_call_to_the_customer(crm):
    customer = run(crm.find_customer("+8613800000001"))
    started = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    run(crm.log_call({
        "customer": customer, "call_id": "sim-1", "caller": "+8613800000001",
        "agent": "zhang", "started": started, "talk_ms": 61_000, "outcome": "agent",
        "recording": "recordings/sim-1.wav",
        "wrapup": {"reason": "order", "resolved": True, "order_number": "20261128"},
        "queue": "service"}))
    run(crm.log_call({"customer": None, "caller": "+8613900000000", "outcome": "self-service"}))
    [row] = [r for r in SqliteCRM(crm.path).records("call_log") if r.get("customer")]
    assert row.get("customer") == "C1001"
    assert row.get("started") == started
    assert row.get("recording") == "recordings/sim-1.wav"
    assert row.get("wrapup") == {"reason": "order", "resolved": True,
                                 "order_number": "20261128"}
    assert row.get("queue") == "service"  # a key of its own becomes a column
    assert "call_log" in crm.record_types()


def test_records_survive_reopening_the_file(crm):
    run(crm.close())
    again = SqliteCRM(crm.path)
    order = run(again.find("order", {"number": "20261128"}))
    assert order.get("eta") == dt.date(2026, 12, 3)
    assert [r.id for r in again.records("customer")] == ["C1001", "C2002"]


def test_upsert_by_id_keeps_fields_the_row_does_not_give(crm):
    added, updated = crm.upsert("customer", [
        {"id": "C1001", "tier": "vip"}, {"name": "New Person", "phone": "+8613700000000"}])
    assert (added, updated) == (1, 1)
    chen = run(crm.find("customer", {"id": "C1001"}))
    assert (chen.get("tier"), chen.get("owner")) == ("vip", "zhang")
    assert run(crm.find_customer("+8613700000000")).id == "customer-3"


def test_a_broken_database_file_is_an_external_error(tmp_path):
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database, it is a text file " * 100)
    with pytest.raises(ExternalError, match="cannot open the CRM database .*broken.db"):
        SqliteCRM(path)


def test_a_missing_file_is_an_error_only_when_asked(tmp_path):
    with pytest.raises(ExternalError, match="no CRM database at"):
        SqliteCRM(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()
    assert run(SqliteCRM(tmp_path / "new.db").find_customer("+1")) is None


def test_a_database_locked_by_another_writer_times_out(tmp_path):
    path = tmp_path / "crm.db"
    crm = SqliteCRM(path, timeout_ms=50)
    crm.upsert("customer", [{"id": "C1", "phone": "+1"}])
    other = sqlite3.connect(path)
    other.execute("begin exclusive")
    try:
        with pytest.raises(ExternalError, match="locked") as caught:
            run(crm.create("ticket", {"subject": "x"}))
        assert caught.value.timed_out
    finally:
        other.rollback()
        other.close()


def test_open_crm_from_config(tmp_path, monkeypatch):
    toml = tmp_path / "centre.toml"
    toml.write_text('[crm]\nadapter = "sqlite"\npath = "data/crm.db"\n', encoding="utf-8")
    (tmp_path / "data").mkdir()
    config = load_config(toml)
    assert config == SqliteConfig(path=str(tmp_path / "data" / "crm.db"))
    assert isinstance(open_crm(toml), SqliteCRM)
    monkeypatch.setenv("CCF_CRM_DB", str(tmp_path / "env.db"))
    assert load_config(None) == SqliteConfig(path=str(tmp_path / "env.db"))
    assert load_config({"crm": {"adapter": "sqlite"}}).path == str(tmp_path / "env.db")


def test_bad_config_says_what_is_wrong(tmp_path):
    with pytest.raises(CrmConfigError, match='crm.adapter: expected "sqlite" or "http"'):
        load_config({"adapter": "oracle"})
    with pytest.raises(CrmConfigError, match="unknown setting 'pth'; expected one of"):
        load_config({"adapter": "sqlite", "pth": "x.db"})
    bad = tmp_path / "bad.toml"
    bad.write_text("[crm\nadapter=", encoding="utf-8")
    with pytest.raises(CrmConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(CrmConfigError, match="no such configuration file"):
        load_config(tmp_path / "none.toml")


def test_the_iws_fixture_imports_and_answers_the_demo(tmp_path):
    from ccdsl.runtime.core.crm.importer import read_records

    crm = SqliteCRM(tmp_path / "iws.db")
    for kind in ("customer", "agent", "order"):
        crm.upsert(kind, read_records(ROOT / "examples/iws/crm" / f"{kind}s.csv", kind))
    vip = [c for c in crm.records("customer") if c.get("tier") == "vip"]
    assert vip and all(c.get("owner") for c in vip)
    assert {a.id for a in crm.records("agent")} == {"li", "wang", "zhang", "chen"}
    assert run(crm.find("agent", {"id": "wang"})).get("skills") == ("tech", "general", "zh-CN",
                                                                   "en-US")
    order = run(crm.find("order", {"number": "20261128"}))
    assert (order.get("status"), order.get("eta")) == ("shipped", dt.date(2026, 12, 3))
    assert run(crm.owner(order)) == "zhang"


def _pragma(path: Path, name: str):
    raw = sqlite3.connect(path)
    try:
        return raw.execute(f"pragma {name}").fetchone()[0]
    finally:
        raw.close()


def test_the_file_goes_to_wal_at_the_first_write_and_reading_leaves_it_alone(tmp_path):
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table customer (id text primary key, phone text, owner text)")
        conn.execute("insert into customer values ('X1', '+14155550123', 'wang')")
    reader = SqliteCRM(path, create=False)
    assert run(reader.find_customer("+14155550123")).id == "X1"
    assert [r.id for r in reader.records("customer")] == ["X1"]
    reader.close_now()
    assert _pragma(path, "journal_mode") == "delete"  # `ccf crm show` changed nothing
    crm = SqliteCRM(path)
    run(crm.log_call({"customer": "X1", "caller": "+14155550123", "outcome": "agent"}))
    assert _pragma(path, "journal_mode") == "wal"
    assert crm.db.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL
    crm.close_now()
    # committed rows are in the file for the next process
    assert [r.get("customer") for r in SqliteCRM(path).records("call_log")] == ["X1"]


def test_logged_calls_bring_new_columns_and_keep_their_kinds(crm):
    started = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    run(crm.log_call({"customer": "C1001", "started": started, "outcome": "agent"}))
    run(crm.log_call({"customer": "C1001", "outcome": "agent", "queue": "service",
                      "callback_at": started + dt.timedelta(hours=1), "tags": ["vip"]}))
    run(crm.log_call({"customer": "C2002", "started": started, "outcome": "voicemail"}))
    rows = crm.records("call_log")
    assert [r.get("outcome") for r in rows] == ["agent", "agent", "voicemail"]
    assert rows[0].get("started") == started and rows[2].get("started") == started
    assert rows[1].get("queue") == "service"
    assert rows[1].get("callback_at") == started + dt.timedelta(hours=1)
    assert rows[1].get("tags") == ("vip",)
    assert rows[2].get("queue") is None


def test_a_column_another_process_added_is_written_into(crm):
    run(crm.log_call({"customer": "C1001", "outcome": "agent"}))
    run(crm.create("ticket", {"subject": "first"}))
    other = sqlite3.connect(crm.path)
    other.execute("alter table call_log add column region text")
    other.execute('alter table ticket add column "priority" integer')
    other.commit()
    other.close()
    run(crm.log_call({"customer": "C2002", "outcome": "agent", "region": "east"}))
    ticket = run(crm.create("ticket", {"subject": "second", "priority": 2}))
    assert [r.get("region") for r in crm.records("call_log")] == [None, "east"]
    assert ticket.get("priority") == 2 and ticket.id == "ticket-2"


def test_update_with_nothing_to_change_returns_the_record(crm):
    customer = run(crm.find_customer("+8613800000001"))
    assert run(crm.update(customer, {})) == customer
    assert run(crm.update(customer, {"id": "C1001"})) == customer


def _statements(crm: SqliteCRM) -> list[str]:
    seen: list[str] = []
    crm.db.conn.set_trace_callback(seen.append)
    return seen


def test_an_unknown_number_costs_no_scan_when_every_stored_number_is_clean(crm):
    crm.upsert("customer", [{"id": "C1001", "phone": "+8613800000001"}])
    seen = _statements(crm)
    for _ in range(3):
        assert run(crm.find_customer("+8613900000000")) is None
    scans = [s for s in seen if "replace(" in s]
    # the one check, no fallback look-up
    assert len(scans) == 1 and "<> phone" in scans[0] and "order by rowid" not in scans[0]
    assert run(crm.find_customer("+86 138 0000 0001")).id == "C1001"


def test_a_noisy_number_another_process_writes_is_found(tmp_path):
    path = tmp_path / "crm.db"
    crm = SqliteCRM(path)
    crm.upsert("customer", [{"id": "C1", "phone": "+8613800000001"}])
    assert run(crm.find_customer("+8613800000009")) is None
    with sqlite3.connect(path) as other:  # another tool, keeping its dashes
        other.execute("insert into customer (id, phone) values ('C9', '+86 138-0000-0009')")
    other.close()
    assert run(crm.find_customer("+8613800000009")).id == "C9"
    with sqlite3.connect(path) as other:  # ...and cleaning them up later
        other.execute("update customer set phone = '+8613800000009' where id = 'C9'")
    other.close()
    seen = _statements(crm)
    assert run(crm.find_customer("+8613800000007")) is None
    assert run(crm.find_customer("+8613800000007")) is None
    fallbacks = [s for s in seen if "replace(" in s and "order by rowid" in s]
    checks = [s for s in seen if "replace(" in s and "<> phone" in s]
    assert fallbacks == [] and len(checks) == 1  # looked again once, found them clean


@pytest.mark.parametrize("fields", [
    {"total": float("nan")}, {"total": float("inf")}, {"total": 2**70},
    {"tags": (1, float("nan"))}, {"extra": {"deep": [float("-inf")]}},
])
def test_a_number_that_is_not_finite_is_a_crm_error_on_create_and_update(crm, fields):
    with pytest.raises(ExternalError, match="finite|too large") as caught:
        run(crm.create("order", {"id": "O9", **fields}))
    assert caught.value.service == "crm"
    assert crm.find_now("order", {"id": "O9"}) is None
    with pytest.raises(ExternalError, match="finite|too large"):
        run(crm.update(Record("order", {"id": "O1"}), fields))
    assert run(crm.find("order", {"id": "O1"})).get("total") == 259.5
