"""The wrap-up form survives Ready and a reload, and on a phone it comes first."""

from __future__ import annotations

from tests.console.desk_calls import store_call, wrapping_up

from .desk_rig import desk_of, state_is
from .screens import Watched, shoot


def test_the_form_stays_after_ready_and_a_reload_and_is_in_sight_on_a_phone(
        browser, console) -> None:
    store_call(console, "w1")
    watched = Watched()
    context, desk = desk_of(browser, console, watched, width=390, height=844)
    try:
        wrapping_up(console, "w1")
        desk.wait_for_selector("#wrapup-form:not([hidden])")
        desk.click("#btn-ready")
        state_is(desk, "ready")
        assert desk.is_visible("#wrapup-form")
        desk.reload()
        desk.wait_for_selector("#wrapup-form:not([hidden])")
        box = desk.locator("#wrapup-form").bounding_box()
        assert box is not None and box["y"] < 844, box
        shoot(desk, "desk-wrapup-narrow")
        desk.fill(".field[data-field=reason] [name='f.reason']", "order status")
        desk.select_option(".field[data-field=resolved] [name='f.resolved']", "yes")
        desk.click("#btn-wrapup")
        desk.wait_for_function("() => document.getElementById('notice').textContent"
                               " === 'wrap-up saved'")
        assert console.wrapups[-1][0] == "w1"
        assert not desk.is_visible("#wrapup-form")
    finally:
        context.close()
    assert watched.errors == []
