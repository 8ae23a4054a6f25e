"""`ccf simulate` on one terminal: standard output (the trace, some of its lines held back
as a possible repeat) and standard error (notes, warnings, questions) read in the order
things happened, through one real pipe (2>&1); and an --interactive call folds its
repeats as a scripted one does, every held line shown before each question."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cut_off import round_and_round

# `ccf simulate ARGS` with a warning logged (as a screen pop's failure is) just after
# the call's EVENT-th event: what the warning says is that event's offset
ASIDE_AFTER = """
import logging, sys
from ccdsl.cli import main, simulate
from ccdsl.runtime.operations import trace

emit, seen = simulate.TracePrinter.emit, []

def emit_then_aside(self, event):
    emit(self, event)
    seen.append(event)
    if len(seen) == {event}:
        at = round((event.at - self.start).total_seconds() * 1000)
        logging.getLogger("ccdsl.test").warning("ASIDE at %s", trace.offset_text(at))

simulate.TracePrinter.emit = emit_then_aside
sys.argv[0] = "ccf"
main.main()
"""

OFFSET = re.compile(r"^\+(?:(\d+):)?(\d+):(\d+)\.(\d+)")


def _ms(line: str) -> int | None:
    found = OFFSET.match(line)
    if found is None:
        return None
    hours, minutes, seconds, millis = found.groups()
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


FOLD = re.compile(r"\.\.\. the same \d+ more times?(?: \(the (\d+) lines above\))?$")


def _folds_read_true(lines: list[str]) -> None:
    """Each fold's "lines above" are trace lines, right above it: never a note, a warning
    or a question that standard error printed in between."""
    for i, line in enumerate(lines):
        found = FOLD.search(line)
        if found is None or not line.startswith("+"):
            continue
        above = lines[i - int(found.group(1) or 1):i]
        assert all(_ms(a.removeprefix("keys> ")) is not None for a in above), lines[:i + 1]


def _one_pipe(args: list[str], script: str, folder: Path, stdin: str = "") -> list[str]:
    """The lines of `ccf ARGS` run by SCRIPT, standard error into standard output's pipe."""
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=folder, input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout
    return done.stdout.splitlines()


def test_a_warning_during_the_call_comes_after_the_lines_held_before_it(
        tmp_path: Path) -> None:
    (tmp_path / "loop.ccf").write_text(round_and_round(""), encoding="utf-8")
    # the 25th event is in the third round of the loop: lines are held as a repeat
    lines = _one_pipe(["simulate", "loop.ccf", "--at", "2026-11-30 10:00"],
                      ASIDE_AFTER.format(event=25), tmp_path)
    [aside] = [i for i, line in enumerate(lines) if "ASIDE at " in line]
    at = _ms(lines[aside].split("ASIDE at ")[1])
    before = [_ms(line) for line in lines[:aside] if _ms(line) is not None]
    after = [_ms(line) for line in lines[aside + 1:] if _ms(line) is not None]
    assert before and max(before) == at, lines[:aside + 1]
    assert after and min(after) >= at, lines
    # the rest of the call is still folded, but not into the rounds above the warning
    assert any("... the same" in line for line in lines[aside + 1:]), lines
    _folds_read_true(lines)


def test_an_interactive_call_folds_repeats_and_shows_every_line_before_each_question(
        tmp_path: Path) -> None:
    # the caller presses 1 twelve times in one answer: twelve rounds, then asked again
    (tmp_path / "loop.ccf").write_text(round_and_round("", pressed="goto again"),
                                       encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ccdsl.cli.main", "simulate", "loop.ccf",
                           "--at", "2026-11-30 10:00", "--interactive"], cwd=tmp_path,
                          input="1 " * 12 + "\nhangup\n", stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    offsets = [_ms(line.removeprefix("keys> ")) for line in lines]
    offsets = [ms for ms in offsets if ms is not None]
    assert offsets == sorted(offsets), lines  # in the order they happened
    _folds_read_true(lines)
    # the trace's rounds folded, as a scripted call's are
    assert any(re.search(r"\.\.\. the same 1[01] more times \(the 4 lines above\)", line)
               for line in lines), lines
    # what the caller heard since the last question, folded the same way
    second = [i for i, line in enumerate(lines) if line.startswith("keys> ")][1]
    heard = [line for line in lines[:second] if "caller hears" in line or "the same" in line]
    assert heard[-2:] == ['caller hears: "Hi."', "  ... the same 11 more times"], lines
    # every line held back is shown before the caller is asked again
    asked_at = max(ms for ms in map(_ms, lines[:second]) if ms is not None)
    assert asked_at == 4800 and "plays" in [line for line in lines[:second]
                                            if line.startswith("+00:04.800")][-1]
