"""The canonical formatter: golden cases, idempotency, comments kept.

Golden cases: tests/golden/fmt/NAME.ccf is formatted and compared with
NAME.expected.ccf. Regenerate with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_format.py`, then
read the .expected.ccf files before committing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ccdsl.compiler.comments import scan
from ccdsl.compiler.formatter import format_source
from ccdsl.compiler.parser import parse_source
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "fmt"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXPECTED_SUFFIX = ".expected.ccf"

GOLDEN_CASES = sorted(p for p in GOLDEN.glob("*.ccf") if not p.name.endswith(EXPECTED_SUFFIX))


def corpus() -> list[Path]:
    """Every flow in the repository that should parse: examples, the
    standard library, the IR goldens and the formatter goldens."""
    files: list[Path] = []
    for folder in ("examples", "stdlib_flows", "tests/golden/ok", "tests/golden/fmt"):
        files.extend(sorted((ROOT / folder).rglob("*.ccf")))
    return files


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _format(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    out, diags = format_source(text, str(path))
    assert out is not None, f"{path} does not parse: {diags}"
    return out


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=_id)
def test_golden(case: Path) -> None:
    expected_path = case.with_name(case.name[: -len(".ccf")] + EXPECTED_SUFFIX)
    out = _format(case)
    if UPDATE:
        expected_path.write_text(out, encoding="utf-8")
    assert expected_path.exists(), f"no {expected_path.name}; run with UPDATE_GOLDEN=1"
    assert out == expected_path.read_text(encoding="utf-8")


def test_golden_cases_exist() -> None:
    assert {c.stem for c in GOLDEN_CASES} >= {"comments", "layout", "precedence", "strings"}


@pytest.mark.parametrize("path", corpus(), ids=_id)
def test_idempotent_and_same_meaning(path: Path) -> None:
    once = _format(path)
    assert _format_text(once, path) == once
    original, _ = parse_source(SourceFile(str(path), path.read_text(encoding="utf-8")))
    formatted, diags = parse_source(SourceFile(str(path), once))
    assert not [d for d in diags if d.severity.name == "ERROR"]
    assert formatted == original


@pytest.mark.parametrize("path", corpus(), ids=_id)
def test_comments_survive_in_order(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    out = _format(path)
    position = 0
    for comment in scan(text):
        found = out.find(comment.text, position)
        assert found >= 0, f"lost or reordered comment on line {comment.line}: {comment.text}"
        position = found + len(comment.text)


def _format_text(text: str, path: Path) -> str:
    out, diags = format_source(text, str(path))
    assert out is not None, diags
    return out


def test_canonical_layout_rules() -> None:
    text = (
        "step s:\n"
        "    x   =   1+2\n"
        "\n\n\n"
        "    menu   timeout 5s:\n"
        "        1:\n"
        "            goto s\n"
        "        timeout,invalid -> hangup\n"
        "step t:\n"
        "    hangup\n"
    )
    out = _format_text(text, Path("t.ccf"))
    assert out == (
        "step s:\n"
        "  x = 1 + 2\n"
        "\n"
        "  menu timeout 5s:\n"
        "    1 -> goto s\n"
        "    timeout, invalid -> hangup\n"
        "\n"
        "step t:\n"
        "  hangup\n"
    )


def test_queue_declaration_fits_on_one_line_or_becomes_a_block() -> None:
    short = _format_text("queue q:\n  skills [a]\n  max_wait 5s\n", Path("q.ccf"))
    assert short == "queue q skills [a] max_wait 5s\n"
    skills = ", ".join(f"skill_{i}" for i in range(10))
    one_line = f"queue q skills [{skills}] max_wait 5s music \"hold\""
    assert len(one_line) > 100
    long = _format_text(one_line + "\n", Path("q.ccf"))
    assert long == f"queue q:\n  skills [{skills}]\n  max_wait 5s\n  music \"hold\"\n"


def test_syntax_error_gives_no_text_and_a_diagnostic() -> None:
    out, diags = format_source("step s:\nhangup\n", "bad.ccf")
    assert out is None
    assert diags and diags[0].code.startswith("E0")


def test_comment_that_fits_nowhere_is_kept() -> None:
    text = "step s:\n  if a:\n    hangup\n  else:  # on else\n    hangup\n# end\n"
    out = _format_text(text, Path("c.ccf"))
    assert "# on else" in out and out.rstrip().endswith("# end")
