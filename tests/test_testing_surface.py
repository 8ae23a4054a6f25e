"""ccdsl.runtime.testing as a user's own test suite would call it."""

from __future__ import annotations

from pathlib import Path

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.testing import TestResult as Result
from ccdsl.runtime.testing import run_test, run_tests

HOTLINE = Path(__file__).resolve().parents[1] / "examples" / "iws" / "hotline.ccf"


def test_run_tests_runs_and_judges_every_test_block_of_a_flow() -> None:
    ir = compile_file(str(HOTLINE)).ir
    assert ir is not None
    results = run_tests(ir)
    assert [r.name for r in results] == [t["name"] for t in ir["tests"]]
    assert len(results) == 18  # examples/iws/hotline.test.ccf
    assert all(isinstance(r, Result) and r.passed for r in results), \
        [(r.name, r.error, [o for o in r.outcomes if not o.passed]) for r in results]


def test_a_broken_expectation_fails_and_says_which_line(tmp_path: Path) -> None:
    flow = tmp_path / "hello.ccf"
    flow.write_text(
        'flow hello\n\nprompt hi:\n  en-US tts "Hi."\n\non start:\n  answer\n  play hi\n'
        '  hangup\n\ntest "a greeting it does play":\n  call from "+10"\n'
        '  expect hangup\n  expect not played hi\n',
        encoding="utf-8")
    result = compile_file(str(flow))
    assert result.ir is not None, result.diagnostics
    (outcome,) = [run_test(result.ir, test) for test in result.ir["tests"]]
    assert not outcome.passed
    assert [o.expectation.describe() for o in outcome.outcomes if not o.passed] == \
        ["expect not played hi"]
