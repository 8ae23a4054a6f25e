"""Each command's short help (its docstring's first paragraph, which `ccf --help` and a
group's help list) is one line of text, so the listing wraps it at the terminal's width
and never mid-sentence at a line break of the source."""

from __future__ import annotations

import re

from ccf_cli import ccf, every_command


def test_every_short_help_is_one_paragraph_without_line_breaks():
    broken = {}
    for words, command in every_command().items():
        text = (command.short_help or command.help or "").strip()
        first = text.split("\n\n", 1)[0]
        if "\n" in first:
            broken[" ".join(words) or "ccf"] = first
    assert broken == {}


def test_ccf_help_lists_graph_and_lsp_without_a_broken_line():
    listing = ccf("--help").output
    for name in ("graph", "lsp"):
        row = re.search(rf"│ {name} +(.+?)│\n(?=│ \w)", listing, re.S)
        assert row is not None, listing
        lines = [line.strip(" │") for line in row.group(0).splitlines()]
        # every line but the last is filled to the width: no line ends early
        assert all(len(line) > 50 for line in lines[:-1]), lines
