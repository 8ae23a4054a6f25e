"""The wrap-up form survives Ready and a reload, and on a phone it comes first."""

from __future__ import annotations

from tests.console.desk_calls import store_call

from .desk_rig import at_desk, form_of, state_is
from .screens import shoot


def test_the_form_stays_after_ready_and_a_reload_and_is_in_sight_on_a_phone(
        browser, console) -> None:
    store_call(console, "w1")
    with at_desk(browser, console, width=390, height=844) as (desk, watched):
        form_of(console, desk, "w1")
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
    assert watched.errors == []
