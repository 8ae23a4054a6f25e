"""The rollups a store adds as calls end (rollup.calls_ended: each rollup's grains in one
statement, the calls joined by id, some at a time) are the rollups made again from the rows
(rollup.BACKFILL, one statement per rollup and grain), on both back ends, however the calls'
ends fall into writes: one call a write, a few, more than ADD_AT_ONCE, repeated ids."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.database import connect


def _rollups(db) -> dict[str, list[tuple]]:
    return {r.table: sorted(tuple(row) for row in db.execute(f"SELECT * FROM {r.table}"))
            for r in rollup.ROLLUPS}


def _ended(db) -> list[str]:
    return [row[0] for row in db.execute(
        "SELECT call_id FROM calls WHERE outcome IS NOT NULL ORDER BY call_id")]


def _added(db, writes: list[list[str]]) -> dict[str, list[tuple]]:
    """The rollups emptied, then the calls added write by write (rolled back after)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for r in rollup.ROLLUPS:
            db.execute(f"DELETE FROM {r.table}")
        for ids in writes:
            rollup.calls_ended(db, ids)
        return _rollups(db)
    finally:
        db.execute("ROLLBACK")


def _made_again(db) -> dict[str, list[tuple]]:
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql in rollup.BACKFILL:
            db.execute(sql)
        return _rollups(db)
    finally:
        db.execute("ROLLBACK")


def _figures(store: str) -> dict[str, list[tuple]]:
    db = connect(store)
    try:
        return _made_again(db)
    finally:
        db.close()


# the rows' figures, made once per store: the tests roll back whatever they write to it
@pytest.fixture(scope="module")
def rows_figures(store: str) -> dict[str, list[tuple]]:
    return _figures(store)


@pytest.fixture(scope="module")
def sqlite_rows_figures(sqlite_store: str) -> dict[str, list[tuple]]:
    return _figures(sqlite_store)


@pytest.mark.parametrize("size", [1, 3, rollup.ADD_AT_ONCE, rollup.ADD_AT_ONCE + 7, 10_000])
def test_calls_added_in_writes_of_any_size_give_the_rows_figures(store: str, rows_figures,
                                                                size: int) -> None:
    db = connect(store)
    try:
        expected = rows_figures
        assert all(expected.values())
        ids = _ended(db)
        random.Random(size).shuffle(ids)
        writes = [ids[i:i + size] for i in range(0, len(ids), size)]
        assert _added(db, writes) == expected
    finally:
        db.close()


def test_the_rollups_kept_as_calls_ended_are_the_rows_figures(store: str, rows_figures) -> None:
    """known.write_store wrote the calls through a live store (its writer's batches as they
    came) and their wrap-ups after: what it kept is what the rows give."""
    db = connect(store)
    try:
        assert _rollups(db) == rows_figures
    finally:
        db.close()


def test_an_id_named_twice_and_an_id_without_a_row_add_nothing_more(
        sqlite_store: str, sqlite_rows_figures) -> None:
    db = connect(sqlite_store)
    try:
        ids = _ended(db)
        assert _added(db, [[*ids[:5], *ids[:5], "no-such-call"], ids[5:]]) == sqlite_rows_figures
    finally:
        db.close()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_split_of_the_calls_into_writes(sqlite_store: str, sqlite_rows_figures,
                                           data) -> None:
    db = connect(sqlite_store)
    try:
        ids = data.draw(st.permutations(_ended(db)))
        cuts = sorted(data.draw(st.sets(st.integers(1, len(ids) - 1), max_size=20)))
        writes = [ids[a:b] for a, b in zip([0, *cuts], [*cuts, len(ids)], strict=True)]
        assert _added(db, writes) == sqlite_rows_figures
    finally:
        db.close()

