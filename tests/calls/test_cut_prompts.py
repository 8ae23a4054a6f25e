"""A menu's or a collect's prompt cut off by the caller hanging up leaves a
`prompt_played` saying so and how much was heard, as a `play` cut off does
(issue 13). Both runtimes: the simulator and ccf serve through the FastAGI
peer."""

from __future__ import annotations

import pytest

from calls.world import ROOT, RUNTIMES, run_on

FLOW = ROOT / "tests" / "scenarios" / "cut_prompt_line.ccf"


def _played(run) -> list[dict]:
    return [e.data for e in run.events if e.kind == "prompt_played"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_menu_prompt_cut_off_by_a_hang_up_says_how_much_was_heard(runtime, tmp_path):
    run = run_on(runtime, FLOW, "the caller hangs up during the menu's prompt", tmp_path)
    (played,) = _played(run)
    assert (played["prompt"], played["interrupted_by"]) == ("choices", "hangup")
    assert played["ms"] == 1000
    hung = [e for e in run.events if e.kind == "hangup"]
    assert hung and hung[0].data["by"] == "caller"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_collect_prompt_cut_off_by_a_hang_up_says_how_much_was_heard(runtime, tmp_path):
    run = run_on(runtime, FLOW, "the caller hangs up during the collect's prompt", tmp_path)
    menu, card = _played(run)
    assert menu["prompt"] == "choices"
    assert (card["prompt"], card["interrupted_by"], card["ms"]) == ("card_number", "hangup", 1000)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_hang_up_while_waiting_for_a_key_leaves_the_prompt_heard_whole(runtime, tmp_path):
    run = run_on(runtime, FLOW,
                 "the caller hangs up after the menu's prompt, while it waits for a key", tmp_path)
    (played,) = _played(run)
    assert (played["prompt"], played["interrupted_by"]) == ("choices", None)
    assert "ms" not in played  # played with the wait for keys, as any menu prompt
