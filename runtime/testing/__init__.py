"""The testing surface: test blocks and their expectations, and the FastAGI peer.

What `ccf test` runs, and what a user's own tests may call: the names below
(through `ccf serve`'s FastAGI server: via_asterisk.run_test_over_agi, not
imported here, so `ccf test` loads no Asterisk code). Production code never
imports this package.
"""

from ccdsl.runtime.testing.expectations import Expectation, Outcome
from ccdsl.runtime.testing.runner import TestResult, run_test, run_tests

__all__ = ["Expectation", "Outcome", "TestResult", "run_test", "run_tests"]
