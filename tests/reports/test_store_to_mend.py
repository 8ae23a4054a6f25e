"""A call store missing a table a report reads (dropped by hand) is a store to mend, said so by
`ccf report` and the console's Reports page alike (as every other console page says it), not
"not a call store"; a file that never was a call store is still said to be none."""

from __future__ import annotations

import sqlite3

import pytest

from ccdsl.runtime.operations.reports import query
from ccdsl.runtime.operations.store import CallStore


@pytest.fixture
def store_missing_a_table(tmp_path):
    path = tmp_path / "calls.db"
    CallStore(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE node_visits")
    db.commit()
    db.close()
    return path


def test_a_store_missing_a_table_is_to_mend(store_missing_a_table) -> None:
    with pytest.raises(query.StoreNeedsMending) as broken:
        query.open_store(str(store_missing_a_table))
    said = str(broken.value)
    assert "node_visits" in said and "must be mended first" in said, said
    assert "not a call store" not in said


def test_ccf_report_says_to_mend_it_and_exits_2(store_missing_a_table) -> None:
    from ccf_cli import ccf

    said = ccf("report", "--store", str(store_missing_a_table))
    assert said.exit_code == 2, said.output
    assert "must be mended first" in said.output and "Traceback" not in said.output


def test_a_file_that_is_no_call_store_is_still_said_to_be_none(tmp_path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(query.ReportError) as none:
        query.open_store(str(path))
    assert not isinstance(none.value, query.StoreNeedsMending)
    assert "is not a call store" in str(none.value)
