"""A wrap-up form whose call left the call store (pruned) while it waited: Save is answered 404
with the desk's state, the form no longer waiting. The desk in Chromium says why and puts the
form away, as it does for a form saved elsewhere (409), rather than keeping a form whose every
Save is refused the same way."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.console.desk_calls import store_call

from .desk_rig import at_desk

GONE = "call w1 is not in the call store (pruned?); nothing saved"


def test_a_form_whose_call_was_pruned_is_put_away_on_save(browser, console) -> None:
    async def pruned(call_id, body):
        return 404, {"ok": False, "error": GONE}

    console.ctx.wrapup = pruned
    store_call(console, "w1")
    with at_desk(browser, console) as (page, watched):
        page.wait_for_selector("#wrapup-form:not([hidden])")  # the store's unsaved form
        page.fill("#wrapup-fields input[name='f.reason']", "order")
        page.select_option("#wrapup-fields select[name='f.resolved']", "yes")
        page.click("#btn-wrapup")
        expect(page.locator("#notice")).to_contain_text(GONE)
        expect(page.locator("#wrapup-form")).to_be_hidden()
        assert console.desk.status("zhang").wrapups == ()
        assert not [e for e in watched.errors if "uncaught" in e], watched.errors
