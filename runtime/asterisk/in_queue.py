"""The caller's time in queue on Asterisk: the queues.conf lines and key contexts `ccf deploy`
writes, and what ccf serve learns after Queue() returned.

app_queue plays the messages and takes the keys itself (periodic-announce, context); this
module only names them and reads the outcome. Must not speak AMI nor pass time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.core.channel import QueueAnnouncement, QueueRequest, Sound

# where a queue's messages are, under the sounds folder ([paths] sounds), per
# language: <sounds>/ccf-queue/<language>/<prompt>.wav, and <prompt>.wav without
# a language (runtime/asterisk/queue_sounds.py says why that layout)
MESSAGE_FOLDER = "ccf-queue"
# what queues.conf may hold in a periodic-announce path: no comma (the list's
# separator), no space, no `;` (a comment)
_SAFE_PATH = re.compile(r"/[A-Za-z0-9_./-]+")


def keys_context(asterisk_queue: str) -> str:
    """The dialplan context app_queue's `context` option names: an extension
    per declared key, so a key pressed while waiting leaves the queue."""
    return f"{asterisk_queue}-keys"


def message_file(prompt: str, sounds_dir: str | None = None) -> str:
    """The sound file of a queue message (a prompt's qualified name), as
    periodic-announce names it: absolute under the sounds folder, without
    language or extension (Asterisk adds them); without a sounds folder
    (the test peer's own queues), `ccf-queue/<name>`."""
    name = f"{MESSAGE_FOLDER}/{names.sound_part(prompt)}"
    if sounds_dir is None:
        return name
    path = os.path.join(os.path.abspath(sounds_dir), name)
    if not _SAFE_PATH.fullmatch(path):
        raise names.UnsafeValue(f"the sounds folder {os.path.abspath(sounds_dir)!r} has "
                                "characters queues.conf cannot take in periodic-announce "
                                "(use letters, digits, _, -, . and /)")
    return path


def _lit(expr: Any) -> Any:
    return expr.get("lit") if isinstance(expr, dict) else None


def message_prompts(options: Mapping[str, Any]) -> list[str]:
    """The prompts (qualified names) of an IR queue's `messages`, in the
    order they play (one may come twice: it plays twice a round)."""
    spec = options.get("messages") or {}
    refs = (p.get("ref") for p in spec.get("prompts") or () if isinstance(p, dict))
    return [str(r) for r in refs if r]


def settings(options: Mapping[str, Any], keys: Mapping[str, Any],
             sounds_dir: str | None = None) -> dict[str, Any]:
    """The in-queue fields of dialplan.QueueSettings from an IR queue."""
    every = _lit((options.get("messages") or {}).get("every"))
    files = tuple(message_file(p, sounds_dir) for p in message_prompts(options))
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


def announcements(request: QueueRequest, joined: datetime, until: datetime,
                  position: int) -> list[QueueAnnouncement]:
    """What app_queue played to the caller from the join until `until` (the
    first ring of a member, the answer or the leaving, whichever came
    first): the position every announce-frequency and the messages in turn
    every periodic-announce-frequency, from the join, the position first
    when both are due. No AMI event reports them, so this is their
    schedule; one delayed by another playing or by a ring is reported when
    it was due, and none after the first ring."""
    out: list[tuple[datetime, int, QueueAnnouncement]] = []
    every = request.announce_position_ms
    at = joined + timedelta(milliseconds=every or 0)
    while every and at < until:
        out.append((at, 0, QueueAnnouncement(_position_sounds(position), at, position=position)))
        at += timedelta(milliseconds=every)
    every = request.message_every_ms if request.messages else None
    at, turn = joined + timedelta(milliseconds=every or 0), 0
    while every and at < until:
        message = request.messages[turn % len(request.messages)]
        out.append((at, 1, QueueAnnouncement(message.sounds, at, prompt=message.prompt)))
        turn += 1
        at += timedelta(milliseconds=every)
    return [a for _, _, a in sorted(out, key=lambda x: (x[0], x[1]))]


def _position_sounds(position: int) -> tuple[Sound, ...]:
    """app_queue's say_position (sound_next, sound_thereare, sound_calls)."""
    if position <= 1:
        return (Sound("file", "queue-youarenext", ""),)
    return (Sound("file", "queue-thereare", ""), Sound("tts", str(position), ""),
            Sound("file", "queue-callswaiting", ""))

