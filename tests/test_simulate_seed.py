"""`ccf simulate --seed` and a test's `call seed`: random.choose is the same for
a seed, the seed is shown in the trace, and a bad seed is refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

from ccf_cli import ccf

AB = """flow ab:
  languages en-US

on start:
  answer
  greeting = random.choose(["short", "long", "warm"])
  play tts "greeting ${greeting}"
  hangup
"""


def _choice(out: str) -> str:
    lines = [line for line in out.splitlines() if "random choice:" in line]
    assert len(lines) == 1, out
    return lines[0].split("random choice:", 1)[1].strip()


def test_the_same_seed_makes_the_same_choice_and_the_trace_shows_it(tmp_path: Path) -> None:
    flow = tmp_path / "ab.ccf"
    flow.write_text(AB, encoding="utf-8")
    seen = set()
    for seed in range(6):
        first = ccf("simulate", str(flow), "--seed", str(seed))
        assert first.exit_code == 0, first.output
        choice = _choice(first.stdout)
        assert f"seed {seed}, draw 1" in choice
        assert choice == _choice(ccf("simulate", str(flow), "--seed", str(seed)).stdout)
        seen.add(choice.split(" ")[0])
    assert len(seen) > 1  # the seed does pick the branch
    drawn = _choice(ccf("simulate", str(flow)).stdout)
    assert re.search(r"seed \d+, draw 1", drawn)


def test_a_test_pins_the_branch_with_its_seed_and_refuses_a_bad_one(tmp_path: Path) -> None:
    flow = tmp_path / "ab.ccf"
    flow.write_text(AB + """
test "seed 0":
  call from "+8613800000001" seed 0
  expect heard "greeting warm"

test "a fraction is no seed":
  call from "+8613800000001" seed 1.5
  expect hangup
""", encoding="utf-8")
    result = ccf("test", str(flow))
    assert result.exit_code == 1
    assert "ok" in result.stdout.splitlines()[0]
    assert "seed is a whole number 0 or more" in result.output
