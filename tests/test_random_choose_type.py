"""`random.choose(items)` has the type of the list's items (issue 13): a choice among
texts is a text, so using it as a number is an error; an empty list is a run-time
error, never a null, so the choice is not nullable."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file


def errors(tmp_path: Path, lines: str) -> list[tuple[str, str]]:
    path = tmp_path / "flow.ccf"
    inner = textwrap.indent(textwrap.dedent(lines).strip("\n") + "\n", "  ")
    path.write_text("flow f\n\non start:\n  answer\n" + inner + "  hangup\n", encoding="utf-8")
    return [(d.code, d.message) for d in compile_file(str(path), lower=False).diagnostics
            if d.is_error]


def test_a_choice_among_texts_is_a_text(tmp_path: Path) -> None:
    found = errors(tmp_path, """
        greeting = random.choose(["Hello.", "Welcome."])
        wait_for = greeting * 2
    """)
    assert [code for code, _ in found] == ["E300"]
    assert "text" in found[0][1]


def test_a_choice_is_not_null_and_keeps_its_item_type(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        delay = random.choose([1s, 2s], weights: [1, 3])
        wait delay
        n = random.choose([1, 2, 3])
        if n > 1:
          play tts "more"
        greeting = random.choose(["Hello.", "Welcome."])
        play tts greeting + " Thank you."
    """) == []
