"""The agent's desk in Chromium over the console rig (tests/console/rig.py): a real web
server and call store, the agents' states driven by the calls' events the test feeds
(tests/console/desk_calls.py), a control that records what it is asked and can answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.console.desk_calls import on_call, pop, ringing, wrapping_up
from tests.console.rig import PASSWORD, Console

from .screens import Watched, log_in


def answering(console: Console) -> list[tuple[str, str]]:
    """Give the rig's control an Answer (as a simulated centre has): the desk
    then offers it while a call rings. The (agent, call) pairs answered."""
    answered: list[tuple[str, str]] = []
    console.control.answer = lambda agent, call_id: answered.append((agent, call_id))
    return answered


def desk_of(browser, console: Console, watched: Watched, *, agent: str = "zhang",
            width: int = 1280, height: int = 900):
    """A context logged in as `agent` on its desk at the size given."""
    context, page = log_in(browser, console.base, agent, PASSWORD, watched)
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_selector("#desk")
    return context, page


@contextmanager
def at_desk(browser, console: Console, **size) -> Iterator[tuple[Any, Watched]]:
    """desk_of's page (zhang's desk, or `agent=`'s, at `width=` and `height=`) and what it
    watched; its context closed when the block ends, failing or not."""
    watched = Watched()
    context, page = desk_of(browser, console, watched, **size)
    try:
        yield page, watched
    finally:
        context.close()


def on_the_call(console: Console, desk, call_id: str = "c1") -> None:
    """zhang answers `call_id` (tests/console/desk_calls.on_call); back when the desk says so."""
    on_call(console, call_id)
    state_is(desk, "on call")


def form_of(console: Console, desk, call_id: str) -> None:
    """zhang talks on `call_id` and is asked for its wrap-up (tests/console/desk_calls.
    wrapping_up); back when the desk shows the form."""
    wrapping_up(console, call_id)
    desk.wait_for_selector("#wrapup-form:not([hidden])")


def state_is(page, words: str) -> None:
    page.wait_for_function(
        "(w) => document.getElementById('state').textContent === w", arg=words)


def pop_with_last_calls(console: Console, desk, recent: list[dict], *, agent: str = "zhang",
                        call_id: str = "now") -> None:
    """A call rings `agent`, whose desk gets its pop with `recent` as the last calls; back when
    the desk lists them all."""
    ringing(console, call_id)
    payload = pop(console, call_id, recent=recent)
    console.call_soon(lambda: console.feed.publish("pop", payload, agent=agent))
    desk.wait_for_function(
        f"() => document.querySelectorAll('#recent-calls li').length === {len(recent)}")
