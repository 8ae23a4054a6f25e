"""What the `ccdsl` loggers said during a test: caplog that hears them, and the faults in it.

An in-process `ccf serve` gives the `ccdsl` logger its own handler and stops it
propagating; `caplog_ccdsl` hands it caplog's handler as well. Import both into a test module.
"""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def caplog_ccdsl(caplog):
    """caplog at INFO, also fed by the `ccdsl` loggers when an in-process
    `ccf serve` has stopped them propagating."""
    caplog.set_level(logging.INFO)
    ours = logging.getLogger("ccdsl")
    ours.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        ours.removeHandler(caplog.handler)


def problems(caplog) -> list[str]:
    """Log records that would mean a fault escaped: errors, tracebacks."""
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.ERROR or r.exc_info is not None
            or "Traceback" in r.getMessage()]
