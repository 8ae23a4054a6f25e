"""Two `ccf serve` workers on one call store (SQLite, and a real PostgreSQL), their signal polls
counted at the connection API: the worker that runs no call sends no poll however often it
looks, and the one running the call asks about its own call alone, and still takes the agent's
answer the other worker's FastAGI left for it."""

from __future__ import annotations

import asyncio

from ccdsl.runtime.asterisk import worker_presence
from ccdsl.runtime.asterisk.worker_presence import WorkerPresence
from ccdsl.runtime.operations import workers
from ccdsl.runtime.operations.store import CallStore

from .helpers import until
from .test_live_centre import place_call
from .test_two_workers import two_started, two_workers

CALL = "1795800000.3"
LOOKS = 20  # times the idle worker looked for signals before its polls are counted


def test_a_worker_without_calls_sends_no_poll(tmp_path, monkeypatch, store_target):
    config, ir = two_workers(tmp_path, monkeypatch, store_target)
    monkeypatch.setattr(worker_presence, "SIGNAL_POLL_S", 0.01)
    statements: list[tuple] = []  # every poll statement's parameters: (taken_by, since, ids)

    real_opened = workers.opened

    class Counted:
        def __init__(self, db) -> None:
            self.db = db

        def execute(self, sql, params=()):
            if "SET taken_by" in sql:
                statements.append(tuple(params))
            return self.db.execute(sql, params)

        def __getattr__(self, name):
            return getattr(self.db, name)

    monkeypatch.setattr(workers, "opened", lambda target, **kw: Counted(real_opened(target, **kw)))
    looks: dict[int, int] = {}
    real_take = WorkerPresence._take

    async def take(self) -> None:
        looks[id(self)] = looks.get(id(self), 0) + 1
        await real_take(self)

    monkeypatch.setattr(WorkerPresence, "_take", take)

    async def main():
        async with two_started(config) as (runner, runner_port, other, other_port):
            await until(lambda: len(runner.presence.workers) == 2, "both workers' rows")
            await until(lambda: min(looks.get(id(runner.presence), 0),
                                    looks.get(id(other.presence), 0)) >= LOOKS,
                        "both workers looking for signals")
            idle = list(statements)
            await place_call(ir, runner_port, CALL, answered_port=other_port)
            await until(lambda: runner.server.calls_running == 0, "the call to end")
            ids = runner.presence.rows.id, other.presence.rows.id
        return idle, list(statements), ids

    idle, polled, (runner_id, other_id) = asyncio.run(main())
    assert idle == []  # neither ran a call: nothing asked, however often they looked
    assert polled, "the runner polled while its call ran"
    assert {p[0] for p in polled} == {runner_id}  # the other worker ran no call: no poll
    # the runner asked about its own call (by its id, or its channel's Uniqueid) alone
    assert {call for p in polled for call in p[2:]} == {CALL}
    with CallStore(config.store_path) as store:
        assert store.call(CALL)["talked_to_agent"]
        assert "agent_answered" in [e["kind"] for e in store.events(CALL)]
