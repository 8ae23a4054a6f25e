"""Agents' time in state and occupancy (`agent_time`, `agent_pauses`): a real call store
with hand-written `agent_state` rows at known times, and the exact seconds they make."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ccf_cli import ccf

from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.reports.model import Filters, Options
from ccdsl.runtime.operations.reports.options import filters as make_filters
from ccdsl.runtime.operations.store import CallStore
from reports import backends

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = "2026-12-01"


def _at(clock: str) -> datetime:
    return datetime.fromisoformat(f"{DAY}T{clock}").replace(tzinfo=SHANGHAI)


# (local time, agent, state, reason, from, from_reason, seconds in the state left)
ROWS = [
    # li: a call, a break and lunch inside 09:00-12:00, logged out at 11:45
    ("08:50:00", "li", "ready", None, "logged_out", None, 3600),
    ("09:10:00", "li", "ringing", None, "ready", None, 1200),
    ("09:10:20", "li", "on_call", None, "ringing", None, 20),
    ("09:20:20", "li", "wrapup", None, "on_call", None, 600),
    ("09:22:20", "li", "ready", None, "wrapup", None, 120),
    ("10:00:00", "li", "paused", "break", "ready", None, 2260),
    ("10:15:00", "li", "ready", None, "paused", "break", 900),
    ("11:00:00", "li", "paused", "lunch", "ready", None, 2700),
    ("11:30:00", "li", "ready", None, "paused", "lunch", 1800),
    ("11:45:00", "li", "logged_out", None, "ready", None, 900),
    # wang: on a call since before the range, paused for training at its end
    ("07:00:00", "wang", "ready", None, "logged_out", None, 100),
    ("08:30:00", "wang", "on_call", None, "ready", None, 5400),
    ("09:30:00", "wang", "ready", None, "on_call", None, 3600),
    ("11:50:00", "wang", "paused", "training", "ready", None, 8400),
    # zhao: logged out before the range, no row in it
    ("08:00:00", "zhao", "ready", None, "logged_out", None, 60),
    ("08:30:00", "zhao", "logged_out", None, "ready", None, 1800),
    # sun: the server restarted at 10:00 and began sun ready afresh (no row)
    ("09:00:00", "sun", "ready", None, "logged_out", None, 10),
    ("09:30:00", "sun", "on_call", None, "ready", None, 1800),
    ("10:20:00", "sun", "paused", "break", "ready", None, 1200),
    # ma: ready since the server started at 07:30, first row inside the range
    ("09:30:00", "ma", "on_call", None, "ready", None, 7200),
    ("09:40:00", "ma", "ready", None, "on_call", None, 600),
    # chen: only after the range
    ("13:00:00", "chen", "ready", None, "logged_out", None, 5),
]


def write_rows(path: Path, rows=ROWS) -> str:
    with CallStore(path, timezone="Asia/Shanghai") as store:
        for clock, agent, state, reason, before, before_reason, seconds in rows:
            store.record_centre_event("console", "agent_state", {
                "agent": agent, "state": state, "reason": reason, "from": before,
                "from_reason": before_reason, "seconds_in_previous": seconds},
                at=_at(clock))
    return str(path)


@pytest.fixture(scope="module", params=backends.BACKENDS)
def store(request, tmp_path_factory) -> str:
    return backends.on(request, write_rows(tmp_path_factory.mktemp("agent-time") / "calls.db"))


def _times(store: str, start: str | None = f"{DAY} 09:00", end: str | None = f"{DAY} 12:00",
           now: str = "2026-12-02T08:00:00", agent: str | None = None, **options):
    report = make_report(store, make_filters(start, end, agent=agent), Options(**options),
                         now=datetime.fromisoformat(now).replace(tzinfo=SHANGHAI))
    return ({r["agent"]: r for r in report.section("agent_time").records()},
            {(r["agent"], r["reason"]): r["paused_ms"]
             for r in report.section("agent_pauses").records()})


def _s(row: dict) -> dict:
    """A row's times in seconds."""
    return {k.removesuffix("_ms"): v / 1000 for k, v in row.items() if k.endswith("_ms")}


def test_time_in_each_state_within_the_range(store: str) -> None:
    times, pauses = _times(store)
    assert _s(times["li"]) == {"logged_in": 9900, "ready": 6460, "paused": 2700,
                               "ringing": 20, "talk": 600, "wrapup": 120}
    # (600 + 120) / (9900 - 2700)
    assert times["li"]["occupancy_pct"] == 10.0
    assert pauses[("li", "break")] == 900_000 and pauses[("li", "lunch")] == 1_800_000


