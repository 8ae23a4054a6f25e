"""The supervisor's Flows page: each flow in service drawn with the call store's traffic for
the days chosen, staff only, every word of a flow escaped, and a plain message (never a 500)
when a flow cannot be drawn: no Graphviz, no sources kept with its version."""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

import pytest

from ccdsl.cli.console_flows import served_drawings
from ccdsl.runtime.asterisk.flow_changes import read_sources, sources_name, sources_text
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.service import StoreFlows
from ccdsl.runtime.console.flow_pictures import UnsafeDrawing, checked_svg
from tests.console.flows_rig import (
    DAY,
    HOSTILE_TITLE,
    IWS,
    SVG,
    calls,
    compiled,
    drawings,
    flows_console,
    node_lines,
    traffic,
)

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    console, entered = flows_console(tmp_path_factory.mktemp("flows-page"))
    try:
        yield console, entered
    finally:
        console.close()


def test_a_supervisor_sees_every_flow_drawn_with_the_calls_of_the_days_chosen(rig) -> None:
    console, entered = rig
    for user in ("sup", "root"):
        page = console.client(user).get(f"/flows?since={DAY}&until={DAY}", headers=HTML)
        assert page.status_code == 200, page.text
        drawn = drawings(page.text)
        assert sorted(drawn) == ["hostile", "hotline"]
        nodes = node_lines(drawn["hotline"])
        assert entered["main_menu"] > 0
        for step in ("main_menu", "order_lookup", "agent", "tech_support"):
            assert traffic(nodes[step])[0] == calls(entered[step]), (step, nodes[step])
        assert traffic(nodes["on start"])[0] == calls(5)
        assert traffic(nodes["main_menu"])[1:] == ["3 hung up here"]
        assert "Traffic: 5 calls, from 2026-11-30 10:00 to 2026-11-30 10:50" in page.text
        # the hostile flow's calls: none
        assert "Traffic: no call of this flow in the call store" in page.text
    # two days: the next day's call too
    page = console.client("sup").get(f"/flows?since={DAY}&until=2026-12-01", headers=HTML)
    assert traffic(node_lines(drawings(page.text)["hotline"])["on start"])[0] == calls(6)
    # the one flow's page: its drawing only, the same numbers
    one = console.client("sup").get(f"/flows/hotline?since={DAY}", headers=HTML)
    assert one.status_code == 200 and sorted(drawings(one.text)) == ["hotline"]
    assert traffic(node_lines(drawings(one.text)["hotline"])["on start"])[0] == calls(5)
    # the supervisor's navigation leads there
    assert '<a href="/flows"' in console.client("sup").get("/wall", headers=HTML).text


def test_agents_are_refused_and_strangers_sent_to_log_in(rig) -> None:
    console, _ = rig
    for url in ("/flows", "/flows/hotline"):
        assert console.client("zhang").get(url, headers=HTML).status_code == 403
        nobody = console.client().get(url, headers=HTML)
        assert nobody.status_code == 303 and nobody.headers["location"] == f"/login?next={url}"
    assert '<a href="/flows"' not in console.client("zhang").get("/desk", headers=HTML).text


def test_a_flow_not_in_service_is_not_found(rig) -> None:
    console, _ = rig
    web = console.client("sup")
    assert web.get("/flows/nothing", headers=HTML).status_code == 404
    assert web.get("/flows/%3Cb%3E", headers=HTML).status_code == 404
    bad = web.get("/flows?since=yesterday", headers=HTML)
    assert bad.status_code == 400 and "is not a date" in bad.text


def test_nothing_from_a_flow_reaches_the_page_as_markup(rig) -> None:
    console, _ = rig
    page = console.client("sup").get(f"/flows/hostile?since={DAY}", headers=HTML)
    assert page.status_code == 200
    # only the console's own scripts, from its static files
    assert re.findall(r"<script[^>]*>", page.text) == [
        '<script src="/static/console.js" defer>', '<script src="/static/flows.js" defer>']
    assert "<img" not in page.text and "</svg><script" not in page.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "alert(&#39;title&#39;)" in page.text  # the title, shown as text
    svg = drawings(page.text)["hostile"]
    assert any(HOSTILE_TITLE in (t.text or "") for t in svg.iter(f"{SVG}text"))
    # the page's policy stays strict: the drawing needs no inline style or script
    policy = page.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "default-src 'self'" in policy
    assert not any("style" in e.attrib for e in svg.iter())


