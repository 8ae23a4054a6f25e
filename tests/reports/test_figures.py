"""Every figure of every section, against a count made from the calls the
store was given (tests/reports/known.py), unfiltered and with each filter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.reports.model import Filters, Options
from ccdsl.runtime.operations.reports.options import filters as make_filters
from reports import backends, known

CALLS = known.make_calls()


@pytest.fixture(scope="module", params=backends.BACKENDS)
def store(request, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("reports") / "calls.db")
    known.write_store(path, CALLS)
    return backends.on(request, path)


def test_the_known_calls_have_every_shape_the_report_counts() -> None:
    outcomes = {c.outcome for c in CALLS}
    assert {"hangup", "abandoned", "voicemail", "transfer", None} <= outcomes
    visit_outcomes = {v.outcome for c in CALLS for v in c.visits}
    assert visit_outcomes == {"answered", "timeout", "empty", "hangup"}
    assert {o.outcome for c in CALLS for _, o in c.offers} == {"answered", "missed",
                                                               "caller_gone"}
    assert any(n.dropped for c in CALLS for n in c.nodes)
    assert any(c.start.utcoffset() != CALLS[1].start.utcoffset() for c in CALLS)


def _report(store: str, filters: Filters = Filters(), **options):
    return make_report(store, filters, Options(**options))


def test_summary(store: str) -> None:
    report = _report(store)
    assert report.section("summary").records() == [known.expected_summary(CALLS)]


@pytest.mark.parametrize("interval", ["hour", "day", "month", "year"])
def test_calls_per_interval(store: str, interval: str) -> None:
    report = _report(store, interval=interval)
    assert report.section("calls").records() == known.expected_periods(CALLS, interval)


@pytest.mark.parametrize("within_ms", [20_000, 4_000])
def test_queues(store: str, within_ms: int) -> None:
    report = _report(store, within_ms=within_ms)
    assert report.section("queues").records() == known.expected_queues(CALLS, within_ms)


def test_agents(store: str) -> None:
    assert _report(store).section("agents").records() == known.expected_agents(CALLS)


def test_nodes_and_choices(store: str) -> None:
    report = _report(store)
    assert report.section("nodes").records() == known.expected_nodes(CALLS)
    assert report.section("choices").records() == known.expected_choices(CALLS)


def test_a_local_day_is_the_centres_day_whatever_the_calls_clock(store: str) -> None:
    """--from/--to 2026-11-29: the calls that started on the 29th in the
    centre's zone, the store's (New York's calls by their Shanghai time
    too), and the visits, offers and nodes of any call that happened on
    the centre's 29th."""
    chosen = make_filters("2026-11-29", "2026-11-29")

    def when(moment: datetime) -> bool:
        return "2026-11-29T00:00:00" <= known.local(moment) < "2026-11-30T00:00:00"

    calls = [c for c in CALLS if when(c.start)]
    assert any(c.start.tzinfo is known.NEW_YORK for c in calls)
    # one of New York's calls on the centre's 29th was still on the 28th there
    assert any(c.start.tzinfo is known.NEW_YORK and c.start.day == 28 for c in calls)
    report = _report(store, chosen, interval="hour")
    assert report.zone == known.CENTRE
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("calls").records() == known.expected_periods(calls, "hour")
    assert report.section("queues").records() == known.expected_queues(CALLS, 20_000, when)
    assert report.section("agents").records() == known.expected_agents(CALLS, when)
    assert report.section("nodes").records() == known.expected_nodes(CALLS, when)
    assert report.section("choices").records() == known.expected_choices(CALLS, when)


def test_a_range_of_times(store: str) -> None:
    chosen = make_filters("2026-11-28 09:30", "2026-11-30 10:00")

    def when(moment: datetime) -> bool:
        return "2026-11-28T09:30:00" <= known.local(moment) < "2026-11-30T10:00:00"

    calls = [c for c in CALLS if when(c.start)]
    assert 0 < len(calls) < len(CALLS)
    report = _report(store, chosen)
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("nodes").records() == known.expected_nodes(CALLS, when)


def test_flow_filter(store: str) -> None:
    calls = [c for c in CALLS if c.flow == "sales"]
    report = _report(store, Filters(flow="sales"))
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("calls").records() == known.expected_periods(calls, "day")
    assert report.section("queues").records() == known.expected_queues(calls, 20_000)
    assert report.section("agents").records() == known.expected_agents(calls)
    assert report.section("nodes").records() == known.expected_nodes(calls)
    assert report.section("choices").records() == known.expected_choices(calls)


