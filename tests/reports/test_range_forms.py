"""`ccf report --from/--to` read what `--at`, `--since` and `--now` read: a local date or
date and time in the report's zone, and ISO 8601 with an offset or Z (or a moment with a
zone name), which names one instant whatever the report's zone; what the JSON says it
covers reads back into --from and --to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ccf_cli import ccf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ccdsl.cli.exit_codes import USAGE
from reports import backends, known

CALLS = known.make_calls(seed=4, count=40)


@pytest.fixture(scope="module", params=backends.BACKENDS)
def store(request, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("report-range") / "calls.db")
    known.write_store(path, CALLS)
    return backends.on(request, path)


def report(store: str, *args: str) -> dict:
    result = ccf("report", "--store", store, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def figures(doc: dict) -> dict:
    return {"covers": doc["covers"], "summary": doc["sections"]["summary"],
            "calls": doc["sections"]["calls"]}


@pytest.mark.parametrize(("start", "end"), [
    ("2026-11-29T00:00+08:00", "2026-11-30T00:00+08:00"),    # the zone's own offset
    ("2026-11-28T16:00Z", "2026-11-29T16:00:00Z"),           # UTC, Z
    ("2026-11-28T11:00-05:00", "2026-11-29T11:00-05:00"),    # another offset
    ("2026-11-28 16:00 UTC", "2026-11-29 16:00 UTC"),        # a zone name
    ("2026-11-29 00:00 Asia/Shanghai", "2026-11-30T00:00:00.000+08:00"),
])
def test_an_offset_names_the_same_range_as_the_local_day(store: str, start: str,
                                                         end: str) -> None:
    day = report(store, "--zone", known.CENTRE, "--from", "2026-11-29", "--to", "2026-11-29")
    assert day["covers"] == {"from": "2026-11-29 00:00", "to": "2026-11-30 00:00"}
    assert day["sections"]["summary"][0]["calls"] > 0  # the day has calls to count
    given_as = report(store, "--zone", known.CENTRE, "--from", start, "--to", end)
    assert figures(given_as) == figures(day)


def test_an_offset_is_shown_in_the_reports_zone(store: str) -> None:
    doc = report(store, "--zone", "Europe/London", "--from", "2026-11-29T08:30+08:00",
                 "--to", "2026-11-29T18:00+08:00")
    assert doc["covers"] == {"from": "2026-11-29 00:30", "to": "2026-11-29 10:00"}
    assert doc["zone"] == "Europe/London" and doc["interval"] == "hour"


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--from", "2026-11-29T10:00+25:00", '--from: "2026-11-29T10:00+25:00" is not'),
    ("--to", "yesterday", "ISO 8601 such as 2026-11-30T10:00+08:00"),
    ("--from", "2026-11-29 10:00 Mars/Olympus", "is not a time zone"),
    ("--from", "2026-11-29T10:00+08:00 Asia/Shanghai", "both an offset and a time zone"),
])
def test_a_bad_moment_is_one_usage_line(store: str, option: str, value: str,
                                        says: str) -> None:
    result = ccf("report", "--store", store, option, value)
    assert result.exit_code == USAGE
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert says in result.output


def test_an_empty_range_across_forms_is_refused(store: str) -> None:
    result = ccf("report", "--store", store, "--zone", known.CENTRE,
                 "--from", "2026-11-29 10:00", "--to", "2026-11-29T02:00Z")  # 10:00 local
    assert result.exit_code == USAGE and "the range is empty" in result.output


ZONES = st.sampled_from(["UTC", "Asia/Shanghai", "Asia/Kolkata", "America/Caracas"])
MOMENTS = st.datetimes(min_value=datetime(2026, 11, 20), max_value=datetime(2026, 12, 10)
                       ).map(lambda moment: moment.replace(second=0, microsecond=0))


def written(moment: datetime, zone: str, form: int) -> str:
    """The moment as a person may write it: local, ISO 8601 with the offset, with Z,
    with a zone name, with seconds and fractions."""
    aware = moment.replace(tzinfo=ZoneInfo(zone))
    return [aware.strftime("%Y-%m-%d %H:%M"),
            aware.isoformat(timespec="minutes"),
            aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            f"{aware.strftime('%Y-%m-%d %H:%M:%S')} {zone}",
            aware.astimezone(ZoneInfo("Pacific/Auckland")).isoformat()][form]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=ZONES, report_zone=ZONES, first=MOMENTS, length=st.integers(1, 60 * 24 * 5),
       forms=st.tuples(st.integers(0, 4), st.integers(0, 4)))
def test_what_the_json_covers_reads_back_into_from_and_to(store: str, zone: str,
                                                          report_zone: str, first: datetime,
                                                          length: int, forms) -> None:
    last = first + timedelta(minutes=length)
    local = ZoneInfo(report_zone)

    def instant(moment: datetime, form: int) -> datetime:  # a local form: the report's zone
        return moment.replace(tzinfo=local if form == 0 else ZoneInfo(zone))

    assume(instant(first, forms[0]) < instant(last, forms[1]))
    start, end = written(first, zone, forms[0]), written(last, zone, forms[1])
    doc = report(store, "--zone", report_zone, "--from", start, "--to", end)
    covers = doc["covers"]

    def shown(moment: datetime, form: int) -> str:  # the instant in the report's zone
        return instant(moment, form).astimezone(local).strftime("%Y-%m-%d %H:%M")

    assert covers == {"from": shown(first, forms[0]), "to": shown(last, forms[1])}
    again = report(store, "--zone", report_zone, "--from", covers["from"], "--to", covers["to"])
    assert again["covers"] == covers
    assert again["sections"]["summary"][0]["calls"] == doc["sections"]["summary"][0]["calls"]
