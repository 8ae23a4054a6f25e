"""What `GET /status` of `ccf serve`'s API shows: calls in progress, queues, agents.

An event sink beside the call store; must not write anything. Waiting counts come from
AMI, the longest wait from the calls this server runs (AMI gives no join time per caller).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ccdsl.runtime.asterisk.names import queue_name
from ccdsl.runtime.operations.live_calls import LiveCall, StatusTracker  # noqa: F401 (importers)
from ccdsl.runtime.operations.status_doc import iso, status_document


def snapshot(*, tracker: StatusTracker, centre, queues: list[str], version: str | None,
             started: datetime, served: int, ami: str, now: datetime | None = None,
             limits: dict[str, Any] | None = None,
             ami_links: dict[str, str] | None = None,
             workers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The GET /status document (runtime/operations/status_doc.py builds it).
    `centre` is the AmiCentre (a CentreView with agents and queue counts);
    `queues` the flows' queue names; `ami` "up", "down" or "off"; `limits`
    where each of ccf serve's limits stands (a `limits` object when given); `ami_links`
    each named Asterisk server's link, "up" or "down" (server.ami_links when given); `workers`
    every `ccf serve` of the call store, as this one last read them (a `workers` list)."""
    agents = centre.agents() if centre is not None else []
    out = status_document(
        calls=tracker.running(), agents=agents,
        members={q: [a for a in agents if q in a.queues] for q in queues},
        waiting=lambda q: centre.queue_waiting(q) if centre is not None else 0,
        server={"version": version, "started": iso(started), "calls_served": served,
                "ami": ami},
        now=now or datetime.now(UTC), queue_label=queue_name,
        agent_queues=lambda a: a.queues)
    if limits is not None:
        out["limits"] = dict(limits)
    if ami_links is not None:
        out["server"]["ami_links"] = dict(ami_links)
    if workers is not None:
        out["workers"] = list(workers)
    return out