def test_queue_filter(store: str) -> None:
    """The calls that joined `vip`; only vip's row; only offers made from vip."""
    calls = [c for c in CALLS if any(v.queue == "vip" for v in c.visits)]
    report = _report(store, Filters(queue="vip"))
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("queues").records() == known.expected_queues(calls, 20_000,
                                                                        queue="vip")
    assert report.section("agents").records() == known.expected_agents(calls, queue="vip")
    assert report.section("nodes").records() == known.expected_nodes(calls)


def test_agent_filter(store: str) -> None:
    """The calls offered to `li`; only li's row."""
    calls = [c for c in CALLS if any(o.agent == "li" for _, o in c.offers)]
    report = _report(store, Filters(agent="li"))
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("queues").records() == known.expected_queues(calls, 20_000)
    agents = report.section("agents").records()
    assert agents == known.expected_agents(calls, agent="li")
    assert [a["agent"] for a in agents] == ["li"]
    assert report.section("choices").records() == known.expected_choices(calls)


def test_filters_together(store: str) -> None:
    calls = [c for c in CALLS if c.flow == "hotline"
             and any(v.queue == "service" for v in c.visits)
             and any(o.agent == "wang" for _, o in c.offers)]
    assert calls
    report = _report(store, Filters(queue="service", agent="wang", flow="hotline"))
    assert report.section("summary").records() == [known.expected_summary(calls)]
    assert report.section("agents").records() == known.expected_agents(
        calls, queue="service", agent="wang")


def test_an_unknown_queue_gives_empty_sections(store: str) -> None:
    report = _report(store, Filters(queue="nobody"))
    summary = report.section("summary").records()[0]
    assert summary["calls"] == 0 and summary["avg_duration_ms"] is None
    for name in ("calls", "queues", "agents", "nodes", "choices"):
        assert report.section(name).rows == ()


def test_realtime(store: str) -> None:
    """The last 30 minutes up to 2026-11-30 10:20 Shanghai time, minute by
    minute, every minute listed; in progress: every call of the last day
    without an outcome."""
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 30, 10, 20, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    report = make_report(store, Filters(), Options(interval="realtime", minutes=30), now=now)
    rows = report.section("calls").records()
    assert len(rows) == 30
    assert rows[0]["period"] == "2026-11-30 09:51" and rows[-1]["period"] == "2026-11-30 10:20"
    window = [c for c in CALLS
              if "2026-11-30T09:51:00" <= known.local(c.start) < "2026-11-30T10:21:00"]
    assert window
    assert sum(r["calls"] for r in rows) == len(window)
    for row in rows:
        minute = [c for c in window if known.local(c.start)[:16] == row["period"]
                  .replace(" ", "T")]
        assert row["calls"] == len(minute)
        assert row["answered"] == sum(c.talked for c in minute)
    now_s = now.timestamp()
    live = [c for c in CALLS if c.outcome is None and 0 <= now_s - c.start.timestamp() <= 86_400]
    assert report.section("summary").records()[0]["in_progress"] == len(live)


def test_an_empty_store(tmp_path: Path) -> None:
    from ccdsl.runtime.operations.store import CallStore

    path = str(tmp_path / "empty.db")
    CallStore(path).close()
    report = make_report(path)
    assert report.section("summary").records()[0]["calls"] == 0
    assert all(s.rows == () for s in report.sections if s.name != "summary")


def test_docs_define_every_figure(store: str) -> None:
    """docs/reports.md names every column of every section."""
    import re

    text = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text("utf-8")
    for section in _report(store).sections:
        assert f"### {section.name}" in text
        for column in section.columns:
            assert re.search(rf"\b{column.key}\b", text), f"{section.name}.{column.key}"


def test_a_report_reads_while_a_store_writes(tmp_path: Path) -> None:
    """A live store (WAL, one writer) and a report at the same time: the
    report sees every committed call, the one in progress as in progress."""
    from ccdsl.runtime.core.events import Event
    from ccdsl.runtime.operations.store import CallStore

    path = str(tmp_path / "live.db")
    at = datetime(2026, 11, 30, 10, 0, tzinfo=known.SHANGHAI)
    with CallStore(path) as store:
        store.emit(Event("live-1", 1, at, "call_started", {"flow": "hotline"}))
        store.emit(Event("live-1", 2, at, "step_entered", {"step": "main_menu"}))
        store.flush()
        summary = make_report(path).section("summary").records()[0]
        assert (summary["calls"], summary["in_progress"]) == (1, 1)
    summary = make_report(path).section("summary").records()[0]
    assert (summary["calls"], summary["in_progress"]) == (1, 0)  # closing finished it


