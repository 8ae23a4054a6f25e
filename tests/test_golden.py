"""Golden diagnostics: tests/golden/errors/NAME.ccf -> NAME.out.

Layout:
- Each top-level `tests/golden/errors/NAME.ccf` is one golden. NAME starts
  with the code it demonstrates (`E100_unknown_step.ccf`), and that code must
  be among its diagnostics.
- Files a golden imports live in a folder named after it,
  `tests/golden/errors/NAME/`, and are used as `use NAME.other`; they are
  never goldens themselves (only top-level .ccf files are).
- NAME.out is the text rendering without colour, paths relative to the
  repository root, exactly as `ccf validate` prints it (without the summary).

Regenerate after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py`, then read
the .out files before committing them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ccdsl.cli.common import sources_for
from ccdsl.codes import CODES
from ccdsl.compiler.pipeline import compile_file
from ccdsl.render import render

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "errors"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
# `E306_x.test.ccf`: a test file with no flow beside it is a golden of its own
NAME_PATTERN = re.compile(r"^([EW]\d{3})_[a-z0-9_]+(\.test)?$")

CASES = sorted(GOLDEN.glob("*.ccf"))

# A golden is a file in the repository, so it cannot be a missing file
# (E006) or a file over the size limit (E008); tests/test_cli.py covers them.
NO_GOLDEN_POSSIBLE = {"E006", "E008"}


def rendered(case: Path) -> tuple[str, list]:
    relative = case.relative_to(ROOT).as_posix()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = compile_file(relative, lower=False)
        sources = sources_for(result.diagnostics, result.sources)
    finally:
        os.chdir(cwd)
    return render(result.diagnostics, sources, "text", color=False, root=str(ROOT)), \
        result.diagnostics


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_diagnostics(case: Path) -> None:
    text, diags = rendered(case)
    expected_file = case.with_suffix(".out")
    if UPDATE:
        expected_file.write_text(text, encoding="utf-8")
    assert expected_file.exists(), f"{expected_file.name} is missing; run with UPDATE_GOLDEN=1"
    assert text == expected_file.read_text(encoding="utf-8")
    match = NAME_PATTERN.match(case.stem)
    assert match, f"{case.name}: a golden is named CODE_what.ccf, like E100_unknown_step.ccf"
    code = match.group(1)
    assert code in CODES, f"{case.name}: {code} is not in ccdsl/codes.py"
    assert code in {d.code for d in diags}, \
        f"{case.name} is named after {code} but reports {sorted({d.code for d in diags})}"


def test_every_out_file_has_its_flow() -> None:
    stale = [p.name for p in GOLDEN.glob("*.out") if not p.with_suffix(".ccf").exists()]
    assert stale == []


def test_every_code_has_a_golden() -> None:
    covered = {m.group(1) for c in CASES if (m := NAME_PATTERN.match(c.stem))}
    missing = sorted(set(CODES) - covered - NO_GOLDEN_POSSIBLE)
    assert missing == [], f"codes without a golden in tests/golden/errors: {missing}"
