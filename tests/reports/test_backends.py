"""The same report from the same calls on SQLite and on PostgreSQL: a store built in SQLite,
copied into PostgreSQL, gives every section, interval, filter and format (text, JSON, CSV, HTML)
character for character, read through the rollups and from the rows alone."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from queue_callbacks.world import T0, booked

from ccdsl.runtime.operations.reports import (
    make_report,
    render_data,
    render_html,
    render_text,
    rolled_sections,
)
from ccdsl.runtime.operations.reports.model import SECTIONS, Filters, Options
from ccdsl.runtime.operations.reports.options import filters as make_filters
from ccdsl.runtime.operations.store import CallStore
from reports import backends, busy, known


@pytest.fixture(scope="module")
def stores(request, tmp_path_factory) -> tuple[str, str]:
    """(SQLite file, PostgreSQL URL) of one store: busy calls, agents' states, known calls
    in several zones."""
    path = tmp_path_factory.mktemp("backends") / "calls.db"
    spread = known.make_calls()
    for call in spread:
        call.call_id = "n" + call.call_id
    busy.write_busy_store(path, busy.busy_calls(300) + spread)
    with CallStore(path) as store:  # in-queue call-backs, each way one ends
        for n in range(12):
            booked(store, f"cb{n}", queue=("service", "sales")[n % 2],
                   start=T0 + timedelta(minutes=7 * n), waited_ms=20_000 + 1000 * n)
    with sqlite3.connect(path) as db:
        for n, status in enumerate(("done", "failed", "given_up", "done", "dialling")):
            db.execute("UPDATE queue_callbacks SET status = ?, attempts = ?, ended_ms = "
                       "requested_ms + ? WHERE call_id = ?",
                       (status, n + 1, 60_000 * (n + 1), f"cb{n}"))
    db.close()
    return str(path), backends.copied(request, str(path))


def _rendered(report) -> dict[str, str]:
    report = replace(report, store="STORE", generated="GENERATED")
    text = io.StringIO()
    render_text.render(report, text, color=False, width=200)
    return {"text": text.getvalue(), "json": render_data.to_json(report),
            "csv": render_data.to_csv(report, one=False), "html": render_html.render(report)}


def _same(stores, filters: Filters, options: Options, now: datetime | None = None) -> None:
    lite, pg = (make_report(s, filters, options, SECTIONS, now=now) for s in stores)
    for name in SECTIONS:
        assert pg.section(name).rows == lite.section(name).rows, name
    assert _rendered(pg) == _rendered(lite)
    assert lite.section("calls").rows  # a report of something


INTERVALS = ("auto", "hour", "day", "month", "year")
RANGES = ((None, None), ("2026-11-29", "2026-11-29"), ("2026-11-28 09:40", "2026-11-30 17:05"),
          ("2026-10-01", "2026-12-31"))


@pytest.mark.parametrize("rows_only", [False, True], ids=["rollups", "rows"])
@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("span", RANGES, ids=lambda r: f"{r[0]}..{r[1]}")
def test_every_section_and_interval_is_the_same(stores, interval, span, rows_only,
                                                monkeypatch):
    if rows_only:
        monkeypatch.setattr(rolled_sections, "has_rollups", lambda db: False)
    _same(stores, make_filters(*span), Options(interval=interval))


@pytest.mark.parametrize("chosen", [dict(queue="service"), dict(agent="li"),
                                    dict(flow="sales"), dict(queue="vip", agent="wang")],
                         ids=str)
@pytest.mark.parametrize("within_ms", [20_000, 7_000])
def test_filters_and_thresholds_are_the_same(stores, chosen, within_ms):
    _same(stores, make_filters(None, None, **chosen), Options(within_ms=within_ms))


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC"])
def test_other_zones_are_the_same(stores, zone):
    _same(stores, make_filters("2026-11-28", "2026-11-30"), Options(interval="hour", zone=zone))


@pytest.mark.parametrize("minutes", [60, 1440])
def test_realtime_is_the_same(stores, minutes):
    now = datetime(2026, 11, 30, 15, 30)  # naive: in the store's zone
    _same(stores, Filters(), Options(interval="realtime", minutes=minutes), now=now)


def test_every_section_has_figures_on_postgresql(stores):
    report = make_report(stores[1], Filters(), Options(interval="day"), SECTIONS)
    assert all(report.section(name).rows for name in SECTIONS), \
        [name for name in SECTIONS if not report.section(name).rows]


def _written(target: str, calls: list[known.Call]) -> str:
    """The calls written by CallStore itself into `target` (as ccf serve writes them)."""
    from ccdsl.runtime.core.events import Event

    with CallStore(target, timezone=known.CENTRE) as store:
        for call in calls:
            for seq, (at, kind, data) in enumerate(known._events(call), start=1):
                store.emit(Event(call.call_id, seq, at, kind, data))
        for call in calls:
            if call.wrapup_ms is not None:
                store.set_wrapup(call.call_id, {"reason": "order"}, call.wrapup_ms)
    return target


def test_a_store_written_on_postgresql_reports_as_one_written_in_sqlite(pg_url, tmp_path):
    ended = [c for c in known.make_calls(seed=8, count=80) if c.outcome is not None]
    stores = (_written(str(tmp_path / "calls.db"), ended), _written(pg_url, ended))
    for interval in INTERVALS:
        _same(stores, Filters(), Options(interval=interval))
    _same(stores, make_filters("2026-11-29", "2026-11-29", queue="service"),
          Options(interval="hour"))
