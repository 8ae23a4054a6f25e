"""The store of known calls (reports/known.py) that the rollup tests share, written once per
session: as a SQLite file, and on each back end. A test must leave it as it found it: it copies
the file, or rolls back what it writes."""

from __future__ import annotations

import pytest

from reports import backends, known


@pytest.fixture(scope="session")
def sqlite_store(tmp_path_factory) -> str:
    """The store as a file: the tests that migrate, rebuild or set back a copy of it."""
    path = str(tmp_path_factory.mktemp("known_store") / "calls.db")
    known.write_store(path, known.make_calls())
    return path


@pytest.fixture(scope="session", params=backends.BACKENDS)
def store(request, sqlite_store) -> str:
    """The known store on each back end (a module may define its own `store`)."""
    return backends.on(request, sqlite_store)
