"""A call cut off at 2 hours prints a text trace of a few dozen lines, not thousands: repeats
of a line, or of a cycle of a few lines, are printed once and then as "... the same N more
times" (runtime/operations/trace_fold.py), in `ccf test` and `ccf simulate`; the JSON forms
keep every event. Unfolding the text gives back every line, in order."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from ccf_cli import ccf
from cut_off import round_and_round, run_loop

from ccdsl.runtime.operations.trace_fold import folded

WAITS = round_and_round("""test "the caller waits":
  call from "+8613900000000"
  expect hangup
""")
FOLD = re.compile(r"^\s*(\+[\d:.]+)  \.\.\. the same (\d+) more times?"
                  r"(?: \(the (\d+) lines above\))?$")


def rests(lines: list[str]) -> list[str]:
    """Each trace line without its offset (what a repeat repeats)."""
    return [line.strip().split(" ", 1)[1].strip() if " " in line.strip() else ""
            for line in lines]


def unfolded(lines: list[str]) -> list[str]:
    """The rests of a folded trace's lines, each fold line replaced by what it stands for:
    its cycle is the lines shown above it, a fold line among them standing for its own."""
    shown: list[list[str]] = []  # each line shown, as the lines it stands for
    for line in lines:
        fold = FOLD.match(line)
        if fold is None:
            shown.append(rests([line]))
            continue
        times, cycle = int(fold[2]), int(fold[3] or 1)
        shown.append([r for lines_ in shown[-cycle:] for r in lines_] * times)
    return [r for lines_ in shown for r in lines_]


def trace_of(text: str) -> list[str]:
    """The trace lines of `ccf test`'s text output (after "trace:")."""
    lines = text.splitlines()
    start = lines.index("    trace:") + 1
    return [line for line in lines[start:] if line.startswith("      ")]


def test_ccf_test_folds_the_loop_and_its_json_keeps_every_event(tmp_path: Path,
                                                                monkeypatch) -> None:
    every = json.loads(run_loop(tmp_path, monkeypatch, WAITS).stdout)["tests"][0]["trace"]
    every = every.splitlines()
    assert len(every) > 6000  # 2 hours of a round every 11.6 s
    result = ccf("test", "loop.ccf")
    assert result.exit_code == 1, result.output
    shown = trace_of(result.stdout)
    folds = [FOLD.match(line) for line in shown if FOLD.match(line)]
    assert len(shown) < 40 and len(folds) == 1, result.stdout
    last, times, cycle = folds[0].groups()
    # the round printed once: step again ... menu exhausted, then how many more and until when
    at = shown.index(folds[0][0])
    assert rests(shown[at - int(cycle):at])[0].endswith("step again")
    assert rests(shown[at - 1:at])[0].endswith("menu: exhausted (attempt 2)")
    assert int(times) > 600 and last.startswith("+1:59:")
    assert shown[-1].strip().endswith("call ended: hangup after 7200s")
    assert unfolded(shown) == rests(every)


def test_ccf_simulate_folds_its_text_and_its_json_keeps_every_event(tmp_path: Path,
                                                                    monkeypatch) -> None:
    (tmp_path / "loop.ccf").write_text(WAITS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    events = ccf("simulate", "loop.ccf", "--format", "json")
    assert events.exit_code == 0, events.output
    kinds = [json.loads(line)["kind"] for line in events.stdout.splitlines()]
    assert len(kinds) > 6000 and kinds[-1] == "call_ended"
    text = ccf("simulate", "loop.ccf")
    assert text.exit_code == 0, text.output
    shown = text.stdout.splitlines()
    assert len(shown) < 40 and sum(1 for line in shown if FOLD.match(line)) == 1, text.stdout
    assert len(unfolded(shown)) == len(kinds)
    assert shown[-1].endswith("call ended: hangup after 7200s")


def lines_of(rests_: list[str]) -> list[tuple[str, str]]:
    return [(f"+{i // 60:02d}:{i % 60:02d}.000", f"  {r}") for i, r in enumerate(rests_)]


def test_a_run_of_one_line_folds_and_a_retry_does_not() -> None:
    text = folded(lines_of(["a", "b", "b", "b", "b", "c", "d", "c", "d", "e"]))
    assert text.splitlines() == [
        "+00:00.000  a", "+00:01.000  b", "+00:04.000  ... the same 3 more times",
        "+00:05.000  c", "+00:06.000  d", "+00:07.000  c", "+00:08.000  d",  # once more: kept
        "+00:09.000  e"]


def test_unfolding_gives_back_every_line_in_order() -> None:
    """Whatever the lines, the folded text stands for them all: none dropped or moved."""
    draw = random.Random(22)
    for _ in range(300):
        cycle = [draw.choice("abc") for _ in range(draw.randint(1, 5))]
        said = [draw.choice("abcd") for _ in range(draw.randint(0, 8))]
        said += cycle * draw.randint(0, 6) + [draw.choice("abcd") for _ in range(3)]
        text = folded(lines_of(said)).splitlines()
        assert unfolded(text) == said, (said, text)
        assert len(text) <= len(said)


def test_a_loop_whose_rounds_hold_a_fold_of_their_own_folds_again() -> None:
    said = (["x", "x", "x", "y"] * 50) + ["end"]
    text = folded(lines_of(said)).splitlines()
    assert rests(text) == [
        "x", "... the same 2 more times", "y", "... the same 49 more times (the 3 lines above)",
        "end"]
    assert unfolded(text) == said
