"""The reports' stores on both back ends: a store is built in SQLite as the tests always built
it, then copied into a database of the session's throwaway PostgreSQL cluster with
`ccf store copy`'s code (runtime/operations/store_copy.py). A module's `store` fixture
parametrized by BACKENDS runs each of its tests once per back end."""

from __future__ import annotations

import pytest

from ccdsl.runtime.operations.database import PASSWORD_ENV, close_pools
from ccdsl.runtime.operations.store_copy import copy_store

BACKENDS = ("sqlite", "postgresql")


def on(request: pytest.FixtureRequest, path: str) -> str:
    """The store at `path` where request.param says: the SQLite file itself, or a new
    PostgreSQL database holding a copy of it (dropped when the fixture's scope ends)."""
    if request.param == "sqlite":
        return path
    return copied(request, path)


def copied(request: pytest.FixtureRequest, path: str) -> str:
    """A new PostgreSQL database with a copy of the SQLite store at `path`: its URL."""
    from tests import pg_cluster as pg

    cluster = request.getfixturevalue("pg_cluster")
    env = pytest.MonkeyPatch()
    env.setenv(PASSWORD_ENV, pg.PASSWORD)
    name = cluster.new_database()

    def drop() -> None:
        close_pools()
        cluster.drop_database(name)
        env.undo()

    request.addfinalizer(drop)
    url = cluster.url(name)
    copy_store(path, url)
    return url
