"""The garbage collector of a `ccf serve` process, set once it has started: what start-up
built (modules, flows, configuration) frozen out of every later collection, young ones rarer.

Must not be called by a library or a test process: it changes the whole process. cli/serve.py
and bench/fastagi.py's server process call it once listening.
"""

from __future__ import annotations

import gc

# a call makes and drops thousands of container objects (coroutines, frames' dicts, events);
# at CPython's default of 700 a young collection ran every few commands, each walking the
# calls in flight again
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Collect once, freeze what is left (start-up's objects are never garbage: no
    collection need walk them again), and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
