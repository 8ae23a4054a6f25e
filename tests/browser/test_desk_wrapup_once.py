"""Save is disabled while the wrap-up is being saved: a double click posts it once."""

from __future__ import annotations

import asyncio

from tests.console.desk_calls import store_call

from .desk_rig import at_desk, form_of


def test_a_double_click_on_save_posts_the_wrap_up_once(browser, console) -> None:
    gate = console.run(_event())
    posted: list[str] = []

    async def slow(call_id, body):
        posted.append(call_id)
        await gate.wait()
        return 200, {"ok": True, "call_id": call_id}

    console.ctx.wrapup = slow
    store_call(console, "w1")
    with at_desk(browser, console) as (desk, watched):
        form_of(console, desk, "w1")
        desk.fill(".field[data-field=reason] [name='f.reason']", "order status")
        desk.select_option(".field[data-field=resolved] [name='f.resolved']", "yes")
        desk.dblclick("#btn-wrapup")
        desk.wait_for_function("() => document.getElementById('btn-wrapup').disabled")
        desk.click("#btn-wrapup", force=True)  # a third press while it is saved
        console.call_soon(gate.set)
        desk.wait_for_function("() => document.getElementById('notice').textContent"
                               " === 'wrap-up saved'")
        assert posted == ["w1"]
        assert not desk.is_disabled("#btn-wrapup")


async def _event() -> asyncio.Event:
    return asyncio.Event()
