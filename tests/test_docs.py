"""The long explanations and docs/diagnostics.md: every code is explained
with an example that really triggers it, and the reference is up to date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ccdsl import diagnostics_doc
from ccdsl.codes import CODES, explanation
from ccdsl.compiler.pipeline import compile_file

ROOT = Path(__file__).resolve().parent.parent
EXPLANATIONS = ROOT / "ccdsl" / "explanations"

# Codes about the file itself (unreadable, not UTF-8, too large, empty) or
# about several files (an import cycle) cannot be shown by one flow text.
NOT_SHOWN_BY_ONE_FLOW = {"E006", "E007", "E008", "E009", "E104", "E306"}

CODE_LIST = sorted(CODES)


def _ccf_block(text: str, heading: str) -> str | None:
    section = re.search(rf"^## {heading}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not section:
        return None
    block = re.search(r"```ccf\n(.*?)```", section.group(1), re.S)
    return block.group(1) if block else None


@pytest.mark.parametrize("code", CODE_LIST)
def test_code_has_an_explanation_with_an_example(code: str) -> None:
    path = EXPLANATIONS / f"{code}.md"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: "), f"{path.name} starts with `# {code}: title`"
    assert "\n## Example" in text
    assert explanation(code) == text


@pytest.mark.parametrize("code", sorted(set(CODE_LIST) - NOT_SHOWN_BY_ONE_FLOW))
def test_example_triggers_its_code_and_the_fix_does_not(code: str, tmp_path: Path) -> None:
    text = explanation(code)
    assert text is not None, f"ccdsl/explanations/{code}.md is missing"
    example = _ccf_block(text, "Example")
    fix = _ccf_block(text, "Fix")
    assert example, f"{code}.md: `## Example` holds a ```ccf block"
    assert fix, f"{code}.md: `## Fix` holds a ```ccf block"
    flow = tmp_path / "example.ccf"
    flow.write_text(example, encoding="utf-8")
    codes = [d.code for d in compile_file(str(flow), lower=False).diagnostics]
    assert code in codes, f"the example of {code} reports {codes}"
    flow.write_text(fix, encoding="utf-8")
    after = compile_file(str(flow), lower=False).diagnostics
    assert code not in [d.code for d in after], f"the fix of {code} still reports it"
    assert not [d for d in after if d.is_error], f"the fix of {code} has errors: {after}"


def test_every_code_is_documented_in_the_reference() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code in CODE_LIST:
        assert f"### {code}:" in doc, f"docs/diagnostics.md has no section for {code}"


def test_reference_is_generated_from_the_explanations() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert doc == diagnostics_doc.generate(), \
        "docs/diagnostics.md is stale: run `python -m ccdsl.diagnostics_doc > docs/diagnostics.md`"
