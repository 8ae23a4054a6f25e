"""The HTML report's charts and page, read back as a program reads them: the SVG's
structure (whole-number ticks on counts, every period of the range, stacked bars that add
up to the table's figures), handlers apart from menus, the covers line, the flows' graphs,
names from the store escaped, and what is said when the console recorded no agent states.
How it looks in Chromium: tests/browser/test_report_browser.py."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.reports.model import Options
from ccdsl.runtime.operations.reports.options import filters
from ccdsl.runtime.operations.reports.render_html import render
from ccdsl.runtime.operations.reports.svg import ticks
from reports import backends, busy, known

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module", params=backends.BACKENDS)
def store(request, tmp_path_factory) -> str:
    return backends.on(request, busy.write_busy_store(tmp_path_factory.mktemp("busy") /
                                                      "calls.db"))


@pytest.fixture(scope="module")
def report(store: str):
    return make_report(store, filters(busy.DAY, busy.DAY), Options(interval="auto"))


@pytest.fixture(scope="module")
def page(report) -> str:
    return render(report)


def charts(page: str) -> dict[str, ET.Element]:
    """Each section's chart, parsed, by section name."""
    found = {}
    for name, svg in re.findall(r'<section id="(\w+)"><h2 id="title-\1">[^<]*</h2>\s*'
                                r"<figure>(<svg.*?</svg>)", page, re.S):
        found[name] = ET.fromstring(svg)
    return found


def table(page: str, name: str) -> list[dict[str, str]]:
    """A table of the page as rows keyed by its column titles."""
    html = re.search(rf'<table id="table-{name}" aria-labelledby="[^"]*">.*?</table>', page,
                     re.S).group(0)
    root = ET.fromstring(html)
    heads = [th.text for th in root.iter("th")]
    return [dict(zip(heads, ["".join(td.itertext()) for td in tr.iter("td")], strict=True))
            for tr in root.find("tbody")]


def test_every_section_of_a_busy_day_has_its_chart(page: str) -> None:
    assert set(charts(page)) == {"calls", "service", "queues", "agents", "agent_time", "nodes",
                                 "choices"}


def test_count_axes_tick_at_whole_numbers(page: str) -> None:
    for name, svg in charts(page).items():
        if name in ("service", "agent_time"):
            continue  # percentages, durations
        found = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick"]
        assert found, name
        assert all(re.fullmatch(r"\d[\d,]*", text) for text in found), (name, found)
    for top in range(0, 40):  # a small count never gets 0.5 or 2.5
        assert all(float(t).is_integer() for t in ticks(top, integer=True))


def test_every_hour_of_the_day_is_on_the_period_charts(page: str, report) -> None:
    hours = [f"{h:02d}:00" for h in range(24)]
    for name in ("calls", "service"):
        svg = charts(page)[name]
        assert svg.get("data-periods") == "24"
    columns = charts(page)["calls"]
    labels = [r.get("data-label") for r in columns.iter(f"{SVG}rect") if r.get("data-label")]
    assert list(dict.fromkeys(labels)) == hours  # the empty hours too, as 0-high columns
    per_hour = {}
    for rect in columns.iter(f"{SVG}rect"):
        if rect.get("data-label"):
            per_hour[rect.get("data-label")] = per_hour.get(rect.get("data-label"), 0) + float(
                rect.get("data-value"))
    assert per_hour == {r["period"][11:]: r["calls"] for r in report.section("calls").records()}
    assert per_hour["12:00"] == 0 and per_hour["09:00"] > 0
    trend = charts(page)["service"]
    points = {c.get("data-label") for c in trend.iter(f"{SVG}circle")}
    offered = {r["period"][11:] for r in report.section("service").records() if r["offered"]}
    assert points == offered  # no dot where nothing was offered: the line breaks


