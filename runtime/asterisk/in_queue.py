"""The caller's time in queue on Asterisk: the queues.conf lines and key contexts `ccf deploy`
writes, and what ccf serve learns after Queue() returned.

app_queue plays the messages and takes the keys itself (periodic-announce, context); this
module only names them and reads the outcome. Must not speak AMI nor pass time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ccdsl.runtime.core.channel import QueueAnnouncement, QueueRequest

# where a queue's messages are, under Asterisk's sounds folder, per language:
# <sounds>/<language>/ccf-queue/<prompt>.wav (app_queue plays them by name and
# the channel's language picks the folder, as for every recorded prompt)
MESSAGE_FOLDER = "ccf-queue"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def keys_context(asterisk_queue: str) -> str:
    """The dialplan context app_queue's `context` option names: an extension
    per declared key, so a key pressed while waiting leaves the queue."""
    return f"{asterisk_queue}-keys"


def message_file(prompt: str) -> str:
    """The sound file of a queue message (a prompt's qualified name)."""
    return f"{MESSAGE_FOLDER}/{_UNSAFE.sub('_', prompt)}"


def _lit(expr: Any) -> Any:
    return expr.get("lit") if isinstance(expr, dict) else None


def settings(options: Mapping[str, Any], keys: Mapping[str, Any]) -> dict[str, Any]:
    """The in-queue fields of dialplan.QueueSettings from an IR queue."""
    spec = options.get("messages") or {}
    every = _lit(spec.get("every"))
    files = tuple(message_file(str(p.get("ref"))) for p in spec.get("prompts", ())
                  if isinstance(p, dict))
    return {"messages": files if isinstance(every, int) and files else (),
            "message_every_s": max(1, -(-every // 1000)) if isinstance(every, int) else 0,
            "announce_wait": _lit(options.get("announce_wait")) is True,
            "keys": "".join(sorted(keys))}


def conf_lines(name: str, messages: Sequence[str], every_s: int, announce_wait: bool,
               keys: str, announce_s: int) -> list[tuple[str, str]]:
    """(key, value) lines of the queue's section for the wait."""
    lines = [("announce-holdtime", "yes" if announce_wait else "no")]
    if messages or announce_s:
        # the caller at the head hears them too, as everyone else in the queue
        lines.append(("announce-to-first-user", "yes"))
    if messages:
        lines += [("periodic-announce", ",".join(messages)),
                  ("periodic-announce-frequency", str(every_s))]
    if keys:
        lines.append(("context", keys_context(name)))
    return lines


def key_extensions(keys: str, after_agi: str) -> list[str]:
    """The key context's extensions: Queue() jumps to KEY,1 when it lets the
    caller out. ccf serve's flow goes on; this is what runs if the AGI ends
    without hanging up (ccf serve handing the call back): as after the AGI."""
    return [f"{key},1,{after_agi}" for key in keys]


def announcements(request: QueueRequest, joined: datetime,
                  left: datetime) -> list[QueueAnnouncement]:
    """The messages app_queue played between the join and the leaving: one
    every period from the join, in turn. No AMI event reports them; this is
    the schedule app_queue keeps (last_periodic_announce_time)."""
    every = request.message_every_ms
    if not request.messages or not every:
        return []
    out = []
    at = joined + timedelta(milliseconds=every)
    turn = 0
    while at < left:
        message = request.messages[turn % len(request.messages)]
        out.append(QueueAnnouncement(message.sounds, at, prompt=message.prompt))
        turn += 1
        at += timedelta(milliseconds=every)
    return out

