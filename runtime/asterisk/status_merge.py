"""`ccf status` over several workers: the GET /status of each worker that answers, made one.

Pure: documents in, one document out; must not fetch anything (cli/status.py does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def others(status: Mapping[str, Any], asked: str) -> list[str]:
    """The HTTP API addresses of the other workers the asked one lists as up (GET /status
    `workers`), in its order; `asked` is the address the status came from, and the row marked
    `this` the asked one's own (it may name itself otherwise: [api] advertise)."""
    seen = {asked}
    out = []
    for worker in status.get("workers") or ():
        if not isinstance(worker, Mapping) or worker.get("this") is True:
            continue
        api = worker.get("api")
        if worker.get("status") == "up" and isinstance(api, str) and api and api not in seen:
            seen.add(api)
            out.append(api)
    return out


def merged(status: Mapping[str, Any], asked: str,
           fetch: Callable[[str], Mapping[str, Any] | None]) -> dict[str, Any]:
    """`status` with every call of the other workers up (each call names its `worker`, the
    API address it came from), a queue's waiting and longest wait the largest any worker
    saw (each counts the whole centre's callers from Asterisk, and its own), and
    `server.workers_answering` / `workers_not_answering` said. `fetch(address)`: that
    worker's status, None when it does not answer. The agents are the asked worker's:
    every worker mirrors the same Asterisk servers."""
    out = dict(status)
    calls = [dict(c, worker=asked) for c in status.get("calls") or ()]
    queues = {q.get("queue"): dict(q) for q in status.get("queues") or ()}
    answering, silent = [asked], []
    for address in others(status, asked):
        theirs = fetch(address)
        if not isinstance(theirs, Mapping):
            silent.append(address)
            continue
        answering.append(address)
        calls += [dict(c, worker=address) for c in theirs.get("calls") or ()
                  if isinstance(c, Mapping)]
        for queue in theirs.get("queues") or ():
            mine = queues.get(queue.get("queue"))
            if mine is None:
                queues[queue.get("queue")] = dict(queue)
                continue
            for key in ("waiting", "longest_wait_s"):
                if isinstance(queue.get(key), int | float):
                    mine[key] = max(mine.get(key) or 0, queue[key])
    out["calls"] = calls
    out["queues"] = list(queues.values())
    out["server"] = dict(status.get("server") or {}, workers_answering=answering,
                         workers_not_answering=silent)
    return out
