"""AMI framing: messages as header blocks, parsed and encoded, with the replies' verdicts.

Bytes and headers only: must not open connections (runtime/asterisk/ami.py does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccdsl.runtime.core.errors import ExternalError

EOL = b"\r\n"
END = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
# a Command reply (say `dialplan show`) can be large; past this the peer is
# not speaking AMI and the connection is dropped
MAX_MESSAGE = 8 * 1024 * 1024
_HEADER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_OK_RESPONSES = ("success", "goodbye", "follows")


class AmiError(ExternalError):
    """The AMI link could not do what was asked: login refused, link down,
    no reply in time, or a header that cannot be sent."""


class CentreCommandError(Exception):
    """A ccf command on the centre (deploy, callback, monitor, agent) failed; the message
    says why. `unreachable`: Asterisk's AMI did not answer (the command exits 4, not 1);
    `unknown`: an id the user gave names nothing; `usage`: a value the user gave cannot
    be one (a call id, an extension, malformed): both usage errors, exit 2."""

    def __init__(self, message: str, *, unreachable: bool = False,
                 unknown: bool = False, usage: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable
        self.unknown = unknown
        self.usage = usage


@dataclass(frozen=True)
class AmiMessage:
    """One AMI message (a reply or an event). Headers keep Asterisk's
    order; a header that came more than once (Command's `Output`) is a
    list. Lookups by name ignore case, as Asterisk's do."""

    headers: dict[str, str | list[str]]

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self._lookup(key)
        if value is None:
            return default
        return value[0] if isinstance(value, list) else value

    def getlist(self, key: str) -> list[str]:
        value = self._lookup(key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def _lookup(self, key: str) -> str | list[str] | None:
        if key in self.headers:
            return self.headers[key]
        folded = key.lower()
        for name, value in self.headers.items():
            if name.lower() == folded:
                return value
        return None

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def message(self) -> str:
        return self.get("Message") or ""

    @property
    def ok(self) -> bool:
        """A reply that says Success (or Goodbye to Logoff); an event is ok
        unless it carries a failed Response (OriginateResponse)."""
        response = self.response
        if response is None:
            return True
        return response.lower() in _OK_RESPONSES


def parse_message(block: bytes) -> AmiMessage:
    """One message without its final blank line. `Key: Value` per line;
    only the one space after the colon is taken off (Command output keeps
    its padding). Lines without a colon (GetConfig's "No categories
    found") carry nothing we use and are skipped."""
    pairs = []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon or not name:
            continue
        pairs.append((name, value[1:] if value.startswith(" ") else value))
    return AmiMessage(fold_headers(pairs))


def fold_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Headers in order as a dict; a repeated header (Command's `Output`,
    Originate's `Variable`) becomes the list of its values."""
    headers: dict[str, str | list[str]] = {}
    for name, value in pairs:
        previous = headers.get(name)
        if previous is None:
            headers[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            headers[name] = [previous, value]
    return headers


def header_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_action(action: str, action_id: str, headers: Mapping[str, object]) -> bytes:
    """The bytes of one action: Action, ActionID, then the headers in the
    given order; a list or tuple value repeats the header; None leaves it
    out. A name or value that would break the framing (a line break, a
    colon in a name) is refused, so no caller number or CRM value can
    inject a header."""
    lines = [f"Action: {_checked('Action', action)}",
             f"ActionID: {_checked('ActionID', action_id)}"]
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise AmiError(f"{name!r} is not a valid AMI header name")
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            lines.append(f"{name}: {_checked(name, header_text(item))}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _checked(name: str, value: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        raise AmiError(f"the AMI header {name} has a line break or NUL in its value: not sent")
    return value


def ends_list(message: AmiMessage) -> bool:
    return (message.get("EventList") or "").lower() in ("complete", "cancelled")


def starts_list(reply: AmiMessage) -> bool:
    return reply.ok and (reply.get("EventList") or "").lower() == "start"