@pytest.mark.parametrize("markup, what", [
    ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
    ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "onload"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>', "foreignObject"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><g style="x"/></svg>', "style"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:l="http://www.w3.org/1999/xlink">'
     '<a l:href="javascript:alert(1)"/></svg>', "href"),
    ("<svg", "well-formed"),
])
def test_a_drawing_with_anything_but_drawing_is_kept_out(markup, what) -> None:
    with pytest.raises(UnsafeDrawing, match=what):
        checked_svg(markup)


def test_without_graphviz_the_page_says_so(rig, monkeypatch) -> None:
    console, _ = rig
    monkeypatch.setattr("ccdsl.cli.graphviz.shutil.which", lambda name: None)
    page = console.client("sup").get("/flows", headers=HTML)
    assert page.status_code == 200
    assert page.text.count("Graphviz&#39;s `dot` is not installed on this server") == 2
    assert drawings(page.text) == {}


@pytest.mark.parametrize("error, words, not_said", [
    ("StoreUnreachable", "the call store cannot be read now: the server went away; try again "
                         "shortly", "mended"),
    ("StoreNeedsMending", "the call store cannot be read: `calls.db` lacks the table node_visits "
                          "a report reads; the call store must be mended first", "try again"),
])
def test_a_store_that_cannot_be_read_is_said_as_every_page_says_it(rig, monkeypatch, error,
                                                                   words, not_said) -> None:
    from ccdsl.runtime.operations.reports import query

    said = {"StoreUnreachable": "the server went away",
            "StoreNeedsMending": "`calls.db` lacks the table node_visits a report reads; "
                                 "the call store must be mended first (its administrator: "
                                 "docs/store.md)"}[error]

    def unreadable(*_args, **_kw):
        raise getattr(query, error)(said)

    # the module itself: the package's attribute of that name may be the function
    traffic_module = importlib.import_module("ccdsl.runtime.operations.reports.flow_traffic")
    monkeypatch.setattr(traffic_module, "flow_traffic", unreadable)
    console, _ = rig
    # days no other test asks for: the page keeps what it drew for a range a little while
    day = {"StoreUnreachable": "2026-10-01", "StoreNeedsMending": "2026-10-02"}[error]
    page = console.client("sup").get(f"/flows?since={day}&until={day}", headers=HTML)
    assert page.status_code == 200
    text = page.text.replace("&#39;", "'").replace("&#96;", "`")
    assert words in text, text[:3000]
    assert not_said not in text


def test_served_flows_are_drawn_from_the_sources_their_version_kept(rig, tmp_path) -> None:
    console, _ = rig
    hotline = compiled(IWS / "hotline.ccf")
    store = FlowStore(tmp_path / "flows")
    store.deploy({"hotline": hotline}, numbers={})  # as a ccf before kept sources did
    live = SimpleNamespace(flows=StoreFlows(store), store=console.store)
    console.ctx.flows_drawn = served_drawings(live)
    try:
        web = console.client("sup")
        old = web.get("/flows/hotline", headers=HTML)
        assert old.status_code == 200
        assert "no sources kept for this version (0001) of hotline" in old.text
        kept = {sources_name("hotline"): sources_text(read_sources(hotline))}
        store.deploy({"hotline": hotline}, numbers={}, attached=kept)
        live.flows.reload()
        page = web.get(f"/flows/hotline?since={DAY}", headers=HTML)
        assert traffic(node_lines(drawings(page.text)["hotline"])["on start"])[0] == calls(5)
        assert "no sources kept" not in page.text
    finally:
        console.ctx.flows_drawn = None

