"""Every console page as a keyboard or screen-reader user meets it (tests/browser/a11y.py):
one h1, landmarks, every control named, table headers with a scope, no clickable
non-control, text contrast of 4.5:1 and a focus ring at every Tab stop; and what the
accessibility tree says of the pages' states. Screenshots: build/screenshots/a11y-*.png."""

from __future__ import annotations

from tests.console.desk_calls import (
    desk_event,
    pop,
    ringing,
    store_call,
    store_message,
)
from tests.console.rig import PASSWORD
from tests.console.test_history_calls import store_call as stored_call
from tests.console.test_wall import on_call

from .a11y import breaches, kept
from .consoles import with_sups_device  # noqa: F401 - the `console` of this module
from .desk_rig import answering, at_desk, form_of, state_is
from .screens import Watched, at_login, logged_in, shoot
from .wall_rig import zhang_held, zhang_on_the_wall


def test_the_log_in_page(browser, console) -> None:
    context, page = at_login(browser, console.base, Watched())
    try:
        shoot(page, "a11y-login")
        assert breaches(page) == []
        form = page.get_by_role("main")
        assert form.get_by_role("heading", level=1).inner_text() == "Log in"
        assert form.get_by_role("textbox", name="User id").is_visible()
        assert form.get_by_role("textbox", name="Password").is_visible()
        assert form.get_by_role("button", name="Log in").is_visible()
    finally:
        context.close()


def test_the_supervisors_pages(browser, console) -> None:
    stored_call(console.store, "done-1")
    on_call(console, "zhang", "live-1")
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        zhang_on_the_wall(page)
        # the tree names each row's Listen, and says the agent's state in words
        wall = page.get_by_role("main")
        assert wall.get_by_role("heading", level=1, name="Wallboard").count() == 1
        assert wall.get_by_role("button", name="Listen: Zhang Wei's call").is_visible()
        zhang = wall.get_by_role("row").filter(has_text="Zhang Wei")
        assert "on call" in zhang.aria_snapshot()
        agents = wall.get_by_role("table", name="Agents")
        assert agents.get_by_role("columnheader", name="State").is_visible()
        # the state is said in words, not by colour alone
        assert agents.get_by_role("cell").filter(has_text="on call (").count() == 1
        # the board changes every second: none of it is read out (only the page's own
        # answers, #said and #said-urgent, are live regions, and nothing was said)
        zhang_held(console, page)
        live = page.evaluate("() => [...document.querySelectorAll('[aria-live], [role=status],"
                             " [role=alert], [role=log], [role=marquee], [role=timer]')]"
                             ".map((n) => n.id)")
        assert live == ["said", "said-urgent"]
        assert page.locator("#said").text_content() == ""
        assert page.locator("#said-urgent").text_content() == ""
        names = [s["name"] for s in kept(page, "wall")]
        assert names[1:4] == ["Wallboard", "Calls", "Reports"]

        for path, name in (("/agents", "agents"), ("/history", "history"),
                           ("/history/done-1", "call"), ("/reports", "reports"),
                           ("/flows", "flows")):
            page.goto(path)
            kept(page, name)
        missing = page.goto("/history/no-such-call")
        assert missing.status == 404
        kept(page, "call-missing")
        watched.errors = [e for e in watched.errors if "/no-such-call: " not in e]
        page.goto("/agents")
        assert page.get_by_role("button", name="Log out Li Na").is_visible()
        assert page.get_by_role("combobox", name="pause reason for Li Na").is_visible()
        page.goto("/history")
        calls = page.get_by_role("table", name="Calls found, newest first")
        assert calls.get_by_role("columnheader", name="Outcome").is_visible()
        assert page.get_by_role("navigation", name="pages of calls").is_visible()
        assert not watched.errors, watched.errors


