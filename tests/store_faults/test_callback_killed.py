"""In-queue call-backs exactly once when the dialling process is killed (SIGKILL):
the request it was dialling is closed as `interrupted` by the next start and never
dialled again (the customer may have been reached); a request still pending is
dialled by the next start, once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from queue_callbacks.world import agent, booked, rows

from ccdsl.runtime.operations.callback_dialler import CallbackDialler, QueueLine
from ccdsl.runtime.operations.callback_policy import CallbackPolicy
from ccdsl.runtime.operations.callback_rows import CallbackRows
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_runs import this_process
from store_faults.rig import WAIT_S

# a dialler with one free agent whose dial never ends: it says so, then waits to be killed
DIALLING = textwrap.dedent("""\
    import asyncio, sys, time
    from ccdsl.runtime.core.centre import Agent
    from ccdsl.runtime.operations.callback_dialler import CallbackDialler, QueueLine
    from ccdsl.runtime.operations.callback_policy import CallbackPolicy
    from ccdsl.runtime.operations.callback_rows import CallbackRows
    from ccdsl.runtime.operations.store_runs import this_process

    async def place(request, agent):
        print("dialling", request.call_id, flush=True)
        await asyncio.sleep(3600)

    async def main():
        dialler = CallbackDialler(CallbackRows(sys.argv[1], this_process()), CallbackPolicy(),
                                  QueueLine(), agents=lambda: [Agent("li", queues=("service",))],
                                  place=place, now_ms=lambda: int(time.time() * 1000))
        await dialler.start()
        await dialler.tick()
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def test_a_killed_dialler_neither_loses_nor_dials_twice(store_target: str) -> None:
    path = store_target
    now = datetime.now(UTC)
    with CallStore(path) as store:
        booked(store, "c1", start=now - timedelta(minutes=3))  # first in line
        booked(store, "c2", start=now - timedelta(minutes=2))
    proc = subprocess.Popen([sys.executable, "-c", DIALLING, str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.split() == ["dialling", "c1"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(WAIT_S)
    finally:
        proc.kill()
        proc.stdout.close()
    with CallStore(path) as store:
        states = {r["call_id"]: (r["status"], r["attempts"]) for r in rows(store)}
        # the claim was in the file before the dial started
        assert states == {"c1": ("dialling", 1), "c2": ("pending", 0)}
        placed: list[str] = []

        async def place(request, agent_id):
            placed.append(request.call_id)
            return {"status": "done", "reason": "reached", "dial_status": "ANSWER"}

        async def restart():
            dialler = CallbackDialler(CallbackRows(path, this_process()), CallbackPolicy(),
                                      QueueLine(), agents=lambda: [agent("li"), agent("wang")],
                                      place=place,
                                      now_ms=lambda: int(datetime.now(UTC).timestamp() * 1000))
            closed = await dialler.start()
            for _ in range(3):
                await dialler.tick()
                await dialler.drain()
            return closed

        assert asyncio.run(restart()) == [("c1", 7)]
        assert placed == ["c2"]  # the pending one, once; the interrupted one never
        found = {r["call_id"]: r for r in rows(store)}
    assert (found["c1"]["status"], found["c1"]["outcome"]) == ("failed", "interrupted")
    assert "stopped during the attempt" in found["c1"]["reason_text"]
    assert (found["c2"]["status"], found["c2"]["attempts"]) == ("done", 1)
