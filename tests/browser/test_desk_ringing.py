"""While a call rings the desk offers Answer only: no Hang up that would drop the caller."""

from __future__ import annotations

from tests.console.desk_calls import ringing

from .desk_rig import answering, at_desk, on_the_call, state_is
from .screens import shoot


def test_a_ringing_call_offers_answer_and_no_hang_up(browser, console) -> None:
    answering(console)
    with at_desk(browser, console) as (desk, watched):
        ringing(console, "c1")
        state_is(desk, "ringing")
        assert desk.is_visible("#btn-answer")
        assert not desk.is_visible("#btn-hangup")
        assert not desk.is_visible("#btn-hold")
        shoot(desk, "desk-ringing")
        on_the_call(console, desk)
        assert desk.is_visible("#btn-hangup") and not desk.is_visible("#btn-answer")
    assert watched.errors == []
