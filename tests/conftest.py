"""Shared test hygiene: no test leaves the `ccdsl` loggers changed for the next one."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def _ccdsl_logging_restored():
    # an in-process `ccf serve` gives the `ccdsl` logger its own handler and
    # stops it propagating; caplog in a later test would then see nothing
    ours = logging.getLogger("ccdsl")
    saved = (list(ours.handlers), ours.level, ours.propagate)
    yield
    ours.handlers[:], ours.level, ours.propagate = saved[0], saved[1], saved[2]
