"""`ccf store prune --before`: the ended calls before the date go with every row of theirs,
calls in progress and calls with a call-back still to dial stay, and `ccf report` over the
pruned days gives the same figures from the rollups as before the prune."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading

import pytest
from ccf_cli import ccf
from reports import backends, known

from ccdsl.cli.exit_codes import USAGE
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store_prune import CALL_TABLES, prune

CUTOFF = "2026-11-30"  # midnight in the store's zone, Asia/Shanghai
CUTOFF_MS = 1_795_968_000_000  # 2026-11-29T16:00Z


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("prune") / "calls.db")
    known.write_store(path, known.make_calls())
    return path


@pytest.fixture
def store(made: str, tmp_path) -> str:
    path = str(tmp_path / "calls.db")
    shutil.copy(made, path)
    return path


def _count(path: str, sql: str, *args) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchone()[0]
    finally:
        db.close()


def _report(store: str, *args: str) -> dict:
    """The report's figures (its every section) and the range it covers."""
    result = ccf("report", "--store", store, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sections"]["summary"]
    return {"covers": report["covers"], "sections": report["sections"]}


# the rollups are kept per UTC day and quarter hour (runtime/operations/rollup.py), so a
# range of whole local days in any zone of today is read from the rollups alone
# (docs/operations.md "Retention")
UTC_CUTOFF = "2026-11-30T00:00Z"
UTC_CUTOFF_MS = 1_795_996_800_000


@pytest.mark.parametrize("interval", ["day", "hour", "month"])
def test_the_report_over_the_pruned_days_is_unchanged(store: str, interval: str) -> None:
    asked = ("--from", "2026-11-28", "--to", "2026-11-29", "--zone", "UTC",
             "--interval", interval)
    before = _report(store, *asked)
    result = ccf("store", "prune", "--before", UTC_CUTOFF, "--store", store)
    assert result.exit_code == 0, result.output
    assert _count(store, "SELECT count(*) FROM calls WHERE ended_ms < ?", UTC_CUTOFF_MS) == 0
    assert _count(store, "SELECT count(*) FROM calls WHERE started_ms < ?", UTC_CUTOFF_MS) < 5
    assert _report(store, *asked) == before


@pytest.fixture(params=backends.BACKENDS)
def either(request, store: str) -> str:
    """The pruned test's store on each back end."""
    return backends.on(request, store)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Kolkata"])
@pytest.mark.parametrize("interval", ["day", "hour"])
def test_a_report_in_another_zone_over_the_pruned_days_is_unchanged(
        either: str, zone: str, interval: str) -> None:
    """Days that begin at 16:00 or 18:30 UTC: the agents, nodes and choices too come from
    the quarter hours of the rollups, and a prune leaves every figure as it was."""
    asked = ("--from", "2026-11-28", "--to", "2026-11-29", "--zone", zone,
             "--interval", interval)
    before = _report(either, *asked)
    assert before["sections"]["agents"] and before["sections"]["nodes"]
    result = ccf("store", "prune", "--before", CUTOFF, "--store", either)
    assert result.exit_code == 0, result.output
    assert int(result.output.splitlines()[1].split()[-1]) > 50  # the calls it deleted
    after = ccf("report", "--store", either, "--format", "json", *asked)
    assert after.exit_code == 0 and "pruned" not in after.stderr
    assert _report(either, *asked) == before


def test_with_a_queue_the_node_sections_over_the_pruned_days_are_unchanged(either: str) -> None:
    """--queue keeps a call by any of its queue visits: the node and choice figures
    come from the node rollup kept per queue the call joined (the queue and agent ones
    from their own rollups); the summary and the calls per
    period still read the rows (the warning says so)."""
    asked = ("--from", "2026-11-28", "--to", "2026-11-29", "--queue", "service")
    before = _report(either, *asked)["sections"]
    assert before["nodes"] and before["choices"]
    ccf("store", "prune", "--before", CUTOFF, "--store", either)
    after = _report(either, *asked)["sections"]
    for name in ("nodes", "choices", "queues", "service", "agents"):
        assert after[name] == before[name], name
    assert after["summary"] != before["summary"]


def test_a_report_reading_pruned_rows_says_so_and_one_from_the_rollups_does_not(
        store: str) -> None:
    ccf("store", "prune", "--before", UTC_CUTOFF, "--store", store)
    assert _count(store, "SELECT value FROM meta WHERE key = 'pruned_before_ms'") == \
        str(UTC_CUTOFF_MS)
    for asked in (("--zone", "UTC"), (), ("--zone", "Asia/Kathmandu"),
                  ("--from", "2026-11-28T09:15", "--to", "2026-11-28T10:45")):
        whole = ccf("report", "--store", store, "--from", "2026-11-28", *asked)
        assert whole.exit_code == 0 and "pruned" not in whole.stderr, asked
    after = ccf("report", "--store", store, "--from", "2026-11-30", "--zone", "UTC",
                "--queue", "sales")
    assert after.exit_code == 0 and "pruned" not in after.stderr
    for asked, why in ((("--zone", "UTC", "--queue", "sales"), "with --queue sales"),
                       (("--agent", "li"), "with --agent li"),
                       (("--within", "7s"), "with --within 7"),
                       (("--from", "2026-11-28T09:10"), "a range not on whole quarter hours")):
        result = ccf("report", "--store", store, "--from", "2026-11-28", *asked)
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("warning: calls that ended before 2026-11-30T")
        assert why in result.stderr and "rollups kept the totals" in result.stderr
    # a later prune moves the horizon on; an earlier one never moves it back
    ccf("store", "prune", "--before", "2026-11-20T00:00Z", "--store", store)
    assert _count(store, "SELECT value FROM meta WHERE key = 'pruned_before_ms'") == \
        str(UTC_CUTOFF_MS)


def test_prints_what_it_removed_per_table_and_the_rows_are_gone(store: str) -> None:
    ended = _count(store, "SELECT count(*) FROM calls WHERE outcome IS NOT NULL AND ended_ms < ?",
                   CUTOFF_MS)
    legs = _count(store, "SELECT count(*) FROM agent_legs WHERE call_id IN (SELECT call_id FROM "
                         "calls WHERE outcome IS NOT NULL AND ended_ms < ?)", CUTOFF_MS)
    assert ended and legs
    result = ccf("store", "prune", "--before", CUTOFF, "--store", store)
    lines = {line.split()[0]: line.split()[-1] for line in result.output.splitlines()[1:]}
    assert lines["calls"] == str(ended) and lines["agent_legs"] == str(legs)
    for table in CALL_TABLES:
        assert _count(store, f"SELECT count(*) FROM {table} WHERE call_id NOT IN "
                             "(SELECT call_id FROM calls)") == 0, table
    assert _count(store, "SELECT count(*) FROM rollup_calls") > 0


def test_dry_run_counts_what_the_prune_then_deletes(store: str) -> None:
    dry = ccf("store", "prune", "--before", CUTOFF, "--dry-run", "--store", store)
    assert dry.output.startswith("calls ended before 2026-11-30T00:00:00+08:00: would delete")
    calls = _count(store, "SELECT count(*) FROM calls")
    real = ccf("store", "prune", "--before", CUTOFF, "--store", store)
    assert dry.output.splitlines()[1:] == real.output.splitlines()[1:]
    assert _count(store, "SELECT count(*) FROM calls") < calls


def _table_counts(output: str) -> dict[str, int]:
    return {line.split()[0]: int(line.split()[-1]) for line in output.splitlines()[1:]
            if line.startswith("  ") and line.split()[-1].isdigit()}


def test_dry_run_counts_the_centre_events_and_runs_the_calls_free(store: str) -> None:
    """The dry run deletes no call, so a run or centre event named only by calls it would
    prune counts as one the prune frees; one a kept call names does not."""
    db = sqlite3.connect(store)
    with db:
        db.execute("INSERT INTO runs (run_id, host, pid, started, started_ms, ended, ended_ms) "
                   "VALUES (99, 'h', 1, '2026-11-01', 0, '2026-11-01', 1)")
        db.execute("UPDATE calls SET run_id = 99 WHERE ended_ms < ?", (CUTOFF_MS,))
        gone, kept = (db.execute(f"SELECT {f}(call_id) FROM calls WHERE ended_ms {op} ?",
                                 (CUTOFF_MS,)).fetchone()[0]
                      for f, op in (("min", "<"), ("max", ">=")))
        for call_id in (gone, kept):
            db.execute("INSERT INTO centre_events (at, at_ms, source, kind, call_id, data) "
                       "VALUES ('2026-11-01T00:00:00+00:00', 1, 'serve', 'callback', ?, '{}')",
                       (call_id,))
    db.close()
    before = {t: _count(store, f"SELECT count(*) FROM {t}") for t in ("runs", "centre_events")}
    dry = _table_counts(ccf("store", "prune", "--before", CUTOFF, "--dry-run",
                            "--store", store).output)
    real = _table_counts(ccf("store", "prune", "--before", CUTOFF, "--store", store).output)
    assert dry == real and dry["runs"] >= 1 and dry["centre_events"] >= 1
    for table, count in before.items():
        assert _count(store, f"SELECT count(*) FROM {table}") == count - real[table]
    assert _count(store, "SELECT count(*) FROM runs WHERE run_id = 99") == 0
    assert _count(store, "SELECT count(*) FROM centre_events WHERE at_ms = 1 AND call_id = ?",
                  kept) == 1
    assert _count(store, "SELECT count(*) FROM centre_events WHERE at_ms = 1 AND call_id = ?",
                  gone) == 0


def test_never_a_call_in_progress_nor_one_with_a_call_back_to_dial(store: str) -> None:
    db = sqlite3.connect(store)
    with db:
        db.execute("UPDATE calls SET outcome = NULL WHERE call_id = (SELECT min(call_id) FROM "
                   "calls WHERE ended_ms < ?)", (CUTOFF_MS,))
        waiting = db.execute("SELECT max(call_id) FROM calls WHERE ended_ms < ?",
                             (CUTOFF_MS,)).fetchone()[0]
        db.execute("INSERT INTO queue_callbacks (call_id, seq, requested, requested_ms, status) "
                   "VALUES (?, 99, '2026-11-28T01:00:00+00:00', 0, 'pending')", (waiting,))
    db.close()
    ccf("store", "prune", "--before", CUTOFF, "--store", store)
    assert _count(store, "SELECT count(*) FROM calls WHERE outcome IS NULL AND ended_ms < ?",
                  CUTOFF_MS) == 1
    assert _count(store, "SELECT count(*) FROM calls WHERE call_id = ?", waiting) == 1
    assert _count(store, "SELECT count(*) FROM event_batches WHERE call_id = ?", waiting) > 0


def test_each_batch_lets_another_writer_in(store: str) -> None:
    """Between batches the store is not locked: a writer on another connection commits."""
    written = []

    def other_writer() -> None:
        db = sqlite3.connect(store, timeout=0)  # no waiting: a held lock would fail at once
        with db:
            db.execute("INSERT INTO centre_events (at, at_ms, source, kind, data) "
                       "VALUES ('2026-12-01T00:00:00+00:00', 9e12, 'serve', 'test', '{}')")
        db.close()
        written.append(1)

    def between() -> None:
        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join()

    db = connect(store)
    try:
        done = dict(prune(db, CUTOFF_MS, batch=7, on_batch=between).counts)
    finally:
        db.close()
    assert len(written) == -(-done["calls"] // 7) > 1


def test_ended_runs_and_old_centre_events_go_agent_states_stay(store: str) -> None:
    db = sqlite3.connect(store)
    with db:
        db.execute("UPDATE runs SET ended = '2026-11-28', ended_ms = 1")
        for kind in ("QueueMemberStatus", "agent_state"):
            db.execute("INSERT INTO centre_events (at, at_ms, source, kind, data) "
                       "VALUES ('2026-11-28T00:00:00+00:00', 1, 'ami', ?, '{}')", (kind,))
    db.close()
    ccf("store", "prune", "--before", CUTOFF, "--store", store)
    kinds = _count(store, "SELECT group_concat(kind) FROM centre_events WHERE at_ms = 1")
    assert kinds == "agent_state"
    # the run wrote the calls of 2026-11-30, which stay: so does it
    assert _count(store, "SELECT count(*) FROM runs") == 1


@pytest.mark.parametrize("args,message", [
    (["--before", "yesterday"], "--before: 'yesterday' is not a date"),
    (["--before", "2026-02-30"], "--before: '2026-02-30' is not a date"),
    ([], "nothing to prune"),
])
def test_bad_dates(store: str, args: list[str], message: str) -> None:
    result = ccf("store", "prune", "--store", store, *args)
    assert result.exit_code == USAGE
    assert message in result.output


def test_a_missing_store_or_not_a_call_store(tmp_path) -> None:
    result = ccf("store", "prune", "--before", CUTOFF, "--store", str(tmp_path / "none.db"))
    assert result.exit_code == USAGE and "there is no call store at" in result.output
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    result = ccf("store", "prune", "--before", CUTOFF, "--store", str(other))
    assert result.exit_code == USAGE and "it is not a call store" in result.output
