"""Shared test hygiene: no test leaves the `ccdsl` loggers changed for the next one, and
no test reads or writes the user's compiler cache (~/.cache/ccdsl)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

import pytest

_CACHE_ENV = "CCF_CACHE_DIR"
_made: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # the whole session (and every ccf it starts as a subprocess) caches in a folder of its
    # own, removed at the end; a folder set outside (CCF_CACHE_DIR=...) is used as given
    if not os.environ.get(_CACHE_ENV):
        folder = tempfile.mkdtemp(prefix="ccf-test-cache-")
        _made.append(folder)
        os.environ[_CACHE_ENV] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _made:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get(_CACHE_ENV) == folder:
            del os.environ[_CACHE_ENV]


@pytest.fixture(autouse=True)
def _ccdsl_logging_restored():
    # an in-process `ccf serve` gives the `ccdsl` logger its own handler and
    # stops it propagating; caplog in a later test would then see nothing
    ours = logging.getLogger("ccdsl")
    saved = (list(ours.handlers), ours.level, ours.propagate)
    yield
    ours.handlers[:], ours.level, ours.propagate = saved[0], saved[1], saved[2]
