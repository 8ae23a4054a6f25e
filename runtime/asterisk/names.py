"""Names that cross into Asterisk: queue names, agent interfaces, file
names, dialplan contexts. One place, so the dialplan the deployment writes,
the AGI channel and the AMI mirror agree, and so no flow name, CRM value or
caller number reaches Asterisk's parsers unchecked.
Imports nothing of the runtime, so every Asterisk module and the deployment can use it.
"""

from __future__ import annotations

import re

# the spelling the reports share (they read Asterisk's events back): re-exported here
from ccdsl.plain_names import queue_name as queue_name
from ccdsl.plain_names import sound_part as sound_part

# dialplan contexts the deployment generates (runtime/asterisk/dialplan.py)
INBOUND_CONTEXT = "ccf-inbound"  # the configured numbers, handed to FastAGI
TRANSFER_CONTEXT = "ccf-transfer"  # where a blind transfer continues after the AGI ends
ANSWERED_SUB = "ccf-answered"  # Gosub run on the agent's channel before bridging
# the FastAGI script the ANSWERED_SUB calls: agi://HOST:PORT/ccf-answered?call=ID
ANSWERED_SCRIPT = "ccf-answered"

# a recorded prompt's file name: parts of letters, digits, _ . - separated by
# `/`, none starting with a dot (so no `..` part); a BCP 47 language tag; an
# Asterisk call id (Uniqueid, `1795663790.9`) as the answered Gosub passes it
SOUND_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
# `~` joins a repeated Uniqueid to its count: the second call of a channel is `UNIQUEID~2`
CALL_ID = re.compile(r"[A-Za-z0-9_.~-]{1,80}")

_DIALLABLE = re.compile(r"^\+?[0-9*#]{1,32}$")
_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_PART_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_DOTS = re.compile(r"\.{2,}")


class UnsafeValue(ValueError):
    """A value that cannot be handed to Asterisk as it is (it would break
    or change the command): the op fails with a clear message instead."""


def diallable(number: str) -> str:
    """A number to ring: digits, `*`, `#`, an optional leading `+`; spaces,
    dashes, dots and brackets people write are dropped. Anything else
    (letters, commas, quotes, `$`, `/`, newlines) is refused."""
    compact = re.sub(r"[\s().-]", "", number)
    if not _DIALLABLE.match(compact):
        raise UnsafeValue(f"{number!r} is not a phone number that can be dialled")
    return compact


def agent_interface(template: str, agent_id: str, extension: str) -> str:
    """The device that rings an agent, from the configured template
    (`PJSIP/{extension}`, `Local/{extension}@agents`); the extension must
    be diallable and the id plain, so the result is safe in Dial()."""
    ext = diallable(extension) if extension else ""
    if not ext:
        raise UnsafeValue(f"agent {agent_id!r} has no extension to ring")
    if _FILE_UNSAFE.sub("", agent_id) != agent_id:
        raise UnsafeValue(f"agent id {agent_id!r} may only use letters, digits, _ and -")
    return template.format(extension=ext, agent=agent_id)


def file_part(text: str) -> str:
    """One path component made from any text (a call id, a mailbox, a
    caller number): characters outside [A-Za-z0-9_.-] become `_`, and so do
    a leading dot and any run of dots, so no separator, dot-dot, hidden
    file or quote survives. Single dots stay: Asterisk call ids
    (`1795663790.9`) keep the name the call's events give the file. Never
    empty."""
    part = _PART_UNSAFE.sub("_", text[:80])
    part = _DOTS.sub("_", part)
    return ("_" + part[1:] if part.startswith(".") else part) or "_"


def music_class(name: str) -> str:
    """A music-on-hold class (musiconhold.conf section) as MusicOnHold(),
    CHANNEL(musicclass) and queues.conf take it: letters, digits, _ and -
    only, so it cannot add an application argument; anything else is
    refused, not rewritten (a rewritten name would be another class)."""
    if not name or len(name) > 80 or _FILE_UNSAFE.search(name):
        raise UnsafeValue(f"the music class {name!r} may only use letters, digits, _ and -")
    return name


_CHANNEL_SUFFIX = re.compile(r"(?:-[0-9a-fA-F]{8})?(?:;\d+)?$")


def interface_of_channel(channel: str) -> str:
    """The device a channel belongs to: Asterisk names a channel after its
    interface plus a sequence (`PJSIP/8001-0000000a`, `Local/8001@agents-
    00000012;1`); without it the name matches a queue member's interface.
    Queue() gives the Gosub on the member's channel no member name, so the
    `ccf-answered` connection names the agent by its channel."""
    return _CHANNEL_SUFFIX.sub("", channel, count=1)
