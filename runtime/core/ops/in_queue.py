"""The caller's time in queue: the declared messages and keys of a wait, a key's block, `callback`.

The line plays the wait (app_queue, or the simulator as app_queue would); this module turns
what it reports into events and runs the key's statements. Must not ring anyone nor decide
who answers: runtime/core/ops/agents.py waits in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ccdsl.runtime.core.call import CallRuntime, Frame, OpFn
from ccdsl.runtime.core.channel import QueueAnnouncement, QueueMessage, QueueOutcome, QueueRequest
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import described
from ccdsl.runtime.core.ops.media import ms_of, option, sound_json, sounds_of
from ccdsl.runtime.core.values import Record, to_text


@dataclass(frozen=True)
class KeyVisit:
    """The queue visit a key ended, while its block runs: what `callback` books."""

    queue: str
    key: str
    joined_at: datetime
    priority: int
    waited_ms: int


async def wait_settings(rt: CallRuntime, decl: dict, frame: Frame) -> dict[str, Any]:
    """QueueRequest's in-queue fields from the declaration: the messages in
    the call's language, how often, the expected wait, the keys."""
    options, loc = decl["options"], decl["loc"]
    messages: list[QueueMessage] = []
    every = None
    spec = options.get("messages")
    if spec:
        every = ms_of(await option(rt, options, "messages", frame, loc), "messages", loc)
        for ref in spec.get("prompts", ()):
            sounds, name = await sounds_of(rt, {"prompt": ref.get("ref"), "args": {}}, frame, loc)
            messages.append(QueueMessage(name or str(ref.get("ref")), tuple(sounds)))
    announce_wait = await option(rt, options, "announce_wait", frame, loc, False)
    return {"messages": tuple(messages), "message_every_ms": every,
            "announce_wait": announce_wait is True, "keys": "".join(sorted(decl.get("keys") or {}))}


def announcing(rt: CallRuntime, request: QueueRequest, loc: dict | None) -> dict[str, Any]:
    """enqueue's on_announce, for a wait that announces something; none
    otherwise, so a channel from before the caller's time in queue still fits."""
    if request.messages or request.announce_position_ms or request.keys:
        return {"on_announce": announcer(rt, request.queue, loc)}
    return {}


def announcer(rt: CallRuntime, queue: str, loc: dict | None):
    """The OnAnnounce of one wait: each message or position announcement the
    line played, as a prompt_played event stamped when it began."""

    def announce(played: QueueAnnouncement) -> None:
        data: dict[str, Any] = {"sounds": sound_json(list(played.sounds)), "prompt": played.prompt,
                                "interrupted_by": played.interrupted_by, "queue": queue}
        if played.position is not None:
            data["position"] = played.position
            data["expected_wait_minutes"] = played.wait_minutes
        rt.emit("prompt_played", data, loc, at=played.at)

    return announce


async def after_key(rt: CallRuntime, request: QueueRequest, outcome: QueueOutcome,
                    joined_at: datetime, loc: dict | None) -> None:
    """The caller left the queue with a key: `queue_key`, then the key's
    statements, in the call's scope as a handler's. A `goto` or `hangup` in
    them ends the path; otherwise the flow goes on as after a timeout."""
    key = outcome.key or ""
    rt.emit("queue_key", {"queue": request.queue, "key": key, "waited_ms": outcome.wait_ms,
                          "position": outcome.left_position}, loc)
    block = ((rt.program.queues.get(request.queue) or {}).get("keys") or {}).get(key)
    if block is None:  # the line let a key out that the queue does not declare
        raise FlowError(f"queue {request.queue}: the caller left with the key {key!r}, which "
                        "the queue does not declare", loc)
    outer = rt.key_visit
    rt.key_visit = KeyVisit(request.queue, key, joined_at, request.priority, outcome.wait_ms)
    try:
        await rt.run_body(block["body"], rt.call_frame)
    finally:
        rt.key_visit = outer


async def op_callback(rt: CallRuntime, op: dict, frame: Frame) -> None:
    """Book a call-back that keeps the caller's place: `callback_requested`,
    which ccf serve's dialler takes up (docs/runtime.md "Events")."""
    loc = op["loc"]
    visit: KeyVisit | None = rt.key_visit
    if visit is None:
        raise FlowError("`callback` runs only in a queue's `press` block", loc)
    options = op["options"]
    number = await option(rt, options, "number", frame, loc)
    if not isinstance(number, str) or not number:
        raise FlowError(f"a call-back needs a number, not {described(number)}", loc)
    reason = await option(rt, options, "reason", frame, loc)
    customer = await option(rt, options, "customer", frame, loc)
    customer_id = customer.fields.get("id") if isinstance(customer, Record) else None
    rt.emit("callback_requested", {
        "queue": visit.queue, "number": number, "priority": visit.priority,
        "joined_at": visit.joined_at.isoformat(), "waited_ms": visit.waited_ms,
        "customer": None if customer_id is None else to_text(customer_id),
        "reason": None if reason is None else to_text(reason)}, loc)


OPS: dict[str, OpFn] = {
    "callback": op_callback,
}
