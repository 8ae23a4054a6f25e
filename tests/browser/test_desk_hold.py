"""Hold shows on the desk: the state reads "on hold" until Resume, a reload too."""

from __future__ import annotations

from .desk_rig import at_desk, on_the_call, state_is
from .screens import shoot


def test_hold_reads_on_hold_until_resume(browser, console) -> None:
    with at_desk(browser, console) as (desk, watched):
        on_the_call(console, desk)
        desk.click("#btn-hold")
        state_is(desk, "on hold")
        assert desk.is_visible("#btn-resume") and not desk.is_visible("#btn-hold")
        desk.reload()
        state_is(desk, "on hold")
        assert desk.inner_text("#state") == "On hold"  # as it reads (first letter up)
        shoot(desk, "desk-on-hold")
        desk.click("#btn-resume")
        state_is(desk, "on call")
        assert ("hold", "c1", True) in console.control.asked
        assert ("hold", "c1", False) in console.control.asked
    assert watched.errors == []


def test_the_consoles_resume_leaves_the_phones_hold_shown(browser, console) -> None:
    """The console holds, then the agent's phone holds too (ccf serve's AMI side tells the
    desk: AgentDesk.phone_hold): Resume takes off the console's hold only, and the desk reads
    "on hold (phone)", with Hold offered again, until the phone's Unhold."""
    with at_desk(browser, console) as (desk, watched):
        on_the_call(console, desk)
        desk.click("#btn-hold")
        state_is(desk, "on hold")
        console.call_soon(console.desk.phone_hold, "zhang", True)
        state_is(desk, "on hold (console and phone)")
        desk.click("#btn-resume")
        state_is(desk, "on hold (phone)")
        assert desk.is_visible("#btn-hold") and not desk.is_visible("#btn-resume")
        desk.reload()
        state_is(desk, "on hold (phone)")
        assert desk.is_visible("#btn-hold") and not desk.is_visible("#btn-resume")
        shoot(desk, "desk-on-hold-phone")
        console.call_soon(console.desk.phone_hold, "zhang", False)
        state_is(desk, "on call")
        assert desk.is_visible("#btn-hold") and not desk.is_visible("#btn-resume")
        assert [a for a in console.control.asked if a[0] == "hold"] == [
            ("hold", "c1", True), ("hold", "c1", False)]
    assert watched.errors == []
