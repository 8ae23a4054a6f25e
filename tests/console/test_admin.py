"""Reports and agents on the console: staff only, the report's own figures for a range,
agents logged out, paused and made ready by staff, skills changed by admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.console.admin_pages import SkillsError, parse_skills
from ccdsl.runtime.core.events import Event
from tests.console.test_history_calls import HOSTILE, HTML, store_call

JSON = {"Accept": "application/json"}
NOW = datetime.now(UTC).replace(microsecond=0)


def post(console, web, url: str, **fields):
    return web.post(url, data=fields, headers={**JSON, "X-CSRF-Token": console.csrf(web)})


@pytest.mark.parametrize("url", ["/reports", "/agents"])
def test_staff_pages_refuse_agents_and_send_strangers_to_log_in(console, url) -> None:
    assert console.client("zhang").get(url, headers=HTML).status_code == 403
    nobody = console.client().get(url, headers=HTML)
    assert nobody.status_code == 303 and nobody.headers["location"] == f"/login?next={url}"
    assert console.client().get(url).status_code == 401  # a script: JSON
    for user in ("sup", "root"):
        assert console.client(user).get(url, headers=HTML).status_code == 200


def test_the_report_shows_the_figures_of_the_range(console) -> None:
    store_call(console.store, "r1", at=NOW - timedelta(seconds=90))
    store_call(console.store, "r2", at=NOW - timedelta(days=3), agent="li")
    web = console.client("sup")
    today = web.get("/reports", headers=HTML)
    assert today.status_code == 200 and 'id="report"' in today.text
    for section in ("summary", "queues", "agents", "nodes"):
        assert f'id="report-{section}"' in today.text
    assert "<svg" in today.text and "<style" not in today.text and "<script>" not in today.text
    day = (NOW - timedelta(days=3)).astimezone(console.store.zone()).date().isoformat()
    old = web.get("/reports", params={"since": day, "until": day}).text
    assert f'value="{day}"' in old and "li" in old
    assert web.get("/reports", params={"since": "soon"}).status_code == 400
    assert web.get("/reports", params={"since": "2026-12-02",
                                       "until": "2026-12-01"}).status_code == 400


def test_hostile_menu_keys_and_steps_are_escaped_in_the_report(console) -> None:
    at = NOW - timedelta(seconds=60)
    events = [("call_started", {"caller": HOSTILE, "flow": "hotline"}),
              ("step_entered", {"step": HOSTILE}), ("menu_choice", {"key": HOSTILE}),
              ("hangup", {"by": "caller"}), ("call_ended", {"outcome": "hangup"})]
    for seq, (kind, data) in enumerate(events, 1):
        console.store.emit(Event("h-rep", seq, at + timedelta(seconds=seq), kind, data))
    console.store.flush()
    html = console.client("root").get("/reports", headers=HTML).text
    assert HOSTILE not in html and "&lt;script&gt;" in html


def test_the_agents_table_shows_every_agent_with_state(console) -> None:
    console.client("li")  # li has a console session
    html = console.client("sup").get("/agents", headers=HTML).text
    assert 'id="agents-table"' in html
    assert 'data-agent="zhang"' in html and 'data-agent="li"' in html
    assert "logged out" in html and "ready" in html and "logged in" in html
    assert 'action="/agents/li/pause"' in html
    assert 'action="/agents/li/skills"' not in html  # skills: admins only
    assert 'action="/agents/li/skills"' in console.client("root").get("/agents").text


def test_staff_pause_ready_and_log_out_an_agent(console) -> None:
    agent = console.client("li")
    web = console.client("sup")
    paused = post(console, web, "/agents/li/pause", reason="lunch")
    assert paused.status_code == 200, paused.text
    assert console.desk.status("li").state == "paused"
    assert console.desk.status("li").reason == "lunch"
    bad = post(console, web, "/agents/li/pause", reason="nap")
    assert bad.status_code == 400 and "not a pause reason" in bad.json()["error"]
    assert post(console, web, "/agents/li/ready").status_code == 200
    assert console.desk.status("li").state == "ready"
    out = post(console, web, "/agents/li/logout")
    assert out.status_code == 200 and "1 console session" in out.json()["message"]
    assert console.desk.status("li").state == "logged_out"
    assert agent.get("/me").status_code == 401  # the agent's session ended
    assert post(console, web, "/agents/nobody/ready").status_code == 404


def test_a_form_post_comes_back_to_the_page_with_a_message(console) -> None:
    web = console.client("sup")
    token = console.csrf(web)
    reply = web.post("/agents/li/pause", data={"csrf": token, "reason": "break"})
    assert reply.status_code == 303 and reply.headers["location"] == "/agents"
    assert "li paused: break" in web.get("/agents", headers=HTML).text
    assert web.post("/agents/li/pause", data={"reason": "break"}).status_code == 403  # no CSRF


def test_agents_may_not_act_on_agents(console) -> None:
    web = console.client("zhang")
    for action in ("logout", "pause", "ready", "skills"):
        assert post(console, web, f"/agents/li/{action}", reason="lunch",
                    skills="service=5").status_code == 403
    assert not console.control.asked


def test_skills_are_for_admins_and_validated(console) -> None:
    sup = console.client("sup")
    assert post(console, sup, "/agents/li/skills", skills="service=5").status_code == 403
    root = console.client("root")
    saved = post(console, root, "/agents/li/skills", skills="service=7\r\n\r\nsales = 2\n")
    assert saved.status_code == 200, saved.text
    assert ("set_skills", "li", {"service": 7, "sales": 2}) in console.control.asked
    for bad in ("service=11", "service=0", "service", "service=five", "=3", "a b=2",
                "service=2\nservice=3", "", HOSTILE + "=1"):
        reply = post(console, root, "/agents/li/skills", skills=bad)
        assert reply.status_code == 400, bad
        assert HOSTILE not in reply.text
    asked = [a for a in console.control.asked if a[0] == "set_skills"]
    assert len(asked) == 1


def test_parse_skills() -> None:
    assert parse_skills("a=1\nb_2=10") == {"a": 1, "b_2": 10}
    with pytest.raises(SkillsError, match="line 2"):
        parse_skills("a=1\nb=12")
