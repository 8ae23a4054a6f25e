"""Run a flow's test blocks as simulated calls and judge each one.

Must not import Asterisk: via_asterisk.py runs test blocks there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta

from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.sim.caller import DEFAULT_MAX_CALL_MS
from ccdsl.runtime.sim.scenario import run_scenario
from ccdsl.runtime.sim.store_template import StoreTemplates
from ccdsl.runtime.testing.blocks import scenario_from_test
from ccdsl.runtime.testing.expectations import CallFacts, Outcome, check_test

# what a failed expectation's `happened` adds when the call was cut off
CUT_OFF = (f"; the call was still going after {DEFAULT_MAX_CALL_MS // 3_600_000} hours, the "
           "longest a test's call runs, and was ended there as if the caller hung up")


@dataclass(frozen=True)
class TestResult:
    """One test block, run and judged."""

    name: str
    loc: dict
    outcomes: tuple[Outcome, ...] = ()
    events: tuple[Event, ...] = ()
    error: str | None = None  # the test could not be run as written
    error_loc: dict | None = None
    seconds: float = 0.0
    # a test block that does not compile: its diagnostics, rendered (ccf test)
    details: str = ""
    concise: str = ""

    @property
    def passed(self) -> bool:
        return self.error is None and all(o.passed for o in self.outcomes)


def run_test(ir: dict, test: dict, *, program=None, runner=None, stores=None) -> TestResult:
    """Run one test block of the IR as a simulated call and judge it.
    `runner` runs the call instead of run_scenario, with its arguments
    (runtime.testing.via_asterisk runs it through `ccf serve`). `stores`
    (runtime.sim.store_template.StoreTemplates, shared by a run's tests) makes
    the call's store a copy of an empty one; without, it is created afresh.
    Either way the call has a store of its own."""

    started = time.perf_counter()
    try:
        scenario = scenario_from_test(ir, test)
    except InputError as exc:
        return TestResult(test["name"], test.get("loc", {}), error=str(exc),
                          error_loc=exc.loc or None)
    program = program if program is not None else load_program(ir, validate=False)
    with tempfile.TemporaryDirectory(prefix="ccf-test-") as workdir:
        try:
            run = asyncio.run((runner or run_scenario)(program, ir, scenario, workdir=workdir,
                                                       stores=stores))
        except InputError as exc:
            return TestResult(scenario.name, scenario.loc, error=str(exc),
                              error_loc=exc.loc or None)
    outcomes = check_test(scenario.expectations, CallFacts(run.events, run.created, run.unanswered),
                     scenario.loc)
    if _cut_off(run.events):
        outcomes = [o if o.passed else dataclasses.replace(o, happened=o.happened + CUT_OFF)
                    for o in outcomes]
    return TestResult(scenario.name, scenario.loc, tuple(outcomes), tuple(run.events),
                      seconds=time.perf_counter() - started)


def _cut_off(events) -> bool:
    """Whether the caller hung up because the call reached the simulator's longest call (a
    flow that never lets the caller go). A test's `hangup` line that took effect hung up
    before it; one that did not (a step never entered, an `after` past the limit) is no
    reason to keep quiet."""
    if not events:
        return False
    start = events[0].at
    return any(e.kind == "hangup" and e.data.get("by") == "caller"
               and e.at - start >= timedelta(milliseconds=DEFAULT_MAX_CALL_MS) for e in events)


def run_tests(ir: dict) -> list[TestResult]:
    """Every test block of the IR, in order."""

    program = load_program(ir, validate=False)
    with StoreTemplates() as stores:
        return [run_test(ir, test, program=program, stores=stores)
                for test in ir.get("tests", [])]
