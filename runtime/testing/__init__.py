"""The testing surface: test blocks and their expectations, and the FastAGI peer.

What `ccf test` (and `--via asterisk`) runs, and what a user's own tests may
call: the names below. Production code never imports this package.
"""

from ccdsl.runtime.testing.expectations import Expectation, Outcome
from ccdsl.runtime.testing.runner import TestResult, run_test, run_tests
from ccdsl.runtime.testing.via_asterisk import run_test_over_agi

__all__ = ["Expectation", "Outcome", "TestResult", "run_test", "run_test_over_agi", "run_tests"]
