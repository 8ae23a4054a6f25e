"""One time zone rule for both runtimes: the call store keeps UTC, reports and
listings show the centre's zone. The same call through the simulator and through
the FastAGI server lands in the same local hour and day."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from calls.world import SCENARIOS, over_fastagi, run_test_call
from ccdsl.cli.main import app
from ccdsl.runtime.asterisk.config import ConfigError, config_from_document
from ccdsl.runtime.operations.centre_time import local_ms_sql, offsets
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.reports.model import Options
from ccdsl.runtime.operations.store import CallStore

AFTER_HOURS = SCENARIOS / "after_hours_line.ccf"
OPEN = "open hours: no closed announcement"  # at 2026-11-30 10:00 Asia/Shanghai


def _simulated(tmp_path: Path) -> Path:
    store = tmp_path / "sim.db"
    run_test_call(AFTER_HOURS, OPEN, tmp_path / "sim", store)
    return store


def _over_fastagi(tmp_path: Path) -> Path:
    store = tmp_path / "agi.db"
    over_fastagi(AFTER_HOURS, (OPEN,), tmp_path / "agi", store)
    return store


@pytest.mark.parametrize("runtime", [_simulated, _over_fastagi], ids=["simulator", "fastagi"])
def test_both_runtimes_store_utc_and_report_the_centres_hour(tmp_path, runtime):
    store = runtime(tmp_path)
    with CallStore(store) as calls:
        (row,) = calls.query("SELECT started, started_ms FROM calls")
        (zone,) = calls.query("SELECT value FROM meta WHERE key='timezone'")
    assert row["started"].startswith("2026-11-30T02:00:00")
    assert row["started"].endswith("+00:00")
    assert row["started_ms"] == int(datetime(2026, 11, 30, 2, tzinfo=UTC).timestamp() * 1000)
    assert zone["value"] == "Asia/Shanghai"
    hours = make_report(str(store), options=Options(interval="hour"))
    assert hours.zone == "Asia/Shanghai"
    assert hours.section("calls").column("period") == ["2026-11-30 10:00"]
    days = make_report(str(store), options=Options(interval="day", zone="America/New_York"))
    assert days.section("calls").column("period") == ["2026-11-29"]
    listing = CliRunner().invoke(app, ["calls", "list", "--store", str(store)])
    assert listing.exit_code == 0, listing.output
    assert "2026-11-30T10:00:00+08:00" in listing.stdout


def test_a_store_of_local_times_from_before_reports_the_same(tmp_path):
    """Schema 4 kept each call's local text with its offset: the report reads
    the UTC milliseconds, so those rows count in the same local hour."""
    store = _simulated(tmp_path)
    raw = sqlite3.connect(store)
    raw.execute("UPDATE calls SET started = '2026-11-30T10:00:00+08:00'")
    raw.commit()
    raw.close()
    report = make_report(str(store), options=Options(interval="hour"))
    assert report.section("calls").column("period") == ["2026-11-30 10:00"]


def test_ccf_toml_names_the_centres_zone(tmp_path):
    file = tmp_path / "ccf.toml"
    config = config_from_document({"centre": {"timezone": "Asia/Shanghai"}}, file, {})
    assert config.timezone == "Asia/Shanghai"
    assert config_from_document({}, file, {}).timezone is None
    with pytest.raises(ConfigError) as caught:
        config_from_document({"centre": {"timezone": "Mars/Olympus"}}, file, {})
    assert "centre.timezone" in str(caught.value) and "Mars/Olympus" in str(caught.value)


def test_a_report_refuses_a_zone_that_is_not_one(tmp_path):
    store = _simulated(tmp_path)
    result = CliRunner().invoke(app, ["report", "--store", str(store), "--zone", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "--zone" in result.stderr and "Mars/Olympus" in result.stderr
    assert "Traceback" not in result.output


def test_summer_time_changes_are_found_to_the_minute():
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found = offsets(new_york, int(start.timestamp() * 1000),
                    int((start + timedelta(days=365)).timestamp() * 1000))
    changes = [(datetime.fromtimestamp(ms / 1000, UTC), off // 3_600_000) for ms, off in found]
    assert changes == [(start, -5), (datetime(2026, 3, 8, 7, tzinfo=UTC), -4),
                       (datetime(2026, 11, 1, 6, tzinfo=UTC), -5)]


ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe",
         "Asia/Kolkata", "America/Santiago", "UTC")
YEAR_MS = 365 * 86_400_000
EPOCH_2026 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES),
       span=st.tuples(st.integers(0, 3 * YEAR_MS), st.integers(0, 3 * YEAR_MS)),
       moments=st.lists(st.integers(0, 3 * YEAR_MS), min_size=1, max_size=20))
def test_the_sql_local_time_is_pythons_for_every_moment_in_range(zone, span, moments):
    """Whatever the zone and the range, SQLite's shifted milliseconds give the
    local wall time zoneinfo gives, summer time changes included."""
    lo, hi = EPOCH_2026 + min(span), EPOCH_2026 + max(span)
    tz = ZoneInfo(zone)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (ms INTEGER)")
    inside = [lo + m % (hi - lo + 1) for m in moments]
    db.executemany("INSERT INTO t VALUES (?)", [(m,) for m in inside])
    sql = local_ms_sql("ms", tz, lo, hi)
    for ms, local in db.execute(f"SELECT ms, {sql} FROM t"):
        wall = datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).replace(tzinfo=None)
        assert datetime(1970, 1, 1) + timedelta(milliseconds=local) == wall