def test_queue_bars_add_up_to_the_tables_offered(page: str) -> None:
    bars: dict[str, float] = {}
    for rect in charts(page)["queues"].iter(f"{SVG}rect"):
        if rect.get("data-label"):
            bars[rect.get("data-label")] = bars.get(rect.get("data-label"), 0) + float(
                rect.get("data-value"))
    rows = table(page, "queues")
    assert bars == {row["Queue"]: float(row["Offered"].replace(",", "")) for row in rows}
    series = {r.get("data-series") for r in charts(page)["queues"].iter(f"{SVG}rect")}
    assert {"answered", "abandoned", "timed out", "no agents"} <= series
    timed_out = sum(float(r.get("data-value")) for r in charts(page)["queues"].iter(f"{SVG}rect")
                    if r.get("data-series") == "timed out")
    assert timed_out == sum(int(row["Timed out"]) for row in rows) > 0


def test_agent_time_bars_are_the_time_logged_in(page: str, report) -> None:
    rows = {r["agent"]: r for r in report.section("agent_time").records()}
    bars: dict[str, float] = {}
    for rect in charts(page)["agent_time"].iter(f"{SVG}rect"):
        if rect.get("data-label"):
            bars[rect.get("data-label")] = bars.get(rect.get("data-label"), 0) + float(
                rect.get("data-value"))
    assert bars == {agent: row["logged_in_ms"] for agent, row in rows.items()}
    totals = [t.text for t in charts(page)["agent_time"].iter(f"{SVG}text")
              if t.get("class") == "total"]
    assert totals == [f"occupancy {r['occupancy_pct']:.1f}%" for r in rows.values()]


def test_handlers_are_apart_from_steps_and_menus(page: str) -> None:
    steps = [row["Node"] for row in table(page, "nodes")]
    handlers = [row["Node"] for row in table(page, "nodes-handler")]
    waits = [row["Node"] for row in table(page, "nodes-queue")]
    assert "main_menu" in steps and "on hangup" in handlers
    assert not any(n.startswith("on ") for n in steps + waits)
    assert all(n.startswith("queue ") for n in waits)
    chart = {t.get("data-label") for t in charts(page)["nodes"].iter(f"{SVG}rect")}
    assert "on hangup" not in chart and "main_menu" in chart


def test_the_heading_names_the_dates_and_zone(page: str) -> None:
    assert "<dt>covers</dt><dd>2026-11-30 00:00 to 2026-12-01 00:00 Asia/Shanghai, per hour" \
        in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_names_from_the_store_are_escaped(page: str) -> None:
    assert "<script" not in page and "<img" not in page and "<b>vip" not in page
    assert "&lt;script&gt;alert(&quot;agent&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;vip&lt;/b&gt; &amp; co" in page
    for svg in charts(page).values():  # and every chart still parses as XML
        assert svg.tag == f"{SVG}svg"


def test_flow_graphs_are_shown_after_the_nodes(report) -> None:
    graph = '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="90"></svg>'
    counts = "Traffic: 3 calls that joined queue <b>, from 2026-11-30 10:00 to ..."
    page = render(report, graphs={"hotline": (counts, graph), "sales": (counts, graph)})
    at = page.index('<section id="nodes">')
    hotline = page.index('<section class="flow" id="flow-hotline"><h2>Flow hotline</h2>')
    assert at < hotline < page.index('id="flow-sales"') < page.index('<section id="choices">')
    assert page.count(graph) == 2
    # each says which calls its traffic counts, escaped
    assert page.count('<p class="covers">Traffic: 3 calls that joined queue &lt;b&gt;,') == 2
    assert ".graph { overflow: auto; max-width: 100%;" in page
    only = render(make_report(report.store, report.filters, report.options, ("summary",)),
                  graphs={"hotline": (counts, graph)})
    assert 'id="flow-hotline"' in only  # no nodes section: at the end


def test_without_agent_states_every_format_says_so(tmp_path: Path) -> None:
    path = busy.write_busy_store(tmp_path / "calls.db", states=False)
    html = ccf("report", "--store", path, "-f", "html").stdout
    assert '<section id="agent_time"><h2>Agents\' time in state</h2>' in html
    assert "No agent states recorded" in html
    assert "no agent states recorded" in ccf("report", "--store", path).stdout
    doc = json.loads(ccf("report", "--store", path, "-f", "json").stdout)
    assert doc["agent_states_recorded"] is False and "agent_time" not in doc["sections"]
    starts = [known.local(c.start)[:16].replace("T", " ") for c in busy.busy_calls()]
    assert doc["covers"] == {"from": min(starts), "to": max(starts)}  # the first and last call