@pytest.mark.parametrize("interval", ["hour", "day"])
def test_another_zone_asked_for_moves_periods_and_ranges(store: str, interval: str) -> None:
    """--zone America/New_York: the same calls counted on New York's clock,
    and --from/--to read in it."""
    zone = "America/New_York"
    report = _report(store, interval=interval, zone=zone)
    assert report.zone == zone
    assert report.section("calls").records() == known.expected_periods(CALLS, interval, zone)
    chosen = make_filters("2026-11-29", "2026-11-29")
    calls = [c for c in CALLS
             if "2026-11-29T00:00:00" <= known.local(c.start, zone) < "2026-11-30T00:00:00"]
    report = _report(store, chosen, interval=interval, zone=zone)
    assert report.section("summary").records() == [known.expected_summary(calls)]
    day = (datetime(2026, 11, 29, tzinfo=known.NEW_YORK),
           datetime(2026, 11, 30, tzinfo=known.NEW_YORK))
    assert report.section("calls").records() == known.expected_periods(calls, interval, zone,
                                                                       span=day)


@pytest.mark.parametrize("interval", ["hour", "day", "month"])
def test_service_per_interval(store: str, interval: str) -> None:
    report = _report(store, interval=interval)
    assert report.section("service").records() == known.expected_service(CALLS, interval)


def test_service_over_a_day_lists_every_hour_of_it(store: str) -> None:
    """The range's every hour, the empty ones with no service level (nothing offered)."""
    chosen = make_filters("2026-11-29", "2026-11-29")
    report = _report(store, chosen, interval="hour", within_ms=4_000)

    def when(moment: datetime) -> bool:
        return "2026-11-29T00:00:00" <= known.local(moment) < "2026-11-30T00:00:00"

    day = (datetime(2026, 11, 29, tzinfo=known.SHANGHAI),
           datetime(2026, 11, 30, tzinfo=known.SHANGHAI))
    rows = report.section("service").records()
    assert rows == known.expected_service(CALLS, "hour", 4_000, span=day, when=when)
    assert len(rows) == 24 and {r["offered"] for r in rows} >= {0}
    assert all(r["service_level_pct"] is None for r in rows if r["offered"] == 0)
    calls = report.section("calls").records()
    assert [r["period"] for r in calls] == [r["period"] for r in rows]
    assert report.covers == ("2026-11-29 00:00", "2026-11-30 00:00")


def test_the_interval_follows_the_range(store: str) -> None:
    """No --interval: hour for up to two days, day up to 92, month beyond."""
    for start, end, interval in (("2026-11-29", "2026-11-30", "hour"),
                                 ("2026-11-01", "2026-11-30", "day"),
                                 ("2026-01-01", "2026-12-31", "month")):
        report = _report(store, make_filters(start, end), interval="auto")
        assert report.options.interval == interval
        assert report.section("calls").title.endswith(f"per {interval}")
    everything = _report(store, interval="auto")  # the first call to the last: 3 days
    assert everything.options.interval == "day"
    assert everything.covers == (known.local(min(c.start for c in CALLS))[:16].replace("T", " "),
                                 known.local(max(c.start for c in CALLS))[:16].replace("T", " "))


def test_every_hour_of_a_day_summer_time_ends() -> None:
    """New York's 2026-11-01 has 25 hours, 01:00 twice: one row for it, 24 in all."""
    from ccdsl.runtime.operations.reports.periods import every_period
    from ccdsl.runtime.operations.reports.sql import Window

    lo = datetime(2026, 11, 1, tzinfo=known.NEW_YORK)
    hi = datetime(2026, 11, 2, tzinfo=known.NEW_YORK)
    found = every_period(Window(int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)),
                         "hour", known.NEW_YORK)
    assert found == known.every_period(lo, hi, "hour", "America/New_York")
    assert len(found) == 24 and found[1] == "2026-11-01 01:00"


def test_some_calls_stay_in_the_ivr() -> None:
    assert any(known.contained(c) for c in CALLS)
    assert any(c.outcome == "hangup" and not known.contained(c) for c in CALLS)
