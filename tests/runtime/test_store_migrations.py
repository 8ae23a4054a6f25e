"""`ccf store migrate` and the migration policy on both back ends: a SQLite file is brought up
to date when opened, a PostgreSQL store is created on first open but upgraded only by the
command, a newer store is refused by both. The next schema version here is this one's plus a
small test migration (a table and a column), so the machinery is what is tested, whatever
version the code is at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ccf_cli import ccf
from store_faults.rig import on_disk

from ccdsl.cli.exit_codes import PROBLEMS, USAGE
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations import store, store_migrate, store_schema
from ccdsl.runtime.operations.database import connect, is_postgres
from ccdsl.runtime.operations.store import CallStore, StoreError
from ccdsl.runtime.operations.store_migrate import PendingMigration

NOW = store_schema.SCHEMA_VERSION
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NEXT_STEP = ("CREATE TABLE IF NOT EXISTS test_next (name TEXT PRIMARY KEY, "
             "seen_ms INTEGER NOT NULL)",
             "ALTER TABLE calls ADD COLUMN test_next_note TEXT")


def one_call(target: str, call_id: str = "c1") -> None:
    with CallStore(target) as calls:
        calls.emit(Event(call_id, 1, T0, "call_started", {"flow": "line", "caller": "+861"}))
        calls.emit(Event(call_id, 2, T0, "call_ended", {"outcome": "hangup",
                                                         "duration_ms": 1000}))


@pytest.fixture
def next_version(monkeypatch):
    """The code at the next schema version: MIGRATIONS[NOW] brings a store of NOW to it."""
    for module in (store, store_migrate, store_schema):
        monkeypatch.setattr(module, "SCHEMA_VERSION", NOW + 1)
    monkeypatch.setitem(store_schema.MIGRATIONS, NOW, NEXT_STEP)
    return NOW + 1


def version(target: str) -> int:
    [(value,)] = on_disk(target, "SELECT value FROM meta WHERE key = 'schema_version'")
    return int(value)


def columns(target: str, table: str) -> set[str]:
    if is_postgres(target):
        rows = on_disk(target, "SELECT column_name FROM information_schema.columns "
                               "WHERE table_schema = current_schema() AND table_name = ?",
                       (table,))
        return {r[0] for r in rows}
    return {r[1] for r in on_disk(target, f"PRAGMA table_info({table})")}


def test_a_new_store_is_created_on_first_open_and_the_command_finds_it_current(store_target):
    one_call(store_target)
    assert version(store_target) == NOW
    result = ccf("store", "migrate", "--store", store_target)
    assert result.exit_code == 0, result.output
    assert f"schema version {NOW}, up to date" in result.output
    assert ccf("store", "migrate", "--check", "--store", store_target).exit_code == 0


def test_an_empty_postgresql_database_is_created_by_the_command(pg_url):
    assert ccf("store", "migrate", "--check", "--store", pg_url).exit_code == PROBLEMS
    result = ccf("store", "migrate", "--store", pg_url)
    assert result.exit_code == 0, result.output
    assert f"created the call store, schema version {NOW}" in result.output
    one_call(pg_url)
    assert on_disk(pg_url, "SELECT call_id, outcome FROM calls") == [("c1", "hangup")]


def test_the_next_version_by_the_command_on_both_back_ends(store_target, next_version):
    with pytest.MonkeyPatch.context() as now:  # the store written by this version's code
        for module in (store, store_migrate, store_schema):
            now.setattr(module, "SCHEMA_VERSION", NOW)
        one_call(store_target)
    check = ccf("store", "migrate", "--check", "--store", store_target)
    assert check.exit_code == PROBLEMS
    assert f"migration pending: schema version {NOW} -> {next_version}" in check.output
    assert version(store_target) == NOW  # --check changed nothing
    result = ccf("store", "migrate", "--store", store_target)
    assert result.exit_code == 0, result.output
    assert f"migrated schema version {NOW} -> {next_version}" in result.output
    assert version(store_target) == next_version
    assert {"name", "seen_ms"} <= columns(store_target, "test_next")
    assert "test_next_note" in columns(store_target, "calls")
    # the calls kept, the store usable at the new version, the events view there again
    one_call(store_target, "c2")
    assert on_disk(store_target, "SELECT call_id FROM calls ORDER BY call_id") == \
        [("c1",), ("c2",)]
    assert on_disk(store_target, "SELECT count(*) FROM events WHERE call_id = 'c1'") == [(2,)]
    again = ccf("store", "migrate", "--store", store_target)
    assert f"schema version {next_version}, up to date" in again.output


def test_an_older_postgresql_store_is_not_upgraded_by_a_worker(pg_url, next_version):
    with pytest.MonkeyPatch.context() as now:
        for module in (store, store_migrate, store_schema):
            now.setattr(module, "SCHEMA_VERSION", NOW)
        one_call(pg_url)
    with pytest.raises(PendingMigration) as refused:
        CallStore(pg_url)
    assert "ccf store migrate" in str(refused.value)
    assert version(pg_url) == NOW and "test_next_note" not in columns(pg_url, "calls")


def test_an_older_sqlite_file_is_upgraded_when_opened(tmp_path, next_version):
    path = str(tmp_path / "calls.db")
    with pytest.MonkeyPatch.context() as now:
        for module in (store, store_migrate, store_schema):
            now.setattr(module, "SCHEMA_VERSION", NOW)
        one_call(path)
    with CallStore(path) as opened:
        assert opened.schema_version == next_version
    assert "test_next_note" in columns(path, "calls")


def test_a_newer_store_is_refused_on_both_back_ends(store_target):
    one_call(store_target)
    db = connect(store_target)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(NOW + 5),))
    db.close()
    with pytest.raises(StoreError, match="newer"):
        CallStore(store_target)
    for argv in (("--store", store_target), ("--check", "--store", store_target)):
        result = ccf("store", "migrate", *argv)
        assert result.exit_code == USAGE and "newer" in result.output
    assert version(store_target) == NOW + 5


def test_ccf_serve_on_an_older_postgresql_store_says_so_and_exits_non_zero(tmp_path, pg_url,
                                                                           next_version):
    with pytest.MonkeyPatch.context() as now:
        for module in (store, store_migrate, store_schema):
            now.setattr(module, "SCHEMA_VERSION", NOW)
        one_call(pg_url)
    # no flow deployed: the flows live in this store too, and nothing of this ccdsl's is
    # written into an older store before `ccf store migrate`
    config = tmp_path / "ccf.toml"
    config.write_text(f'[store]\nurl = "{pg_url}"\n', encoding="utf-8")
    result = ccf("serve", "--config", str(config), "--no-ami", "--port", "0",
                 env={"CCF_AMI_SECRET": "s3cret"})
    assert result.exit_code == USAGE, result.output
    assert f"schema version {NOW}" in result.output and "ccf store migrate" in result.output
    assert version(pg_url) == NOW


def test_the_command_finds_the_store_ccf_toml_names(tmp_path, pg_url):
    config = tmp_path / "ccf.toml"
    config.write_text(f'[store]\nurl = "{pg_url}"\n', encoding="utf-8")
    result = ccf("store", "migrate", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{pg_url}: created the call store")


def test_a_failed_migration_changes_nothing(store_target, next_version, monkeypatch):
    with pytest.MonkeyPatch.context() as now:
        for module in (store, store_migrate, store_schema):
            now.setattr(module, "SCHEMA_VERSION", NOW)
        one_call(store_target)
    monkeypatch.setitem(store_schema.MIGRATIONS, NOW,
                        (NEXT_STEP[0], "ALTER TABLE no_such_table ADD COLUMN x TEXT"))
    result = ccf("store", "migrate", "--store", store_target)
    assert result.exit_code == USAGE and "cannot be migrated" in result.output
    assert version(store_target) == NOW and columns(store_target, "test_next") == set()
    assert on_disk(store_target, "SELECT call_id FROM calls") == [("c1",)]