def test_an_admins_agents_page_and_a_page_refused(browser, console) -> None:
    with logged_in(browser, console.base, "root", PASSWORD) as (page, watched):
        page.goto("/agents")
        kept(page, "agents-admin")
        page.locator("details.skills summary").first.focus()
        page.keyboard.press("Enter")  # a row's skills open from the keyboard
        assert breaches(page) == []
        assert page.get_by_role("textbox", name="skills of Li Na").is_visible()
        assert page.get_by_role("button", name="Save skills of Li Na").count() == 1
        assert page.goto("/desk").status == 403
        kept(page, "refused")


def test_the_desk_ringing_answered_and_wrapping_up(browser, console) -> None:
    answering(console)
    store_call(console, "w1")
    store_message(console, "vm-1", "zhang", caller="+8613900000002")
    with at_desk(browser, console) as (desk, watched):
        kept(desk, "desk")
        follow = desk.locator("#followups-card")
        assert follow.get_by_role("button", name="Call back +8613900000002").is_visible()
        ringing(console, "c1")
        offer = pop(console, "c1")
        console.call_soon(lambda: console.feed.publish("pop", offer, agent="zhang"))
        state_is(desk, "ringing")
        desk.wait_for_function("() => (document.getElementById('pop-caller') || {}).textContent"
                               " === '+8613800000001'")
        assert breaches(desk) == []
        call = desk.locator("#call-card")
        assert call.get_by_role("button", name="Answer").is_visible()
        crm = desk.locator("#crm")
        assert crm.get_by_role("rowheader", name="tier").is_visible()
        desk_event(console, "c1", "agent_answered", agent="zhang")
        state_is(desk, "on call")
        assert breaches(desk) == []
        shoot(desk, "a11y-desk-on-call")
        for name in ("Hold", "Hang up", "Transfer", "Read to caller"):
            assert call.get_by_role("button", name=name).is_visible(), name
        assert call.get_by_role("textbox", name="text to read to the caller").is_visible()
        form_of(console, desk, "w1")
        assert breaches(desk) == []
        form = desk.locator("#wrapup")
        reason = form.get_by_role("textbox", name="reason")
        assert reason.is_visible() and reason.evaluate("n => n.required")
        assert form.get_by_role("combobox", name="resolved").is_visible()
        assert form.get_by_role("spinbutton", name="order").is_visible()
        assert form.get_by_role("button", name="Save").is_visible()
        shoot(desk, "a11y-desk-wrapup")
        assert not watched.errors, watched.errors


BROKEN = """<!doctype html><html lang="en"><head><title>t</title></head><body>
<header><nav><a href="/a">a</a></nav></header><main><h1>one</h1><h1>two</h1>
<input name="q"><button type="button"></button><div style="cursor: pointer">go</div>
<p style="color: #999">faint</p><table><thead><tr><th>x</th><th>y</th></tr></thead>
<tbody><tr><td>1</td><td>2</td></tr></tbody></table></main></body></html>"""


def test_the_rules_find_what_they_look_for(browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content(BROKEN)
        found = breaches(page)
        for rule in ("one h1: 2", "control without a label: input[name=q]",
                     "control without a name: button", "clickable non-control: div",
                     "contrast 2.85 < 4.5: p", "th without scope: th"):
            assert any(f.startswith(rule) for f in found), (rule, found)
    finally:
        context.close()


def test_the_wallboard_says_when_its_stream_drops_and_comes_back(browser, console) -> None:
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.wait_for_selector("#wall-link.live")
        li = console.desk.status("li").to_json()
        # everything the polite region says, in turn
        page.evaluate("""() => { window.__said = []; const box = document.getElementById('said');
          new MutationObserver(() => box.textContent && window.__said.push(box.textContent))
            .observe(box, {childList: true, characterData: true, subtree: true}); }""")

        def flood() -> None:  # more changes at once than a page may be behind: it is dropped
            for _ in range(300):
                console.feed.publish("agent", li, agent="li")

        console.call_soon(flood)
        # the reconnection gives the whole board again; both changes are said, once each
        page.wait_for_function("() => window.__said.join().includes('wallboard live again')")
        assert page.evaluate("window.__said") == [
            "wallboard reconnecting: it may be out of date", "wallboard live again"]
        assert page.locator("#wall-link").text_content() == "live"
