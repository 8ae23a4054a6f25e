"""Every command's usage line names its arguments as click and man pages do: PATH for
one, PATH... for several, [CODE] for an optional one; never typer's `{PATH}`."""

from __future__ import annotations

import pytest
from ccf_cli import ccf, every_command

COMMANDS = list(every_command())


def usage_line(*words: str) -> str:
    result = ccf(*words, "--help", env={"COLUMNS": "120", "TERMINAL_WIDTH": "120"})
    assert result.exit_code == 0, result.output
    return next(line.strip() for line in result.output.splitlines() if "Usage:" in line)


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w) or "ccf" for w in COMMANDS])
def test_no_usage_line_wraps_an_argument_in_braces(words) -> None:
    line = usage_line(*words)
    assert "{" not in line and "}" not in line, line


@pytest.mark.parametrize(("words", "usage"), [
    (("validate",), "Usage: ccf validate [OPTIONS] PATH..."),
    (("fmt",), "Usage: ccf fmt [OPTIONS] PATH..."),
    (("test",), "Usage: ccf test [OPTIONS] PATH..."),
    (("prompts", "check"), "Usage: ccf prompts check [OPTIONS] PATH..."),
    (("compile",), "Usage: ccf compile [OPTIONS] FILE"),
    (("explain",), "Usage: ccf explain [OPTIONS] [CODE]"),
    (("deploy",), "Usage: ccf deploy [OPTIONS] [PATH]"),
    (("store", "copy"), "Usage: ccf store copy [OPTIONS] SOURCE DEST"),
])
def test_usage_lines_say_how_many_arguments(words, usage) -> None:
    assert usage_line(*words) == usage

