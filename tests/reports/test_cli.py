"""`ccf report` in-process: every format, the filters, where the store comes
from, and what a bad option or a bad store gets (exit 2, one clear line)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.cli.report import report
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.reports.model import Filters, Options
from ccdsl.runtime.operations.reports.options import filters as make_filters
from reports import backends, known

CALLS = known.make_calls(seed=9, count=60)


@pytest.fixture(scope="module", params=backends.BACKENDS)
def store(request, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("report-cli") / "calls.db")
    known.write_store(path, CALLS)
    return backends.on(request, path)


def _plain(records: list[dict]) -> list[dict]:
    """Records as CSV gives them back: text, and empty for no value."""
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in records]


def test_help() -> None:
    result = ccf("report", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    first = " ".join(report.__doc__.split()).split(".")[0]
    assert first in text
    for option in ("--store", "--config", "--interval", "--from", "--to", "--queue",
                   "--agent", "--flow", "--within", "--section", "--format", "--output",
                   "--minutes", "--now"):
        assert option in text


def test_table(store: str) -> None:
    result = ccf("report", "--store", store)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for title in ("Summary", "Calls per day", "Service level and abandon rate per day",
                  "Per queue", "Per agent", "Per node", "Menu choices"):
        assert title in out
    summary = known.expected_summary(CALLS)
    assert f"store: {store}" in out
    assert f"{summary['answered_pct']:.1f}%" in out
    for row in known.expected_agents(CALLS):
        assert row["agent"] in out


def test_csv_one_section(store: str) -> None:
    result = ccf("report", "--store", store, "--format", "csv", "--section", "queues",
                 "--within", "15s")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows == _plain(known.expected_queues(CALLS, 15_000))


def test_csv_every_section(store: str) -> None:
    result = ccf("report", "--store", store, "-f", "csv", "--interval", "month")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    names = [b.splitlines()[0] for b in blocks]
    assert names == ["# summary", "# calls", "# service", "# queues", "# agents", "# nodes",
                     "# choices"]
    parsed = {b.splitlines()[0][2:]: list(csv.DictReader(io.StringIO(b.split("\n", 1)[1])))
              for b in blocks}
    assert parsed["summary"] == _plain([known.expected_summary(CALLS)])
    assert parsed["calls"] == _plain(known.expected_periods(CALLS, "month"))
    assert parsed["service"] == _plain(known.expected_service(CALLS, "month"))
    assert parsed["agents"] == _plain(known.expected_agents(CALLS))
    assert parsed["choices"] == _plain(known.expected_choices(CALLS))


def test_json(store: str) -> None:
    result = ccf("report", "--store", store, "--format", "json", "--interval", "hour")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["interval"] == "hour" and doc["within_ms"] == 20_000
    sections = doc["sections"]
    assert sections["summary"] == [known.expected_summary(CALLS)]
    assert sections["calls"] == known.expected_periods(CALLS, "hour")
    assert sections["queues"] == known.expected_queues(CALLS, 20_000)
    assert sections["agents"] == known.expected_agents(CALLS)
    assert sections["nodes"] == known.expected_nodes(CALLS)
    assert sections["choices"] == known.expected_choices(CALLS)


def test_json_with_filters(store: str) -> None:
    result = ccf("report", "--store", store, "-f", "json", "--from", "2026-11-28",
                 "--to", "2026-11-29", "--queue", "sales", "--flow", "hotline")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["filters"] == {"from": "2026-11-28T00:00:00", "to": "2026-11-30T00:00:00",
                              "queue": "sales", "agent": None, "flow": "hotline"}

    def when(moment) -> bool:
        return "2026-11-28" <= known.local(moment) < "2026-11-30"

    calls = [c for c in CALLS if c.flow == "hotline" and any(v.queue == "sales"
                                                            for v in c.visits)]
    assert doc["sections"]["summary"] == [known.expected_summary(
        [c for c in calls if when(c.start)])]
    assert doc["sections"]["queues"] == known.expected_queues(calls, 20_000, when, "sales")
    assert doc["sections"]["agents"] == known.expected_agents(calls, when, "sales")


def test_agent_filter_and_section(store: str) -> None:
    result = ccf("report", "--store", store, "-f", "json", "--agent", "zhao",
                 "--section", "agents")
    doc = json.loads(result.stdout)
    assert list(doc["sections"]) == ["agents"]
    assert doc["sections"]["agents"] == known.expected_agents(CALLS, agent="zhao")


def test_html_file(store: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = ccf("report", "--store", store, "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for name in ("summary", "calls", "queues", "agents", "nodes", "choices"):
        # named by its section's heading (the nodes' steps by their own h3 too)
        assert f'<table id="table-{name}" aria-labelledby="title-{name}' in page
    assert page.count("<svg") == 6  # every section but the summary has a chart
    assert "<script" not in page
    # self-contained: nothing fetched (the only URL is the SVG namespace)
    assert page.replace('xmlns="http://www.w3.org/2000/svg"', "").count("http") == 0
    for row in known.expected_queues(CALLS, 20_000):
        assert f"<td>{row['queue']}</td>" in page
    import re
    import xml.etree.ElementTree as ET

    for chart in re.findall(r"<svg.*?</svg>", page, re.S):
        root = ET.fromstring(chart)  # well-formed SVG, bars with their values
        bars = root.findall("{http://www.w3.org/2000/svg}rect")
        assert bars and all(float(b.get("height")) >= 0 for b in bars)


def test_html_to_stdout_and_realtime_line(store: str) -> None:
    result = ccf("report", "--store", store, "-f", "html", "--interval", "realtime",
                 "--minutes", "90", "--now", "2026-11-30 10:30 Asia/Shanghai")
    assert result.exit_code == 0, result.output
    assert "<polyline" in result.stdout  # 90 minutes: a line, not 90 bars
    assert "the last 90 minutes" in result.stdout


def test_table_to_a_file(store: str, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    result = ccf("report", "--store", store, "-o", str(out))
    assert result.exit_code == 0
    assert "Per agent" in out.read_text(encoding="utf-8")
    assert "\x1b[" not in out.read_text(encoding="utf-8")  # no colour codes in a file


def test_store_from_the_environment(store: str) -> None:
    result = ccf("report", "-f", "json", "-s", "summary", env={"CCF_STORE": store})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store"] == store


def test_store_from_ccf_toml(store: str, tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "ccf.toml"
    config.write_text(f'[store]\nurl = "{store}"\n' if store.startswith("postgresql:")
                      else f'[paths]\nstore = "{store}"\n', encoding="utf-8")
    result = ccf("report", "--config", str(config), "-f", "json", "-s", "summary")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sections"]["summary"][0]["calls"] == len(CALLS)
    monkeypatch.chdir(tmp_path)  # ./ccf.toml when nothing else names the store
    result = ccf("report", "-f", "json", "-s", "summary", env={"CCF_STORE": None,
                                                                "CCF_CONFIG": None})
    assert result.exit_code == 0, result.output


def _fails(*args: str, env: dict | None = None) -> str:
    result = ccf("report", *args, env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return result.output


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "yesterday"), "--from 'yesterday' is not a date or a time"),
    (("--from", "2026-13-01"), "--from '2026-13-01'"),
    (("--from", "2026-11-30", "--to", "2026-11-29"), "is not before --to"),
    (("--within", "soon"), "--within 'soon' is not a duration"),
    # both were internal errors (an overflow) before
    (("--within", "999999999999999999999"), "is longer than a day"),
    (("--from", "2026-11-30", "--to", "9999-12-31"), "--to '9999-12-31' is out of range"),
    (("--minutes", "10"), "--minutes and --now go with --interval realtime"),
    (("--interval", "realtime", "--from", "2026-11-30"), "do not go with --interval realtime"),
    (("--interval", "realtime", "--minutes", "0"), "give 1 to 1440 minutes"),
    (("--interval", "realtime", "--now", "teatime"), "--now"),
    (("--interval", "week",), "week"),
    (("--section", "everything"), "everything"),
    (("--format", "pdf"), "pdf"),
])
def test_bad_options(store: str, args: tuple, message: str) -> None:
    assert message in _fails("--store", store, *args)


def test_no_store_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = _fails(env={"CCF_STORE": None, "CCF_CONFIG": None})
    assert "no call store given" in out and "--store" in out


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    assert f"there is no call store at `{missing}`" in _fails("--store", str(missing))
    assert not missing.exists()


def test_files_that_are_not_call_stores(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 200, encoding="utf-8")
    assert "is not a call store" in _fails("--store", str(text))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE things (x)")
    db.close()
    assert "is not a call store (no table meta, calls" in _fails("--store", str(other))
    assert "is a" in _fails("--store", str(tmp_path))  # typer's check: "is a directory"


def test_a_bad_ccf_toml(tmp_path: Path) -> None:
    config = tmp_path / "ccf.toml"
    config.write_text("[paths]\nstore = 5\n", encoding="utf-8")
    out = _fails("--config", str(config))
    assert "paths.store" in out
    assert "no such file" in _fails("--config", str(tmp_path / "absent.toml"))


def test_an_empty_store(tmp_path: Path) -> None:
    from ccdsl.runtime.operations.store import CallStore

    path = tmp_path / "empty.db"
    CallStore(path).close()
    result = ccf("report", "--store", str(path))
    assert result.exit_code == 0
    assert "nothing in this range" in result.stdout
    doc = json.loads(ccf("report", "--store", str(path), "-f", "json").stdout)
    assert doc["sections"]["queues"] == [] and doc["sections"]["summary"][0]["calls"] == 0
    page = ccf("report", "--store", str(path), "-f", "html").stdout
    assert "Nothing in this range." in page


def test_the_report_matches_make_report(store: str) -> None:
    """The CLI's JSON is make_report's data, whatever it is printed as."""
    chosen = make_filters("2026-11-29", None)
    made = make_report(store, chosen, Options(interval="auto"))
    doc = json.loads(ccf("report", "--store", store, "-f", "json", "--from",
                         "2026-11-29").stdout)
    assert doc["sections"] == {s.name: s.records() for s in made.sections}
    # no --interval: the range's, the 29th to the last call on the 30th, per hour
    assert doc["interval"] == made.options.interval == "hour"
    assert made.filters == Filters(start="2026-11-29T00:00:00")