def test_a_state_begun_before_the_range_counts_from_its_start(store: str) -> None:
    times, pauses = _times(store)
    # on a call since 08:30: from 09:00; paused at 11:50 and still at 12:00
    assert _s(times["wang"]) == {"logged_in": 10800, "ready": 8400, "paused": 600,
                                 "ringing": 0, "talk": 1800, "wrapup": 0}
    assert times["wang"]["occupancy_pct"] == round(100 * 1800 / 10200, 1) == 17.6
    assert pauses[("wang", "training")] == 600_000
    # ma's first row says ready lasted 2 h before 09:30: from 09:00 here
    assert _s(times["ma"])["ready"] == 1800 + 8400  # and 09:40-12:00
    assert _s(times["ma"])["talk"] == 600


def test_a_restart_between_two_rows(store: str) -> None:
    """sun's on_call at 09:30 was left by a restart at 10:00: the next row says it left
    `ready` after 1200 s, so on_call lasted until 10:00 and ready from then."""
    times, pauses = _times(store)
    assert _s(times["sun"]) == {"logged_in": 10800, "ready": 1800 + 1200, "paused": 6000,
                                "ringing": 0, "talk": 1800, "wrapup": 0}
    assert times["sun"]["occupancy_pct"] == 37.5  # 1800 / (10800 - 6000)
    assert pauses[("sun", "break")] == 6_000_000


def test_agents_logged_out_all_range_or_without_rows_are_not_listed(store: str) -> None:
    times, _ = _times(store)
    assert sorted(times) == ["li", "ma", "sun", "wang"]  # not zhao, nor chen (after it)


def test_a_state_open_at_the_end_counts_to_now(store: str) -> None:
    """Without --to, and with a --to later than now: the open states count up to now."""
    for end in (None, f"{DAY} 23:59"):
        times, pauses = _times(store, end=end, now=f"{DAY}T12:30:00")
        assert pauses[("wang", "training")] == 2_400_000  # 11:50 to 12:30
        assert _s(times["ma"])["ready"] == 1800 + 10_200  # and 09:40 to 12:30
        assert "chen" not in times  # 13:00 is after now


def test_a_narrow_range_inside_one_state(store: str) -> None:
    times, pauses = _times(store, start=f"{DAY} 10:05", end=f"{DAY} 10:10")
    assert _s(times["li"])["paused"] == 300 and _s(times["li"])["logged_in"] == 300
    assert times["li"]["occupancy_pct"] is None  # paused all along: nothing to occupy
    assert pauses[("li", "break")] == 300_000
    assert times["wang"]["occupancy_pct"] == 0.0


def test_without_a_range_every_change_counts(store: str) -> None:
    times, _ = _times(store, start=None, end=None, now=f"{DAY}T14:00:00")
    # chen ready since 13:00 (the row's `from` logged_out counts as nothing)
    assert _s(times["chen"]) == {"logged_in": 3600, "ready": 3600, "paused": 0, "ringing": 0,
                                 "talk": 0, "wrapup": 0}
    # zhao: 08:00-08:30 ready
    assert _s(times["zhao"])["logged_in"] == 1800


def test_the_range_is_in_the_reports_zone(store: str) -> None:
    shanghai, _ = _times(store)
    utc, _ = _times(store, start=f"{DAY} 01:00", end=f"{DAY} 04:00", zone="UTC")
    assert utc == shanghai


def test_the_agent_filter(store: str) -> None:
    times, pauses = _times(store, agent="li")
    assert list(times) == ["li"] and {a for a, _ in pauses} == {"li"}


def test_realtime_window(store: str) -> None:
    report = make_report(store, Filters(), Options(interval="realtime", minutes=30),
                         now=_at("11:59:30"))
    rows = {r["agent"]: r for r in report.section("agent_time").records()}
    # 11:30:00 to 11:59:30: li ready 15 min then logged out; wang paused from 11:50
    assert rows["li"]["logged_in_ms"] == 900_000
    assert rows["wang"]["paused_ms"] == 570_000 and rows["wang"]["ready_ms"] == 1_200_000


def test_a_store_without_agent_states(tmp_path: Path) -> None:
    """Simulated calls only: no agent time sections, unless asked for by name (empty)."""
    path = str(tmp_path / "calls.db")
    CallStore(path).close()
    made = make_report(path)
    assert [s.name for s in made.sections] == [
        "summary", "calls", "service", "queues", "agents", "nodes", "choices"]
    assert made.agent_states is False  # which the renderings say (test_report_html.py)
    asked = make_report(path, wanted=("agent_time", "agent_pauses"))
    assert [(s.name, s.rows) for s in asked.sections] == [("agent_time", ()),
                                                          ("agent_pauses", ())]


def test_every_section_with_agent_states(store: str) -> None:
    names = [s.name for s in make_report(store).sections]
    assert names == ["summary", "calls", "service", "queues", "agents", "agent_time",
                     "agent_pauses", "nodes", "choices"]


