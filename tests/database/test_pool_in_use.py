"""PostgreSQL only: every connection of the process's pool in use past the wait, while the
server answers, is a busy store (try again), not a server that cannot be reached: the words
must not send an administrator to look for a server that is down, nor a command exit 4."""

from __future__ import annotations

import pytest

from ccdsl.runtime.operations import database
from ccdsl.runtime.operations.database import Unreachable
from ccdsl.runtime.operations.store_errors import passing


def test_a_pool_whose_connections_are_all_in_use_is_busy_not_unreachable(
        pg_url, pg_cluster, monkeypatch) -> None:
    database.close_pools()
    monkeypatch.setattr(database, "POOL_MAX", 1)
    monkeypatch.setattr(database, "POOL_WAIT_S", 0.5)
    held = database.connect(pg_url)
    try:
        with pytest.raises(database.sqlite3.OperationalError) as busy:
            database.connect(pg_url)
    finally:
        held.close()
        database.close_pools()
    said = str(busy.value)
    assert not isinstance(busy.value, Unreachable), said
    assert passing(busy.value), said
    assert "cannot connect" not in said and "came free" in said, said
    assert "in use" in said, said
