"""The agent's desk in Chromium over the console rig (tests/console/rig.py): a real web
server and call store, the agents' states driven by the calls' events the test feeds
(tests/console/desk_calls.py), a control that records what it is asked and can answer."""

from __future__ import annotations

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


def state_is(page, words: str) -> None:
    page.wait_for_function(
        "(w) => document.getElementById('state').textContent === w", arg=words)
