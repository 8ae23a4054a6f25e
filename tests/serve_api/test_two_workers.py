"""Two `ccf serve` workers on one call store: each has its row and sees the other; a caller's
call runs on one while its agent's ccf-answered Gosub reaches the other, which passes it on
through the store; a deploy reaches both; a clean stop says stopped."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from pathlib import Path

from asterisk.centre import write_config

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk import service
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.flowstore_db import DbFlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.operations.shared_db import shared
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_runs import Process
from ccdsl.runtime.operations.workers import list_workers

from .helpers import until
from .test_live_centre import ANSWERED_BY, FLOW, place_call

# runs when the agent's ccf-answered Gosub fires the call's hook; without it, only after the
# conversation (the worker logs that the Gosub did not run)
ANSWERED_HANDLER = '\non answered by agent:\n  log "agent on the line"\n'


@contextlib.asynccontextmanager
async def two_started(config):
    """Two workers of `config` in this process, started: (runner, its FastAGI port, other,
    its port); both stopped at the end, the other first."""
    runner = LiveCentre(config, port=0, use_ami=False)
    other = LiveCentre(config, port=0, use_ami=False)
    try:
        _, runner_port = await runner.start()
        _, other_port = await other.start()
        yield runner, runner_port, other, other_port
    finally:
        await other.stop(1.0)
        await runner.stop(1.0)


def two_workers(tmp_path: Path, monkeypatch, target: str):
    """A centre whose flows live in its call store (PostgreSQL's [store] url; a SQLite store
    that [paths] flows names), and two workers of it in this process, each its own process
    identity as two hosts' would be."""
    (tmp_path / "desk.ccf").write_text(FLOW + ANSWERED_HANDLER, encoding="utf-8")
    result = compile_file(str(tmp_path / "desk.ccf"))
    assert result.ok, [d.message for d in result.diagnostics]
    ir = {**result.ir, "tests": []}
    if target.startswith("postgresql://"):
        # the in-queue call-back dialler reads a SQLite store only, so far: not dialling
        path = write_config(tmp_path, 1, numbers='"4008001234" = "desk"', store=target,
                            extra="[callbacks]\ndial = false\n")
    else:
        path = write_config(tmp_path, 1, numbers='"4008001234" = "desk"', flows="calls.db")
    config = load_config(path, environ={})
    hosts = itertools.count(1)
    monkeypatch.setattr(service, "this_process",
                        lambda: Process(f"host-{next(hosts)}", 4242, "boot:1"))
    DbFlowStore(config.store_path).deploy({"desk": ir}, numbers=config.numbers, note="desk")
    return config, ir


def test_an_agents_answer_on_the_other_worker_reaches_the_call(tmp_path, monkeypatch, caplog,
                                                               store_target):
    config, ir = two_workers(tmp_path, monkeypatch, store_target)
    caplog.set_level(logging.INFO, logger="ccdsl")

    async def main():
        async with two_started(config) as (runner, runner_port, other, other_port):
            await until(lambda: len(runner.presence.workers) == 2, "both workers' rows")
            # the caller's AGI() reached the runner; the agent's Gosub the other worker
            call = asyncio.create_task(place_call(ir, runner_port, "1795800000.1",
                                                  answered_port=other_port))
            await call
            await until(lambda: runner.server.calls_running == 0, "the call to end")
            status = runner.status()
            with shared(config.store_path) as db:
                signals = [tuple(r) for r in db.execute(
                    "SELECT call_id, agent, sender, taken_by, done_ms IS NOT NULL "
                    "FROM answered_signals")]
            ids = (runner.presence.rows.id, other.presence.rows.id)
            # a deploy (here a rollback-free redeploy) reaches both at their next look
            DbFlowStore(config.store_path).deploy({"desk": {**ir, "tests": []}},
                                                  numbers=config.numbers, note="again")
            await until(lambda: runner.flows.version == other.flows.version == "0002",
                        "both workers on version 0002")
        return status, signals, ids

    status, signals, (runner_id, other_id) = asyncio.run(main())
    # the other worker's FastAGI took the Gosub and left it in the store; the runner took it
    # and its hook ran while the agent's channel waited, as a Gosub on the runner itself
    assert signals == [("1795800000.1", ANSWERED_BY, other_id, runner_id, True)]
    said = [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "Gosub did not run" in m or "not running here" in m
                or "no worker runs" in m], said
    with CallStore(config.store_path) as store:
        call = store.call("1795800000.1")
        kinds = [e["kind"] for e in store.events("1795800000.1")]
    assert call["agent"] == ANSWERED_BY and call["talked_to_agent"]
    assert "agent_answered" in kinds
    workers = status["workers"]
    assert [(w["host"], w["status"], w["version"]) for w in workers] == [
        ("host-1", "up", "0001"), ("host-2", "up", "0001")]
    assert all(w["address"].startswith("127.0.0.1:") for w in workers)
    after = list_workers(config.store_path)
    assert [(w.host, w.state, w.served) for w in after] == [("host-1", "stopped", 1),
                                                            ("host-2", "stopped", 0)]
