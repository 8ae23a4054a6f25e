"""Log out on a call: the desk stays, with a notice saying why and what to do."""

from __future__ import annotations

from .desk_rig import at_desk, on_the_call


def test_log_out_on_a_call_is_refused_with_a_notice(browser, console) -> None:
    with at_desk(browser, console) as (desk, watched):
        on_the_call(console, desk)
        desk.click("#logout")
        desk.wait_for_function("() => !document.getElementById('notice').hidden && "
                               "document.getElementById('notice').textContent"
                               ".includes('finish the call first')")
        assert desk.url.endswith("/desk")
        assert desk.request.get("/me").status == 200
        assert ("agent_logout", "zhang") not in console.control.asked
