"""The agents page offers only what the server allows: Log out for an agent on a call is shown
disabled with the reason (the server still refuses it), and the page is live (admin.js reads
the wallboard's own `wall` events of /live; tests/browser/test_pages_live.py drives it)."""

from __future__ import annotations

import re

from tests.console.test_wall import on_call

HTML = {"Accept": "text/html"}


def row(html: str, agent: str) -> str:
    return re.search(rf'<tr data-agent="{agent}">.*?</tr>', html, re.S)[0]


def test_log_out_is_not_offered_for_an_agent_on_a_call(console) -> None:
    on_call(console, "zhang", "live-1")
    web = console.client("sup")
    html = web.get("/agents", headers=HTML).text
    busy = re.search(r'<button[^>]*data-action="logout"[^>]*>', row(html, "zhang"))[0]
    assert "disabled" in busy and "after the call" in row(html, "zhang")
    free = re.search(r'<button[^>]*data-action="logout"[^>]*>', row(html, "li"))[0]
    assert "disabled" not in free
    # the server stays the authority: a post anyway is still refused
    refused = web.post("/agents/zhang/logout", headers={"Accept": "application/json",
                                                        "X-CSRF-Token": console.csrf(web)})
    assert refused.status_code == 409 and "after the call" in refused.json()["error"]


def test_the_agents_page_follows_the_live_stream(console) -> None:
    html = console.client("sup").get("/agents", headers=HTML).text
    assert 'id="agents-live"' in html  # the badge admin.js turns to "live"
    assert 'src="/static/admin.js"' in html