def test_json_text_and_html(store: str, tmp_path: Path) -> None:
    span = ("--from", f"{DAY} 09:00", "--to", f"{DAY} 12:00")
    result = ccf("report", "--store", store, "-f", "json", *span)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    li = next(r for r in doc["sections"]["agent_time"] if r["agent"] == "li")
    assert li == {"agent": "li", "logged_in_ms": 9_900_000, "ready_ms": 6_460_000,
                  "paused_ms": 2_700_000, "ringing_ms": 20_000, "talk_ms": 600_000,
                  "wrapup_ms": 120_000, "occupancy_pct": 10.0}
    assert {"agent": "li", "reason": "lunch", "paused_ms": 1_800_000,
            "paused_pct": round(100 * 1800 / 9900, 1)} in doc["sections"]["agent_pauses"]

    result = ccf("report", "--store", store, "-s", "agent_time", *span)
    assert result.exit_code == 0, result.output
    assert "Agents' time in state" in result.stdout and "Occupancy %" in result.stdout
    li_line = next(line for line in result.stdout.splitlines() if " li " in line)
    assert "2:45:00" in li_line and "10.0%" in li_line

    page = tmp_path / "report.html"
    result = ccf("report", "--store", store, "-f", "html", "-o", str(page), *span)
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert '<table id="table-agent_time" aria-labelledby="title-agent_time">' in html
    assert '<table id="table-agent_pauses" aria-labelledby="title-agent_pauses">' in html
    assert "<td>training</td>" in html


def test_rows_that_are_not_agent_states_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    write_rows(path, [("09:00:00", "li", "ready", None, "logged_out", None, 1)])
    with CallStore(path) as store:
        store.record_centre_event("console", "agent_state", {"agent": 5}, at=_at("09:10:00"))
        store.record_centre_event("console", "agent_state", {"agent": "li", "state": "on_call",
                                                             "from": "ready"},
                                  at=_at("09:20:00"))
    report = make_report(str(path), make_filters(f"{DAY} 09:00", f"{DAY} 10:00"),
                         now=_at("12:00:00"))
    (row,) = report.section("agent_time").records()
    assert row["ready_ms"] == 1_200_000 and row["talk_ms"] == 2_400_000
    assert timedelta(milliseconds=row["logged_in_ms"]) == timedelta(hours=1)


def test_docs_define_every_figure(store: str) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text("utf-8")
    for section in make_report(store, wanted=("agent_time", "agent_pauses")).sections:
        part = text.split(f"### {section.name} ", 1)[1].split("\n### ", 1)[0]
        for column in section.columns:
            assert column.key in part, (section.name, column.key)


def test_a_store_no_centre_writes_any_more_ends_open_states_at_its_last_moment(
        tmp_path: Path) -> None:
    """A simulated centre (ccf serve --simulate) stamps its rows on its own clock, days
    before the report is made: once it stopped (its run ended), an agent still paused or
    ready at its last row is not counted as logged in until the real now."""
    from ccdsl.runtime.core.events import Event

    path = tmp_path / "calls.db"
    rows = [("09:00:00", "wang", "ready", None, "logged_out", None, 10),
            ("09:10:00", "wang", "paused", "training", "ready", None, 600)]
    with CallStore(path, timezone="Asia/Shanghai") as calls:
        for clock, agent, state, reason, before, before_reason, seconds in rows:
            calls.record_centre_event("console", "agent_state", {
                "agent": agent, "state": state, "reason": reason, "from": before,
                "from_reason": before_reason, "seconds_in_previous": seconds}, at=_at(clock))
        calls.emit(Event("sim-1", 1, _at("09:05:00"), "call_started",
                         {"caller": "+8613800000001", "dialled": "", "flow": "hotline",
                          "flow_version": "1"}))
        calls.emit(Event("sim-1", 2, _at("09:30:00"), "call_ended",
                         {"outcome": "hangup", "duration_ms": 1_500_000}))
    times, pauses = _times(str(path), start=None, end=None, now="2026-12-06T18:00:00")
    assert pauses[("wang", "training")] == 1_200_000  # 09:10 to the call's end at 09:30
    assert _s(times["wang"])["logged_in"] == 1800
    # nor up to a --to after the centre stopped: nobody was logged in to it then
    times, pauses = _times(str(path), start=f"{DAY} 09:00", end=f"{DAY} 10:00",
                           now="2026-12-06T18:00:00")
    assert pauses[("wang", "training")] == 1_200_000
    times, pauses = _times(str(path), start=f"{DAY} 09:00", end=f"{DAY} 09:20",
                           now="2026-12-06T18:00:00")
    assert pauses[("wang", "training")] == 600_000
