"""An agent works a call from the keyboard alone (Tab, Enter, Space, typing): logs in, goes
ready, answers a ringing call, holds and resumes it, hangs up, fills and saves the wrap-up and
goes ready again. Each step is found by its role and name in the accessibility tree, focus
never drops to the page when the button it was on goes, and what a screen reader hears
(#said, #said-urgent) says each change of the call. Screenshots: build/screenshots/a11y-kb-*."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.desk_calls import desk_event, pop, ringing, store_call
from tests.console.rig import PASSWORD

from .a11y import FOCUSED
from .desk_rig import answering, state_is
from .screens import TIMEOUT_MS, Watched, at_login, shoot


def tab_to(page, name: str, most: int = 40) -> None:
    """Tab until the keyboard is on the control named `name` (fails if Tab never gets there)."""
    passed = []
    for _ in range(most):
        page.keyboard.press("Tab")
        at = page.evaluate(FOCUSED)
        if at and at["name"] == name:
            assert at["ring"], f"{name} has no focus ring"
            return
        passed.append(at and at["name"])
    raise AssertionError(f"Tab never reached {name!r}: {passed}")


def said(page, words: str, *, urgent: bool = False) -> None:
    """A screen reader is told `words` (the live region holds them, with whatever else was
    said at the same moment: "call ended. wrap-up form of call c1: 3 fields")."""
    region = page.locator("#said-urgent" if urgent else "#said")
    expect(region).to_contain_text(words)


def test_an_agent_works_a_call_from_the_keyboard_alone(browser, console) -> None:
    answered = answering(console)
    watched = Watched()
    expect.set_options(timeout=TIMEOUT_MS)
    context, page = at_login(browser, console.base, watched)
    try:
        # -- log in: the user id field has the focus; Tab to the password, Enter -----------
        expect(page.get_by_role("textbox", name="User id")).to_be_focused()
        page.keyboard.type("zhang")
        page.keyboard.press("Tab")
        expect(page.get_by_role("textbox", name="Password")).to_be_focused()
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#desk")
        expect(page.get_by_role("heading", level=1)).to_have_text("Desk of Zhang Wei")

        # -- Ready (out of the queues: it joins them) --------------------------------------
        tab_to(page, "Ready")
        page.keyboard.press("Enter")
        state_is(page, "ready")
        said(page, "ready")
        assert ("agent_login", "zhang") in console.control.asked
        # Ready is disabled now: the keyboard is on the desk's heading, not lost
        expect(page.get_by_role("heading", level=1)).to_be_focused()

        # -- a call rings: said at once, with its caller; Answer with Space ------------------
        ringing(console, "c1")
        offer = pop(console, "c1")
        console.call_soon(lambda: console.feed.publish("pop", offer, agent="zhang"))
        state_is(page, "ringing")
        said(page, "call ringing from +8613800000001: Answer is in the Call section", urgent=True)
        shoot(page, "a11y-kb-ringing")
        tab_to(page, "Answer")
        with page.expect_response(lambda r: r.url.endswith("/c1/answer")):
            page.keyboard.press("Space")
        assert answered == [("zhang", "c1")]
        desk_event(console, "c1", "agent_answered", agent="zhang")
        state_is(page, "on call")
        said(page, "on call from +8613800000001")
        # Answer went: the keyboard is on the call's heading, the next Tab is Hold
        expect(page.get_by_role("heading", name="Call", exact=True)).to_be_focused()

        # -- hold and resume: each button takes the other's place ----------------------------
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Hold")).to_be_focused()
        page.keyboard.press("Enter")
        state_is(page, "on hold")
        said(page, "caller on hold")
        expect(page.get_by_role("button", name="Resume")).to_be_focused()
        page.keyboard.press("Enter")
        state_is(page, "on call")
        said(page, "caller back from hold")
        expect(page.get_by_role("button", name="Hold")).to_be_focused()
        assert [a for a in console.control.asked if a[0] == "hold"] == [
            ("hold", "c1", True), ("hold", "c1", False)]

        # -- hang up: the conversation ends, the form comes and the keyboard is in it --------
        tab_to(page, "Hang up")
        with page.expect_response(lambda r: r.url.endswith("/c1/hangup")):
            page.keyboard.press("Enter")
        assert ("hangup", "c1") in console.control.asked
        # the call's events in the store as the runtime writes them, with its form: reason
        # (text), resolved (yes/no), order (a number, optional)
        store_call(console, "c1")
        desk_event(console, "c1", "conversation_ended", agent="zhang", wrapup=True)
        desk_event(console, "c1", "wrapup_requested", agent="zhang")
        page.wait_for_selector("#wrapup-form:not([hidden])")
        said(page, "wrap-up form of call c1: 3 fields")
        form = page.locator("#wrapup")
        expect(form.get_by_role("textbox", name="reason")).to_be_focused()
        page.keyboard.type("order status")
        page.keyboard.press("Tab")
        expect(form.get_by_role("combobox", name="resolved")).to_be_focused()
        page.keyboard.type("y")  # a closed list takes its option from the letter typed
        expect(form.get_by_role("combobox", name="resolved")).to_have_value("yes")
        shoot(page, "a11y-kb-wrapup")
        tab_to(page, "Save")
        page.keyboard.press("Enter")
        # saved, the desk takes the agent off the wrap-up pause: ready
        state_is(page, "ready")
        said(page, "wrap-up saved")
        said(page, "ready")
        (saved,) = console.wrapups
        assert saved == ("c1", {"agent": "zhang",
                                "fields": {"reason": "order status", "resolved": "yes",
                                           "order": ""}})
        # the form went with its Save and Ready is disabled: the keyboard is on the heading
        expect(page.get_by_role("heading", level=1)).to_be_focused()

        # -- a pause for lunch, and Ready again ----------------------------------------------
        tab_to(page, "pause reason")
        page.keyboard.type("l")
        expect(page.get_by_role("combobox", name="pause reason")).to_have_value("lunch")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Pause", exact=True)).to_be_focused()
        page.keyboard.press("Enter")
        state_is(page, "paused: lunch")
        said(page, "paused: lunch")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        expect(page.get_by_role("button", name="Ready")).to_be_focused()
        page.keyboard.press("Enter")
        state_is(page, "ready")
        said(page, "ready")
        shoot(page, "a11y-kb-ready")
        assert not watched.errors, watched.errors
    finally:
        context.close()


def test_a_wrap_up_the_centre_refuses_puts_the_keyboard_on_the_field_to_correct(
        browser, console) -> None:
    async def refuse(call_id, body):
        return 400, {"ok": False, "problems": ["reason: 'x' is too short"]}

    console.ctx.wrapup = refuse
    store_call(console, "w1")
    watched = Watched()
    context, page = at_login(browser, console.base, watched)
    try:
        page.keyboard.type("zhang")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#wrapup-form:not([hidden])")  # the store's unsaved form
        tab_to(page, "reason")
        page.keyboard.type("x")
        page.keyboard.press("Tab")
        page.keyboard.type("n")
        tab_to(page, "Save")
        page.keyboard.press("Enter")
        reason = page.locator("#wrapup").get_by_role("textbox", name="reason")
        expect(reason).to_be_focused()
        expect(reason).to_have_attribute("aria-invalid", "true")
        # read with the field: its problem
        expect(reason).to_have_accessible_description("'x' is too short")
        said(page, "'x' is too short", urgent=True)
        assert console.wrapups == []
        assert watched.refused and all("/desk/wrapup/w1: 400" in r for r in watched.refused)
    finally:
        context.close()
