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


# ---- PostgreSQL: one throwaway cluster per session, started when a test first asks for it ----

@pytest.fixture(scope="session")
def pg_cluster():
    from tests import pg_cluster as pg

    cluster = pg.start()
    yield cluster
    from ccdsl.runtime.operations.database import close_pools

    close_pools()
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster, monkeypatch):
    """A new, empty PostgreSQL database's URL; its password in CCF_STORE_PASSWORD, as a
    deployment gives it."""
    from ccdsl.runtime.operations.database import PASSWORD_ENV, close_pools
    from tests import pg_cluster as pg

    monkeypatch.setenv(PASSWORD_ENV, pg.PASSWORD)
    name = pg_cluster.new_database()
    yield pg_cluster.url(name)
    close_pools()
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path):
    """Where a call store lives, once per back end: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "calls.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def welcome_flow(tmp_path):
    """ccf_cli.WELCOME_FLOW written as tmp_path/desk.ccf: a flow with nothing to warn of."""
    from ccf_cli import WELCOME_FLOW

    path = tmp_path / "desk.ccf"
    path.write_text(WELCOME_FLOW, encoding="utf-8")
    return path


@pytest.fixture
def simulated_store(tmp_path, welcome_flow):
    """A SQLite call store, tmp_path/calls.db, holding one simulated call of welcome_flow."""
    from ccf_cli import ccf

    path = tmp_path / "calls.db"
    result = ccf("simulate", str(welcome_flow), "--store", str(path))
    assert result.exit_code == 0, result.output
    return path