def test_json_says_what_it_covers_and_whether_states_were_recorded(store: str) -> None:
    doc = json.loads(ccf("report", "--store", store, "-f", "json", "--from", busy.DAY,
                         "--to", busy.DAY).stdout)
    assert doc["interval"] == "hour" and doc["agent_states_recorded"] is True
    assert doc["covers"] == {"from": "2026-11-30 00:00", "to": "2026-12-01 00:00"}
    assert len(doc["sections"]["service"]) == len(doc["sections"]["calls"]) == 24


def test_hostile_names_read_back_as_text_in_the_charts_tooltips(page: str) -> None:
    # a tooltip (<title>) and a label say the name as it is: escaped in the markup, the
    # same characters once parsed, never an element of their own
    drawn = charts(page)
    tips = [t.text or "" for svg in drawn.values() for t in svg.iter(f"{SVG}title")]
    for name in (busy.HOSTILE_AGENT, busy.HOSTILE_QUEUE):
        assert any(tip.startswith(f"{name}, ") for tip in tips), name
        assert any(name in (t.text or "") for t in drawn["agents" if "script" in name
                                                        else "queues"].iter(f"{SVG}title"))
    for svg in drawn.values():
        assert not [e.tag for e in svg.iter() if e.tag in ("script", f"{SVG}script", "b",
                                                           f"{SVG}b")]


def test_one_days_hours_are_written_once_with_the_day_in_the_heading(page: str) -> None:
    # `2026-11-30 08:00` on every row wraps to three lines on a phone: the day is said
    # once, in the column's heading, as in the chart's title
    for name in ("calls", "service"):
        rows = table(page, name)
        assert len(rows) == 24
        assert [r[f"Hour ({busy.DAY})"] for r in rows][8:10] == ["08:00", "09:00"]


def test_every_table_is_named_by_its_headings(page: str) -> None:
    """A screen reader's list of tables names each one: by its section's heading, and a part
    of the nodes section by that heading and its own (aria-labelledby)."""
    headings = dict(re.findall(r'<h[23] id="([^"]+)">([^<]*)</h[23]>', page))
    names = {}
    for table_id, labelled in re.findall(r'<table id="table-([^"]+)" aria-labelledby="([^"]+)">',
                                         page):
        names[table_id] = " ".join(headings[i] for i in labelled.split())
    assert len(names) == page.count("<table")
    for section in re.findall(r'<section id="(\w+)">(.*?)</section>', page, re.S):
        title = re.search(r"<h2[^>]*>([^<]*)</h2>", section[1])[1]
        for table_id in re.findall(r'<table id="table-([^"]+)"', section[1]):
            assert names[table_id].startswith(title), (table_id, names[table_id])
    assert names["queues"] == "Per queue"
    assert names["nodes"].endswith(" Steps and menus")
    assert names["nodes-queue"].endswith(" Waits in queues")
    assert names["nodes-handler"].endswith(" Handlers (on start, on hangup, ...)")


def test_every_header_cell_says_what_it_heads(page: str) -> None:
    """A screen reader reads a figure with its column's title (and the summary's figures with
    their row's): every <th> of a table's head has scope="col", of its body scope="row"."""
    tables = re.findall(r"<table\b.*?</table>", page, re.S)
    assert len(tables) >= 7
    heads = bodies = 0
    for html in tables:
        root = ET.fromstring(html)
        for part, scope in (("thead", "col"), ("tbody", "row")):
            for group in root.iter(part):
                for th in group.iter("th"):
                    assert th.get("scope") == scope, (part, th.text, html[:80])
                    heads += part == "thead"
                    bodies += part == "tbody"
    assert heads > 20 and bodies > 3  # the tables' columns, the summary's rows
