"""Copying a call store between back ends (runtime/operations/store_copy.py): a SQLite store of
simulated calls copied into a real PostgreSQL database and back has every row of every table as
it was; a destination with rows, a missing source, the same store twice are refused."""

from __future__ import annotations

import sqlite3

import pytest
from reports import busy

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store_copy import CopyError, copy_store, schema_tables


@pytest.fixture(scope="module")
def busy_store(tmp_path_factory) -> str:
    return busy.write_busy_store(tmp_path_factory.mktemp("copy") / "calls.db",
                                 busy.busy_calls(120))


def _rows(target: str) -> dict[str, list[tuple]]:
    db = connect(target, read_only=True)
    try:
        return {t.name: [tuple(r) for r in db.execute(
            f"SELECT {', '.join(t.columns)} FROM {t.name} ORDER BY {', '.join(t.key)}")]
            for t in schema_tables()}
    finally:
        db.close()


def test_every_table_is_copied_to_postgresql_and_back(busy_store, pg_url, tmp_path):
    seen: list[tuple[str, int]] = []
    there = copy_store(busy_store, pg_url, batch=50, progress=lambda t, n: seen.append((t, n)))
    back = tmp_path / "back.db"
    again = copy_store(pg_url, str(back), batch=7)
    original = _rows(busy_store)
    # the store has rows in the tables the reports read, more than one batch of some
    assert all(len(original[t]) > 50 for t in ("calls", "node_visits", "event_batches",
                                               "centre_events", "rollup_calls"))
    assert _rows(pg_url) == original
    assert _rows(str(back)) == original
    assert dict(there.tables) == dict(again.tables) == {t: len(r) for t, r in original.items()}
    assert ("calls", 50) in seen and ("calls", 100) in seen


def test_postgresqls_ids_go_on_after_the_copied_ones(busy_store, pg_url):
    copy_store(busy_store, pg_url)
    db = connect(pg_url)
    try:
        top = db.execute("SELECT max(id) FROM centre_events").fetchone()[0]
        db.execute("INSERT INTO centre_events (at, at_ms, source, kind, data) "
                   "VALUES ('x', 1, 'serve', 'test', '{}')")
        assert db.execute("SELECT max(id) FROM centre_events").fetchone()[0] == top + 1
    finally:
        db.close()


def test_a_store_with_calls_is_never_written_into(busy_store, pg_url, tmp_path):
    copy_store(busy_store, pg_url)
    before = _rows(pg_url)
    with pytest.raises(CopyError, match="is not empty .*calls"):
        copy_store(busy_store, pg_url)
    assert _rows(pg_url) == before
    with pytest.raises(CopyError, match="is not empty"):
        copy_store(pg_url, busy_store)


def test_an_empty_store_with_the_schema_is_filled(busy_store, pg_url):
    from ccdsl.runtime.operations.store_migrate import migrate

    db = connect(pg_url)
    migrate(db, pg_url)
    db.close()
    copy_store(busy_store, pg_url)
    assert _rows(pg_url) == _rows(busy_store)


def test_refusals_say_why_and_leave_nothing_behind(busy_store, tmp_path):
    with pytest.raises(CopyError, match="there is no call store"):
        copy_store(str(tmp_path / "missing.db"), str(tmp_path / "new.db"))
    with pytest.raises(CopyError, match="same store"):
        copy_store(busy_store, busy_store)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (a)")
    db.close()
    with pytest.raises(CopyError, match="not a call store"):
        copy_store(str(other), str(tmp_path / "new.db"))
    with pytest.raises(CopyError, match="not a call store"):
        copy_store(busy_store, str(other))
    assert not (tmp_path / "new.db").exists()
    with pytest.raises(CopyError, match="carries a password"):
        copy_store(busy_store, "postgresql://ccf:secret@127.0.0.1/x")


