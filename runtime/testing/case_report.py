"""One test of a `ccf test` run as its reporters (JSON, JUnit) see it: plain data, the
paths already as the reader sees them. Runs nothing and renders nothing."""

from __future__ import annotations

from dataclasses import dataclass

PASSED = "passed"
FAILED = "failed"  # the call ran and an expectation did not hold
ERROR = "error"  # the test could not run: its flow or its block does not compile, or its set-up
NOT_RUN = "not-run"  # --fail-fast stopped before it
DESELECTED = "deselected"  # -k left it out
OUTCOMES = (PASSED, FAILED, ERROR, NOT_RUN, DESELECTED)

# the name of the one case a flow that does not compile becomes
COMPILE_CASE = "compile"


@dataclass(frozen=True)
class Failure:
    """Why a test failed: an expectation and what happened instead, or an error."""

    message: str
    file: str
    line: int
    column: int = 1
    happened: str | None = None


@dataclass(frozen=True)
class CaseReport:
    flow: str  # the flow the test runs against: its suite
    file: str  # the file the test block is written in
    name: str
    line: int
    outcome: str
    seconds: float = 0.0
    failures: tuple[Failure, ...] = ()
    details: str = ""  # a compile error's diagnostics, one a line
    trace: str = ""  # the call's trace, when it is shown

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass(frozen=True)
class Totals:
    passed: int
    failed: int
    errors: int
    not_run: int
    deselected: int
    seconds: float

    @property
    def tests(self) -> int:
        """The tests of the run: every selected one, run or not."""
        return self.passed + self.failed + self.errors + self.not_run


def totals(cases: list[CaseReport], seconds: float) -> Totals:
    def count(outcome: str) -> int:
        return sum(1 for case in cases if case.outcome == outcome)

    return Totals(count(PASSED), count(FAILED), count(ERROR), count(NOT_RUN), count(DESELECTED),
                  seconds)
