"""A call's path through the IVR as people read it: steps, menu keys, keys pressed in a
queue, what was keyed.

Built from the call's events, live (the screen pop) or stored (a call's page); must not
read the store itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PATH_KINDS = ("step_entered", "handler_entered", "menu_choice", "collected", "queue_key")


def step_after(kind: str, data: Mapping[str, Any], step: str | None) -> str | None:
    """Where the call is after the event: a step, or a handler (`on start`)."""
    if kind == "step_entered":
        return str(data.get("step"))
    if kind == "handler_entered" and data.get("handler") != "answered_by_agent":
        return f"on {data.get('handler')}"
    # `on answered by agent` runs inside the step that rang the agent and
    # ends without an event: the call is still in that step
    return step


def path_entry(kind: str, data: Mapping[str, Any], step: str | None) -> dict[str, Any] | None:
    """One entry of the path for an event, None for events the path leaves out.
    `step` is the step the call is in (a menu names its step)."""
    if kind == "step_entered":
        return {"step": str(data.get("step"))}
    if kind == "menu_choice":
        key = data.get("key")
        if key in ("timeout", "invalid"):
            return None  # a retry: the choice that follows is the path
        entry = {"menu": step, "key": str(key)}
        if data.get("pressed") and data.get("pressed") != key:
            entry["pressed"] = str(data["pressed"])
        return entry
    if kind == "queue_key":  # a key that left the queue while waiting: an in-queue choice
        return {"queue": str(data.get("queue")), "key": str(data.get("key")), "step": step}
    if kind == "collected":
        return {"collected": str(data.get("name")), "value": data.get("value"),
                "step": step}
    return None


def ivr_path(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The path of a call's events, each a mapping with `kind` and `data`
    (the store's rows or runtime Events' fields)."""
    out: list[dict[str, Any]] = []
    step = None
    for event in events:
        kind, data = event["kind"], event.get("data") or {}
        entry = path_entry(kind, data, step)
        step = step_after(kind, data, step)
        if entry is not None:
            out.append(entry)
    return out


def path_text(path: Iterable[Mapping[str, Any]]) -> str:
    """`menu 1 → order 20261128 → menu 0`: the path in one line."""
    parts = []
    for entry in path:
        if "queue" in entry:
            parts.append(f"queue {entry['queue']} {entry['key']}")
        elif "key" in entry:
            parts.append(f"{entry['menu'] or 'menu'} {entry['key']}")
        elif "collected" in entry:
            parts.append(f"{entry['collected']} {entry['value']}")
    return " → ".join(parts)
