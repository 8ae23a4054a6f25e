"""While a call rings the desk offers Answer only: no Hang up that would drop the caller."""

from __future__ import annotations

from tests.console.desk_calls import on_call, ringing

from .desk_rig import answering, desk_of, state_is
from .screens import Watched, shoot


def test_a_ringing_call_offers_answer_and_no_hang_up(browser, console) -> None:
    answering(console)
    watched = Watched()
    context, desk = desk_of(browser, console, watched)
    try:
        ringing(console, "c1")
        state_is(desk, "ringing")
        assert desk.is_visible("#btn-answer")
        assert not desk.is_visible("#btn-hangup")
        assert not desk.is_visible("#btn-hold")
        shoot(desk, "desk-ringing")
        on_call(console, "c1")
        state_is(desk, "on call")
        assert desk.is_visible("#btn-hangup") and not desk.is_visible("#btn-answer")
    finally:
        context.close()
    assert watched.errors == []
