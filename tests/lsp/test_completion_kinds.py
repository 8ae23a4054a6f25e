"""The expectation kinds completion offers in a test block are ones a test may write: the
grammar reads each and the checker knows it (no async client needed, so apart from
test_completion.py's asyncio-marked tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ccdsl.compiler.checks.tests import EXPECT_KINDS
from ccdsl.compiler.pipeline import compile_file

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_offered_is_one_a_test_may_expect(tmp_path: Path) -> None:
    """The offered kinds are read by the grammar and known to the checker: none of them is
    E001 (does not parse) or `is not something a test can expect`."""
    folder = shutil.copytree(ROOT / "examples" / "iws", tmp_path / "iws")
    # and one kind no test may expect, so the check is seen to read the file
    kinds = (*EXPECT_KINDS, "weather")
    lines = [f'test "{k}":\n  call from "+8613800000001"\n  expect {k}\n' for k in kinds]
    (folder / "hotline.test.ccf").write_text("\n".join(lines), encoding="utf-8")
    ds = compile_file(str(folder / "hotline.ccf"), lower=False).diagnostics
    refused = [d for d in ds if d.code == "E001" or "not something" in d.message]
    assert [d.span.line for d in refused] == [4 * len(EXPECT_KINDS) + 3], refused
