"""Log out on a call: the desk stays, with a notice saying why and what to do."""

from __future__ import annotations

from tests.console.desk_calls import on_call

from .desk_rig import desk_of, state_is
from .screens import Watched


def test_log_out_on_a_call_is_refused_with_a_notice(browser, console) -> None:
    watched = Watched()
    context, desk = desk_of(browser, console, watched)
    try:
        on_call(console, "c1")
        state_is(desk, "on call")
        desk.click("#logout")
        desk.wait_for_function("() => !document.getElementById('notice').hidden && "
                               "document.getElementById('notice').textContent"
                               ".includes('finish the call first')")
        assert desk.url.endswith("/desk")
        assert desk.request.get("/me").status == 200
        assert ("agent_logout", "zhang") not in console.control.asked
    finally:
        context.close()
