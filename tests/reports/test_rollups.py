"""The rollups (runtime/operations/rollup.py) give the reports the figures the rows give:
a report read through them equals the report read from the rows alone, for ranges with
partial edges, every interval, the filters and thresholds, after a migration's backfill, and
for random calls and ranges; the rollups kept as calls end equal those a backfill makes."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_files import set_back

from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.reports import flow_traffic, make_report, query, rolled_sections
from ccdsl.runtime.operations.reports.model import Filters, Options
from ccdsl.runtime.operations.reports.options import filters as make_filters
from ccdsl.runtime.operations.reports.rolled import Plan, aligned, plan
from ccdsl.runtime.operations.reports.sql import Window
from ccdsl.runtime.operations.store import CallStore
from reports import known

CALLS = known.make_calls()
SECTIONS = ("summary", "calls", "service", "queues", "agents", "nodes", "choices",
            "queue_choices")


def _rows_alone(monkeypatch) -> None:
    """Reports read the rows only, as before the rollups."""
    monkeypatch.setattr(rolled_sections, "has_rollups", lambda db: False)


def _both(store: str, monkeypatch, filters: Filters, options: Options):
    rolled = make_report(store, filters, options, SECTIONS)
    with monkeypatch.context() as m:
        _rows_alone(m)
        rows = make_report(store, filters, options, SECTIONS)
    return rolled, rows


def _assert_same(rolled, rows) -> None:
    for name in SECTIONS:
        assert rolled.section(name).rows == rows.section(name).rows, name


def _rollup_rows(path: str) -> dict[str, list[tuple]]:
    db = connect(path, read_only=True)
    try:
        return {r.table: [tuple(row) for row in db.execute(
            f"SELECT * FROM {r.table} ORDER BY 1, 2, 3, 4, 5, 6, 7" if r.keys
            else f"SELECT * FROM {r.table} ORDER BY 1, 2, 3").fetchall()]
            for r in rollup.ROLLUPS}
    finally:
        db.close()


def test_the_store_keeps_rollups_as_calls_end(store: str, sqlite_store: str) -> None:
    kept = _rollup_rows(store)
    assert all(kept.values())
    assert kept == _rollup_rows(sqlite_store)  # the copy in PostgreSQL has them all
    db = connect(store, read_only=True)
    ended = db.execute("SELECT count(*) FROM calls WHERE outcome IS NOT NULL").fetchone()[0]
    rolled = db.execute("SELECT sum(calls) FROM rollup_calls WHERE grain = 'd'").fetchone()
    db.close()
    assert rolled[0] == ended  # the calls in progress are read from the rows


RANGES = [(None, None), ("2026-11-28", "2026-11-30"), ("2026-11-29", "2026-11-29"),
          ("2026-11-28 09:07", "2026-11-30 14:52"), ("2026-11-29 23:30", "2026-11-30 00:20"),
          ("2026-11-28T10:07+05:30", "2026-11-30T09:00Z")]


@pytest.mark.parametrize("interval", ["hour", "day", "month", "year", "auto"])
@pytest.mark.parametrize("start,end", RANGES)
def test_rollups_give_the_rows_figures(store: str, monkeypatch, interval: str, start, end
                                       ) -> None:
    chosen = make_filters(start, end) if start else Filters()
    _assert_same(*_both(store, monkeypatch, chosen, Options(interval=interval)))


@pytest.mark.parametrize("extra", [{"flow": "sales"}, {"queue": "vip"}, {"agent": "li"},
                                   {"queue": "service", "agent": "wang"},
                                   {"flow": "hotline", "queue": "service"}])
@pytest.mark.parametrize("within", ["20s", "4s", "30", "1.5s"])
def test_filters_and_thresholds(store: str, monkeypatch, extra: dict, within: str) -> None:
    from ccdsl.runtime.operations.reports.options import duration_ms
    chosen = make_filters("2026-11-28 09:07", "2026-11-30 14:52", **extra)
    options = Options(interval="hour", within_ms=duration_ms(within, "--within"))
    _assert_same(*_both(store, monkeypatch, chosen, options))


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "UTC"])
def test_other_zones(store: str, monkeypatch, zone: str) -> None:
    for interval in ("hour", "day"):
        options = Options(interval=interval, zone=zone)
        _assert_same(*_both(store, monkeypatch, make_filters("2026-11-28", "2026-11-30"),
                            options))


def test_the_report_still_agrees_with_the_count_over_a_partial_range(store: str) -> None:
    def when(moment) -> bool:
        return "2026-11-28T09:07:00" <= known.local(moment) < "2026-11-30T14:52:00"

    report = make_report(store, make_filters("2026-11-28 09:07", "2026-11-30 14:52"),
                         Options(interval="hour"))
    calls = [c for c in CALLS if when(c.start)]
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("queues").records() == known.expected_queues(CALLS, 20_000, when)
    assert report.section("agents").records() == known.expected_agents(CALLS, when)
    assert report.section("nodes").records() == known.expected_nodes(CALLS, when)
    assert report.section("choices").records() == known.expected_choices(CALLS, when)


def test_flow_traffic(store: str, monkeypatch) -> None:
    rolled = flow_traffic.flow_traffic(store, "hotline")
    with monkeypatch.context() as m:
        _rows_alone(m)
        rows = flow_traffic.flow_traffic(store, "hotline")
    assert rolled == rows and rolled.transitions


def test_a_migration_fills_the_rollups_as_calls_ending_did(sqlite_store: str, tmp_path: Path,
                                                           monkeypatch) -> None:
    """A store of schema 7 (no rollups) opened by this version gets them from its rows:
    the same rows the store kept as its calls ended, the same reports."""
    old = str(tmp_path / "old.db")
    shutil.copy(sqlite_store, old)
    set_back(old, 7, *(f"DROP TABLE {r.table}" for r in rollup.ROLLUPS))
    with pytest.raises(AssertionError):  # a report never migrates: it reads the rows
        assert rolled_sections.has_rollups(query.open_store(old))
    CallStore(old).close()
    assert _rollup_rows(old) == _rollup_rows(sqlite_store)
    for start, end in RANGES[:4]:
        chosen = make_filters(start, end) if start else Filters()
        _assert_same(*_both(old, monkeypatch, chosen, Options(interval="auto")))


def test_schema_11_fills_the_quarter_hours_of_offers_and_nodes_and_nodes_per_queue(
        sqlite_store: str, tmp_path: Path) -> None:
    """A store of schema 10 kept the agent offers and node visits per day only, and no node
    visits per queue: opening it fills them from the rows, as calls ending would have."""
    old = str(tmp_path / "old.db")
    shutil.copy(sqlite_store, old)
    set_back(old, 10, "DELETE FROM rollup_legs WHERE grain = 'q'",
             "DELETE FROM rollup_nodes WHERE grain = 'q'", "DROP TABLE rollup_nodes_queues")
    assert _rollup_rows(sqlite_store)["rollup_nodes_queues"]
    CallStore(old).close()
    assert _rollup_rows(old) == _rollup_rows(sqlite_store)


def test_a_rebuild_makes_the_same_rollups(sqlite_store: str, tmp_path: Path) -> None:
    copy = str(tmp_path / "copy.db")
    shutil.copy(sqlite_store, copy)
    with sqlite3.connect(copy, isolation_level=None) as db:
        db.execute("BEGIN")
        rollup.rebuild(db, 1_764_000_000_000, 1_765_000_000_000)
        db.execute("COMMIT")
    db.close()
    assert _rollup_rows(copy) == _rollup_rows(sqlite_store)


def test_plan_covers_a_range_once() -> None:
    lo = 1_764_262_020_000  # 2026-11-27 16:47 UTC
    hi = lo + 3 * 86_400_000 + 7 * 60_000
    got = plan(Window(lo, hi), ("d", "q"))
    pieces = sorted([(a, b) for _, a, b in got.rolled] + [(w.lo, w.hi) for w in got.raw])
    assert pieces[0][0] == lo and pieces[-1][1] == hi
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert {g for g, _, _ in got.rolled} == {"d", "q"}
    assert got.opened == Window(min(a for _, a, _ in got.rolled),
                                max(b for _, _, b in got.rolled))
    assert plan(Window(lo, lo + 60_000), ("d", "q")) == Plan((), (Window(lo, lo + 60_000),),
                                                             None)


def test_every_zone_today_begins_its_hours_on_a_quarter_hour() -> None:
    from zoneinfo import ZoneInfo
    year = Window(1_735_689_600_000, 1_767_225_600_000)  # 2025
    for name in ("Asia/Kolkata", "Asia/Kathmandu", "Australia/Eucla", "Pacific/Chatham"):
        assert aligned(ZoneInfo(name), year)
    # Amsterdam kept its own +00:19:32 until 1937: its hours began between quarters
    assert not aligned(ZoneInfo("Europe/Amsterdam"), Window(-1_500_000_000_000,
                                                            -1_400_000_000_000))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), count=st.integers(1, 40),
       start=st.integers(0, 3 * 24 * 60), length=st.integers(1, 3 * 24 * 60),
       interval=st.sampled_from(["hour", "day", "month"]),
       flow=st.sampled_from([None, "hotline", "sales"]))
def test_random_calls_and_ranges(tmp_path_factory, monkeypatch, seed: int, count: int,
                                 start: int, length: int, interval: str, flow) -> None:
    path = str(tmp_path_factory.mktemp("random") / "calls.db")
    known.write_store(path, known.make_calls(seed, count))
    lo = datetime(2026, 11, 28) + timedelta(minutes=start - 12 * 60)  # the centre's local time
    hi = lo + timedelta(minutes=length)
    chosen = make_filters(lo.strftime("%Y-%m-%d %H:%M"), hi.strftime("%Y-%m-%d %H:%M"),
                          flow=flow)
    _assert_same(*_both(path, monkeypatch, chosen, Options(interval=interval)))


def test_a_version_set_back_by_hand_is_not_added_up_twice(sqlite_store: str,
                                                          tmp_path: Path) -> None:
    old = str(tmp_path / "back.db")
    shutil.copy(sqlite_store, old)
    set_back(old, 7)
    CallStore(old).close()
    assert _rollup_rows(old) == _rollup_rows(sqlite_store)
