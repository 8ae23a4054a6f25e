"""Two `ccf serve` workers on a real PostgreSQL store hear each other through its NOTIFY: with
every poll set an hour long, an agent's answer on the other worker still reaches the call and a
deploy still reaches both; a LISTEN connection the server kills is opened again and hears the
next signal."""

from __future__ import annotations

import asyncio
import logging

import psycopg

from ccdsl.runtime.asterisk import service, worker_presence
from ccdsl.runtime.asterisk.flowstore_db import DbFlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.operations.shared_db import shared
from tests import pg_cluster as pg

from .helpers import until
from .test_live_centre import place_call
from .test_two_workers import two_started, two_workers

HOUR = 3600.0
GUARD_S = 60.0  # only a hang's bound: a relay without its notices waits an hour


def polls_an_hour_long(monkeypatch) -> None:
    """No poll looks before the test ends: only a notice can move a signal or a deploy (and
    the relay's own limits are as long, so a missed notice cannot end its wait either)."""
    for name in ("SIGNAL_POLL_S", "WAIT_POLL_S", "TAKE_WAIT_S", "HOOK_WAIT_S"):
        monkeypatch.setattr(worker_presence, name, HOUR)
    monkeypatch.setattr(service, "POLL_S", HOUR)


async def both_listening(*workers: LiveCentre, opens: int = 1) -> None:
    await until(lambda: all(w.presence.listener is not None and w.presence.listener.listening
                            and w.presence.listener.opens >= opens for w in workers),
                f"both workers listening ({opens})", timeout=15.0)
    await until(lambda: all(len(w.presence.workers) == 2 for w in workers),
                "both workers' rows", timeout=15.0)


def signals_of(config) -> list[tuple]:
    with shared(config.store_path) as db:
        return [tuple(r) for r in db.execute(
            "SELECT call_id, sender, taken_by, done_ms IS NOT NULL FROM answered_signals "
            "ORDER BY at_ms")]


def test_signals_and_deploys_are_heard_without_a_poll(tmp_path, monkeypatch, pg_url):
    config, ir = two_workers(tmp_path, monkeypatch, pg_url)
    polls_an_hour_long(monkeypatch)

    async def main():
        async with two_started(config) as (runner, runner_port, other, other_port):
            assert runner.presence.poll_s == other.presence.poll_s == HOUR
            await both_listening(runner, other)
            await asyncio.wait_for(place_call(ir, runner_port, "1795800000.7",
                                              answered_port=other_port), GUARD_S)
            signals = signals_of(config)
            ids = (runner.presence.rows.id, other.presence.rows.id)
            DbFlowStore(config.store_path).deploy({"desk": ir}, numbers=config.numbers,
                                                  note="again")
            await until(lambda: runner.flows.version == other.flows.version == "0002",
                        "both workers on version 0002")
            DbFlowStore(config.store_path).rollback()
            await until(lambda: runner.flows.version == other.flows.version == "0001",
                        "both workers back on version 0001")
        return signals, ids

    signals, (runner_id, other_id) = asyncio.run(main())
    # taken by the runner on the notice of the signal; the sender heard the hook had run
    assert signals == [("1795800000.7", other_id, runner_id, True)]


def test_a_killed_listen_connection_is_opened_again(tmp_path, monkeypatch, caplog, pg_url):
    config, ir = two_workers(tmp_path, monkeypatch, pg_url)
    polls_an_hour_long(monkeypatch)
    caplog.set_level(logging.INFO, logger="ccdsl")

    async def main():
        async with two_started(config) as (runner, runner_port, other, other_port):
            await both_listening(runner, other)
            killed = {w.presence.listener.backend_pid for w in (runner, other)}
            with psycopg.connect(pg_url, password=pg.PASSWORD, autocommit=True) as own:
                for pid in killed:
                    assert own.execute("SELECT pg_terminate_backend(%s)", (pid,)
                                       ).fetchone()[0] is True
            await both_listening(runner, other, opens=2)
            assert not killed & {w.presence.listener.backend_pid for w in (runner, other)}
            await asyncio.wait_for(place_call(ir, runner_port, "1795800000.8",
                                              answered_port=other_port), GUARD_S)
            return signals_of(config), (runner.presence.rows.id, other.presence.rows.id)

    signals, (runner_id, other_id) = asyncio.run(main())
    assert signals == [("1795800000.8", other_id, runner_id, True)]
    said = [r.getMessage() for r in caplog.records]
    # each worker said it once, and that it listens again
    assert len([m for m in said if "LISTEN connection was lost" in m]) == 2, said
    assert len([m for m in said if "listening on the call store" in m]) == 2, said
