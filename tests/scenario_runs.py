"""What the scenario tests (test_scenarios.py, asterisk/test_scenarios_agi.py) share: a flow
compiled once a run, and a test block's failure explained with its call's trace; it runs
no test block itself."""

from __future__ import annotations

from functools import cache

from ccdsl.compiler.pipeline import compile_file


@cache
def compiled(path: str) -> dict:
    result = compile_file(path)
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    return result.ir


def explain(result, how: str = "failed") -> str:
    """The test block's error or each expectation it failed (with its line), then the trace."""
    from ccdsl.runtime.operations.trace import render_trace

    lines = [f"test {result.name!r} {how}"]
    if result.error:
        lines.append(f"error: {result.error}")
    for outcome in result.outcomes:
        if not outcome.passed:
            exp = outcome.expectation
            lines.append(f"line {exp.loc.get('line')}: {exp.describe()} -- {outcome.happened}")
    lines.append(render_trace(result.events))
    return "\n".join(lines)
