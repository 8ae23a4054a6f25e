"""Calls, pops and messages for the desk's tests, in the rig's real call store and desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event

HOSTILE = ('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>')
FORM = [{"name": "reason", "type": "text"}, {"name": "resolved", "type": "bool"},
        {"name": "order", "type": "number", "optional": True}]


def store_call(console, call_id: str, agent: str = "zhang", *, caller: str = "+8613800000001",
               ended: bool = True, form: list | None = FORM, talk_ms: int = 60_000) -> None:
    """A call the agent answered and talked on, with a wrap-up form (typed fields)."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    kinds = [("call_started", {"caller": caller, "dialled": "4008001234", "flow": "hotline",
                               "flow_version": "0001"}),
             ("agent_offered", {"agent": agent, "via": "queue", "queue": "service"}),
             ("agent_answered", {"agent": agent, "ring_ms": 3000})]
    kinds.append(("conversation_ended", {"agent": agent, "talk_ms": talk_ms,
                                         "ended_by": "agent", "wrapup": form is not None}))
    if form is not None:
        kinds.append(("wrapup_requested", {"agent": agent, "fields": [f["name"] for f in form],
                                           "form": form}))
    if ended:
        kinds += [("hangup", {"by": "agent"}), ("call_ended", {"outcome": "hangup"})]
    for seq, (kind, data) in enumerate(kinds, 1):
        console.store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))
    console.store.flush()


def store_message(console, call_id: str, mailbox: str, caller: str = "+8613900000002") -> None:
    """A call that left a voicemail message in `mailbox`."""
    start = datetime.now(UTC) - timedelta(hours=1)
    kinds = [("call_started", {"caller": caller, "dialled": "4008001234", "flow": "hotline"}),
             ("voicemail", {"mailbox": mailbox, "stored": True,
                            "file": f"voicemail/{mailbox}/{call_id}", "duration_ms": 7000}),
             ("hangup", {"by": "caller"}), ("call_ended", {"outcome": "voicemail"})]
    for seq, (kind, data) in enumerate(kinds, 1):
        console.store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))
    console.store.flush()


def desk_event(console, call_id: str, kind: str, **data) -> None:
    """A call's event as the desk (the agents' states) sees it, on the console's loop."""
    async def emit():
        console.desk.emit(Event(call_id, 1, datetime.now(UTC), kind, data))

    console.run(emit())


def ringing(console, call_id: str, agent: str = "zhang") -> None:
    if console.desk.status(agent).state == "logged_out":
        console.run(console.desk.login(agent))
    desk_event(console, call_id, "agent_offered", agent=agent, via="queue")


def on_call(console, call_id: str, agent: str = "zhang") -> None:
    ringing(console, call_id, agent)
    desk_event(console, call_id, "agent_answered", agent=agent)


def wrapping_up(console, call_id: str, agent: str = "zhang") -> None:
    on_call(console, call_id, agent)
    # as the runtime emits them: the conversation's end says a form follows
    desk_event(console, call_id, "conversation_ended", agent=agent, wrapup=True)
    desk_event(console, call_id, "wrapup_requested", agent=agent)


def pop(console, call_id: str, agent: str = "zhang", *, caller: str = "+8613800000001",
        customer: dict | None = None, path: list | None = None,
        recent: list | None = None) -> dict:
    payload = {"pop": "offer", "agent": agent,
               "call": {"id": call_id, "caller": caller, "dialled": "4008001234",
                        "flow": "hotline", "started": datetime.now(UTC).isoformat(),
                        "path": path if path is not None else [
                            {"step": "main_menu"}, {"menu": "main_menu", "key": "1"},
                            {"collected": "order", "value": "20261128",
                             "step": "order_status"}]},
               "customer": customer if customer is not None else {
                   "kind": "customer", "id": "C1001", "name": "Li Ming", "tier": "VIP"},
               "recent_calls": recent if recent is not None else [
                   {"call_id": "old-1", "time": "2026-11-30T02:00:00+00:00",
                    "outcome": "hangup", "agent": "li", "wrapup": {"reason": "resolved"}}]}
    console.ctx.pops.offer(agent, payload)
    return payload