def test_ccf_store_copy_moves_a_store_and_says_how_many_rows(busy_store, pg_url, tmp_path):
    from ccf_cli import ccf

    done = ccf("store", "copy", busy_store, pg_url)
    assert done.exit_code == 0, done.output
    calls = len(_rows(busy_store)["calls"])
    assert ["calls", f"{calls:,}"] in [line.split() for line in done.output.splitlines()]
    assert f"into {pg_url}" in done.output
    refused = ccf("store", "copy", busy_store, pg_url)
    assert refused.exit_code == 2 and "is not empty" in refused.output
    back = ccf("store", "copy", "-q", pg_url, str(tmp_path / "back.db"))
    assert back.exit_code == 0 and back.output == ""
    assert _rows(str(tmp_path / "back.db")) == _rows(busy_store)


def test_simulated_calls_of_the_example_centre_survive_the_round_trip(pg_url, tmp_path):
    """Calls through examples/iws/hotline.ccf as `ccf simulate --store` keeps them."""
    from pathlib import Path

    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.runtime.operations.agents_file import load_agents
    from ccdsl.runtime.sim import HangUp, Press, Speak
    from ccdsl.runtime.sim.scenario import run_simulation, simulation

    iws = Path(__file__).resolve().parents[2] / "examples" / "iws"
    flow = compile_file(str(iws / "hotline.ccf")).ir
    store = str(tmp_path / "sim.db")
    for caller, at, actions in (
            ("+8613900000001", "2026-11-30 10:00", (Press("0"), Press("5"))),
            ("+8613800000001", "2026-11-30 11:05", (Press("1"), Press("20261128#"),
                                                    HangUp(after_ms=6_000))),
            ("+8613800000001", "2026-11-30 22:00", (Speak(20_000),))):
        scenario = simulation(flow, caller=caller, at=f"{at} Asia/Shanghai", actions=actions,
                              agents=load_agents(str(iws / "agents.toml")))
        run_simulation(flow, scenario, crm_folder=str(iws / "crm"), store_path=store)
    copy_store(store, pg_url)
    copy_store(pg_url, str(tmp_path / "back.db"))
    original = _rows(store)
    assert len(original["calls"]) == 3 and original["event_batches"] and original["runs"]
    assert _rows(pg_url) == original == _rows(str(tmp_path / "back.db"))


def test_a_count_that_differs_keeps_nothing(busy_store, pg_url, tmp_path, monkeypatch):
    from ccdsl.runtime.operations import store_copy

    real = store_copy._count
    monkeypatch.setattr(store_copy, "_count",
                        lambda db, table: real(db, table) + (table == "agent_legs"))
    with pytest.raises(CopyError, match="row counts differ, nothing was kept: agent_legs"):
        copy_store(busy_store, pg_url)
    new = tmp_path / "new.db"
    with pytest.raises(CopyError, match="row counts differ"):
        copy_store(busy_store, str(new))
    assert not new.exists()
    monkeypatch.undo()
    db = connect(pg_url)
    assert "calls" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    copy_store(busy_store, pg_url)  # the database as it was: the copy can be made again
    assert _rows(pg_url) == _rows(busy_store)


def test_a_row_postgresql_refuses_is_named_and_nothing_is_kept(busy_store, pg_url, tmp_path):
    import shutil

    odd = tmp_path / "odd.db"
    shutil.copy(busy_store, odd)
    with sqlite3.connect(odd) as db:  # SQLite keeps a NUL in text; PostgreSQL's text cannot
        db.execute("UPDATE calls SET caller = ? WHERE call_id = (SELECT min(call_id) FROM calls)",
                   ("+86\x00138",))
    db.close()
    with pytest.raises(CopyError, match="copying into .* failed, nothing was kept"):
        copy_store(str(odd), pg_url)
    db = connect(pg_url)
    assert "calls" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()


def test_someone_elses_database_is_left_as_it_was(busy_store, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (a)")
        db.execute("INSERT INTO notes VALUES ('kept')")
    db.close()
    before = other.read_bytes()
    with pytest.raises(CopyError, match="not a call store"):
        copy_store(busy_store, str(other))
    assert other.read_bytes() == before
