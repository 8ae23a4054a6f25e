"""A page someone's role may not open: a page in the console's layout saying whose page it
is, with a way back to their own; a script asking for JSON still gets JSON. Status 403."""

from __future__ import annotations

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


@pytest.mark.parametrize("url", ["/wall", "/agents", "/reports", "/flows"])
def test_an_agent_opening_a_supervisors_page_gets_a_page_back_to_the_desk(console, url) -> None:
    answer = console.client("zhang").get(url, headers=HTML)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert '<header class="top">' in page and 'href="/desk"' in page  # the layout's nav
    assert "This page is for supervisors and administrators" in page
    assert 'class="back" href="/desk"' in page
    assert "a agent" not in page


@pytest.mark.parametrize("url", ["/wall", "/agents"])
def test_a_script_still_gets_json_with_an_article_that_fits(console, url) -> None:
    answer = console.client("zhang").get(url, headers=JSON)
    assert answer.status_code == 403
    assert answer.json() == {"ok": False, "error": "an agent may not do this"}
    answer = console.client("zhang").get(url)  # no Accept: a script
    assert answer.status_code == 403 and answer.json()["ok"] is False


def test_a_supervisor_opening_the_desk_is_sent_back_to_the_wallboard(console) -> None:
    answer = console.client("sup").get("/desk", headers=HTML)
    assert answer.status_code == 403
    assert "This page is for agents" in answer.text
    assert 'class="back" href="/wall"' in answer.text
    assert console.client("sup").get("/desk", headers=JSON).json()["error"] == \
        "a supervisor may not do this"


def test_a_stranger_is_still_sent_to_log_in(console) -> None:
    answer = console.client().get("/wall", headers=HTML)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/wall"


def test_a_form_posted_with_a_stale_token_gets_a_page_that_says_to_reload(console) -> None:
    web = console.client("sup")
    answer = web.post("/agents/li/pause", data={"reason": "break", "csrf": "stale"},
                      headers=HTML)
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert "reload the page" in answer.text and 'class="back" href="/wall"' in answer.text
    assert console.desk.status("li").state == "ready"  # nothing was done
