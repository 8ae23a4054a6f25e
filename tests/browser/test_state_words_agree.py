"""An agent's state in words, written twice on purpose: by the server's one macros template
(the wallboard's and the agents page's first drawing) and by console.js (their live redraw
from the `wall` event). Both are run here over the same rows and must say the same words,
so a change to one that the other misses fails."""

from __future__ import annotations

import re
from pathlib import Path

from ccdsl.runtime.console.templates import ENV

JS = Path(__file__).resolve().parents[2] / "runtime" / "console" / "static" / "console.js"
TEMPLATES = JS.parents[1] / "templates"

ROWS = [
    {"state": "on_call", "seconds": 65, "held": False, "held_by": []},
    {"state": "paused", "reason": "lunch", "seconds": 3725, "held": False, "held_by": []},
    {"state": "wrapup", "seconds": 0, "held": False, "held_by": []},
    {"state": "on_call", "seconds": 300, "held": True, "held_seconds": 12, "held_by": ["console"]},
    {"state": "on_call", "seconds": 300, "held": True, "held_seconds": 61, "held_by": ["phone"]},
    {"state": "on_call", "seconds": 300, "held": True, "held_seconds": 3600,
     "held_by": ["console", "phone"]},
]

# the wall.js and admin.js redraw, as each writes a row's state cell (text, not tags)
DRAWN = """(rows) => rows.map((a) => ccf.stateWords(a) + " (" + ccf.clock(ccf.stateSeconds(a)) + ")"
                         + ccf.heldBy(a))"""


def macro(row: dict, small: bool) -> str:
    html = ENV.from_string('{% from "macros.html" import agent_state %}'
                           "{{ agent_state(a, small=small) }}").render(a=row, small=small)
    return re.sub(r"<[^>]+>", "", html)


def test_the_pages_and_console_js_say_an_agents_state_in_the_same_words(browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content("<!doctype html><title>words</title>")
        page.add_script_tag(content=JS.read_text(encoding="utf-8"))
        drawn = page.evaluate(DRAWN, ROWS)
    finally:
        context.close()
    assert drawn[3] == "on hold (0:12) by the console"
    assert drawn[5] == "on hold (1:00:00) by the console and the phone"
    assert drawn[1] == "paused: lunch (1:02:05)"
    for row, words in zip(ROWS, drawn, strict=True):
        assert macro(row, small=False) == words, row  # the wallboard
        assert macro(row, small=True) == words, row   # the agents page


def test_the_words_are_written_once_among_the_templates() -> None:
    """An agent's state and the holders' words live in macros.html alone, the clock in
    templates.py: every other template uses them rather than keeping its own copy."""
    for path in TEMPLATES.glob("*.html"):
        if path.name == "macros.html":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\{%-?\s*macro\s+(clock|held_by|agent_state)\b", text), path.name
        # the holders joined anew (prose saying "and the" is not a copy)
        assert not re.search(r"join\(\s*['\"] and the ", text), path.name
