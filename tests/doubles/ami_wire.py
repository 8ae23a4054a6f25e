"""The AMI test peer's wire: reading an action, writing replies and events, event classes.

Knows no queue, channel or config file: the simulated Asterisk lives in ami_state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ccdsl.runtime.asterisk.ami_protocol import fold_headers

END = b"\r\n\r\n"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
ALL_CLASSES = ("system", "call", "log", "verbose", "command", "agent", "user", "config",
               "dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc",
               "test", "security", "message")

# the class of the events the peer sends by itself, and of events given to
# emit() without a Privilege header
_EVENT_CLASS = {
    "FullyBooted": "system", "SuccessfulAuth": "security", "RequestBadFormat": "security",
    "UserEvent": "user", "DTMFBegin": "dtmf", "DTMFEnd": "dtmf", "Newexten": "dialplan",
    "VarSet": "dialplan", "Cdr": "cdr", "AGIExecStart": "agi", "AGIExecEnd": "agi",
    "Reload": "system", "Shutdown": "system",
}
_AGENT_EVENTS = ("Queue", "Agent")  # QueueMember*, QueueCaller*, Agent* are class agent


def event_class(name: str) -> str:
    if name in _EVENT_CLASS:
        return _EVENT_CLASS[name]
    if name.startswith(_AGENT_EVENTS):
        return "agent"
    return "call"


def ast_true(value: str) -> bool:
    """Asterisk's ast_true."""
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


class Request:
    """One received action: headers in order, looked up without case
    (astman_get_header), "" when absent."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str) -> str:
        folded = name.lower()
        for key, value in self.pairs:
            if key.lower() == folded:
                return value
        return ""

    def as_dict(self) -> dict[str, str | list[str]]:
        return fold_headers(self.pairs)


@dataclass(eq=False)  # kept in a set, by identity
class Session:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    username: str = ""
    authenticated: bool = False
    events: frozenset[str] = frozenset()

    def wants(self, klass: str) -> bool:
        return self.authenticated and klass in self.events


class Close(Exception):
    """The handler answered and the connection ends (Logoff, failed login)."""


def frame(*pairs: tuple[str, object]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode("utf-8")


def reply(session: Session, request: Request, response: str,
          message: str | None = None, *extra: tuple[str, object]) -> None:
    """astman_send_response_full (main/manager.c): Response, ActionID
    when the request had one, Message when given, then the rest."""
    pairs: list[tuple[str, object]] = [("Response", response)]
    action_id = request.get("ActionID")
    if action_id:
        pairs.append(("ActionID", action_id))
    if message is not None:
        pairs.append(("Message", message))
    pairs.extend(extra)
    session.writer.write(frame(*pairs))

def error(session: Session, request: Request, message: str) -> None:
    reply(session, request, "Error", message)


def send_list(session: Session, request: Request, message: str, complete: str,
              items: list[bytes], *extra: tuple[str, object]) -> None:
    """astman_send_listack, the items, astman_send_list_complete_*."""
    reply(session, request, "Success", None, ("EventList", "start"), ("Message", message))
    for item in items:
        session.writer.write(item)
    pairs: list[tuple[str, object]] = [("Event", complete)]
    if request.get("ActionID"):
        pairs.append(("ActionID", request.get("ActionID")))
    pairs += [("EventList", "Complete"), ("ListItems", len(items)), *extra]
    session.writer.write(frame(*pairs))


def parse_request(block: bytes) -> Request:
    pairs = []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon and name:
            pairs.append((name.strip(), value.strip()))
    return Request(pairs)


def all_values(request: Request, name: str) -> list[str]:
    return [v for k, v in request.pairs if k.lower() == name.lower()]


def event_mask(text: str) -> frozenset[str]:
    """Login's Events header (main/manager.c set_eventmask): absent or on
    = every class, off = none, else the named classes."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if not words or words == ["on"] or "all" in words:
        return frozenset(ALL_CLASSES)
    if words == ["off"]:
        return frozenset()
    return frozenset(words)


def callerid(text: str) -> tuple[str, str]:
    """`Bob <+8613900000002>` -> ("Bob", "+8613900000002")."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, num = text[:-1].partition("<")
        return name.strip().strip('"'), num.strip()
    return "", text
