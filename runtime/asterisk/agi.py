"""FastAGI framing and reply parsing, and argument quoting.

Must not know the ops or the call. Our own code, not panoramisk's (docs/asterisk.md
"panoramisk"); the wire as the captures show it is in docs/asterisk.md "FastAGI on the wire".
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import parse_qsl, unquote

from ccdsl.runtime.asterisk.agi_deadlines import ReplyDeadlines, deadlines
from ccdsl.runtime.asterisk.agi_timeouts import ReplyLimits
from ccdsl.runtime.asterisk.agi_wire import AgiLineTooLong, AgiWire
from ccdsl.runtime.core.errors import ExternalError

log = logging.getLogger("ccdsl.agi")

# res_agi's AGI_BUF_LEN is 8192 and fgets keeps one byte for the NUL
MAX_COMMAND_BYTES = 8191
DEFAULT_REPLY_TIMEOUT_S = 3600.0  # a command without its own limit (the channel gives one)
WRITE_TIMEOUT_S = 10.0
MAX_USAGE_LINES = 200  # a 520 block longer than this is not Asterisk's usage text

_HEADER_KEY = re.compile(r"agi_[a-z0-9_]+")
_REPLY = re.compile(r"(\d{3})(?:[ -](.*))?")
_ENDPOS = re.compile(r"(?:^| )endpos=(-?\d+)$")
_INTEGER = re.compile(r"-?\d{1,20}")  # longer is no C number: int() would only be slow
C_INT = range(-2 ** 31, 2 ** 31)  # res_agi prints result= with %d
C_LONG = range(-2 ** 63, 2 ** 63)  # and endpos= with %ld
# characters that would end the command line early (LF), be taken for the
# end of a line by a lenient reader (CR) or cut the C string (NUL)
_WIRE_UNSAFE = str.maketrans({"\r": " ", "\n": " ", "\0": " "})


class AgiProtocolError(Exception):
    """The other side broke the protocol: a malformed or oversized header
    block, a line that is no reply, a reply that never came, or the socket
    closed early."""


class AgiConnectionClosed(AgiProtocolError):
    """The socket closed (or failed) before a reply was complete. On a call
    this means the line is gone: the caller hung up or Asterisk ended it."""


class AgiReplyTimeout(AgiProtocolError, ExternalError):
    """No reply within the command's limit (agi_timeouts.py): the peer went
    quiet. The session closes the connection (a late reply would answer the
    wrong command); as an ExternalError of the service `asterisk` the flow's
    error path runs and the call ends with the outcome `error`."""


class AgiArgumentError(ValueError):
    """A command that cannot be sent as it is (a verb with a line break, a
    line longer than res_agi reads in one go). Nothing was sent."""


# -- the agi_ header block --------------------------------------------------------------


@dataclass(frozen=True)
class AgiEnvironment:
    variables: dict[str, str]  # agi_* as sent, in order
    script: str  # agi_network_script without the query string ("main_menu")
    query: dict[str, str] = field(default_factory=dict)  # "lang=en" -> {"lang": "en"}
    args: tuple[str, ...] = ()  # agi_arg_1.. in order

    def get(self, name: str, default: str = "") -> str:
        return self.variables.get(name, default)


def environment_from(variables: dict[str, str]) -> AgiEnvironment:
    """The environment of a complete header block (checked for what a call
    needs to be told apart from another)."""
    for required in ("agi_network_script", "agi_uniqueid", "agi_channel"):
        if required not in variables:
            raise AgiProtocolError(f"the agi_ header block has no {required} "
                                   f"({len(variables)} variables were sent)")
    path, _, query = variables["agi_network_script"].partition("?")
    numbered = sorted((int(k[8:]), v) for k, v in variables.items()
                      if k.startswith("agi_arg_") and k[8:].isdigit())
    # the dialplan percent-encodes a flow named beyond ASCII (config.agi_script)
    return AgiEnvironment(variables=variables, script=unquote(path),
                          query=dict(parse_qsl(query, keep_blank_values=True)),
                          args=tuple(v for _, v in numbered))


async def read_environment(wire: AgiWire, *, timeout: float = 5.0,
                           limit: int = 64 * 1024) -> AgiEnvironment:
    """Read the agi_ block Asterisk opens a FastAGI connection with. Raises
    AgiProtocolError, with a message that says what was wrong, when the
    block is malformed, larger than `limit` bytes, cut short by the socket
    closing, or not complete within `timeout` seconds."""
    variables: dict[str, str] = {}
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("the agi_ header block must be read from a task")
    # the wait is bounded by the loop's deadlines (agi_deadlines.py), as a
    # reply's is: no timer of its own per connection
    watch = deadlines(asyncio.get_running_loop())
    expired: list[bool] = []
    cancelling = task.cancelling()
    watch.arm(wire, watch.now() + timeout, task, lambda: expired.append(True))
    try:
        await _read_header(wire, variables, limit)
    except asyncio.CancelledError:
        if not expired or task.uncancel() > cancelling:
            raise  # not ours, or cancelled for another reason as well
        raise AgiProtocolError(f"the agi_ header block was not complete within {timeout:g} s "
                               f"({len(variables)} variables read)") from None
    finally:
        watch.disarm(wire)
    return environment_from(variables)


async def _read_header(wire: AgiWire, variables: dict[str, str], limit: int) -> None:
    """The block into `variables`, taken as many lines at a time as have arrived
    (Asterisk writes it in two pieces); the line-by-line reader takes over for
    whatever it must tell apart (an overrun, EOF, a failed connection)."""
    size = 0
    while True:
        lines = wire.take_lines(limit - size)
        if lines is None:
            break
        if lines:
            size += len(lines)
            # decoded at once: a LF is never part of a UTF-8 sequence, so each
            # line decodes (and is replaced) as it would alone
            for line in lines.decode("utf-8", "replace").split("\n")[:-1]:
                if _header_line(line.rstrip("\r"), variables):
                    return
        await wire.readable()
    await _read_header_lines(wire, variables, limit, size)


async def _read_header_lines(wire: AgiWire, variables: dict[str, str], limit: int,
                             size: int = 0) -> None:
    while True:
        try:
            raw = wire.take_line()  # the block mostly comes in one piece: no wait per line
            if raw is None:
                raw = await wire.read_line()
        except asyncio.IncompleteReadError as exc:
            if not variables and not exc.partial:
                raise AgiProtocolError("the connection closed before any agi_ header was "
                                       "sent") from None
            raise AgiProtocolError(
                f"the connection closed before the end of the agi_ header block "
                f"({len(variables)} variables read; the block ends with an empty line)") from None
        except AgiLineTooLong:
            raise AgiProtocolError(f"an agi_ header line is longer than the {limit}-byte "
                                   "limit of the block") from None
        except (ConnectionError, OSError) as exc:
            raise AgiProtocolError(f"the connection failed while the agi_ header block was "
                                   f"being read: {exc}") from None
        size += len(raw)
        if size > limit:
            raise AgiProtocolError(f"the agi_ header block is larger than {limit} bytes")
        if _header_line(raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r"), variables):
            return


def _header_line(line: str, variables: dict[str, str]) -> bool:
    """One line of the block into `variables`; True for the empty line that ends it."""
    if not line:
        if not variables:
            raise AgiProtocolError("the agi_ header block is empty")
        return True
    key, sep, value = line.partition(":")
    if not sep or not _HEADER_KEY.fullmatch(key):
        raise AgiProtocolError(f"malformed agi_ header line {line[:80]!r}: expected "
                               "`agi_name: value`")
    if key in variables:
        raise AgiProtocolError(f"the agi_ header block sends {key} twice")
    variables[key] = value[1:] if value.startswith(" ") else value
    return False


# -- replies --------------------------------------------------------------------------


@dataclass(frozen=True)
class AgiReply:
    code: int  # 200, 510, 511, 520
    result: str  # after "result=", may be "" ("200 result= (timeout)")
    data: str | None  # the parenthesised part without the parentheses; None when absent
    endpos: int | None
    text: str  # the whole reply (all lines for 520)

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"

    @cached_property  # read two or three times a command
    def value(self) -> int | None:
        """The result as a number, None when it is none Asterisk could send
        (letters, nothing, beyond a C int): what it means is the command's
        (agi_results.py)."""
        return c_number(self.result)


@lru_cache(maxsize=512)  # a call's replies are mostly the same few lines; AgiReply is frozen
def parse_reply(line: str) -> AgiReply:
    """One reply line (a 520 block is put together by the session). Raises
    AgiProtocolError for a line that is no reply."""
    match = _REPLY.fullmatch(line)
    if match is None or int(match.group(1)) not in (200, 510, 511, 520):
        raise AgiProtocolError(f"a line that is no AGI reply: {line[:120]!r}")
    code, rest = int(match.group(1)), match.group(2) or ""
    if code != 200:
        return AgiReply(code, "", None, None, line)
    if not rest.startswith("result="):
        raise AgiProtocolError(f"a 200 reply without result=: {line[:120]!r}")
    result, _, tail = rest[len("result="):].partition(" ")
    endpos = None
    found = _ENDPOS.search(tail)
    if found is not None:
        endpos = c_number(found.group(1), C_LONG)
        if endpos is None:
            raise AgiProtocolError(f"a 200 reply with an endpos beyond any file: {line[:120]!r}")
        tail = tail[:found.start()]
    data = None
    if tail:
        if not (tail.startswith("(") and tail.endswith(")")):
            raise AgiProtocolError(f"a 200 reply with unreadable data: {line[:120]!r}")
        data = tail[1:-1]
    return AgiReply(200, result, data, endpos, line)


def c_number(text: str, bounds: range = C_INT) -> int | None:
    """A number as Asterisk prints one (a C int unless `bounds` says
    otherwise); None for anything else, however many digits it has."""
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if number in bounds else None


def _line_text(raw: bytes) -> str:
    """A line as received, without its LF and the CRs before it."""
    return raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r")


@lru_cache(maxsize=512)  # a call's replies are mostly the same few lines (parse_reply's cache)
def _reply_of(raw: bytes) -> AgiReply | str:
    """A received line as the session reads it: the reply it is, or the line
    itself when it is the unsolicited HANGUP or a 520 usage block's first
    line. Raises parse_reply's AgiProtocolError for any other line."""
    line = _line_text(raw)
    if line == "HANGUP" or line.startswith("520-"):
        return line
    return parse_reply(line)


# what reading a line may raise, and what the session makes of it
_WIRE_ERRORS = (asyncio.IncompleteReadError, AgiLineTooLong, ConnectionError, OSError)


def _read_failure(exc: BaseException) -> AgiProtocolError:
    if isinstance(exc, asyncio.IncompleteReadError):
        what = "in the middle of a reply" if exc.partial else "before the reply"
        return AgiConnectionClosed(f"the AGI connection closed {what}")
    if isinstance(exc, AgiLineTooLong):
        return AgiProtocolError("a reply line longer than the reader's limit")
    return AgiConnectionClosed(f"the AGI connection failed: {exc}")


# -- commands ----------------------------------------------------------------------------


def quote(arg: str) -> str:
    """One AGI argument: double-quoted, with `\\` and `"` escaped as res_agi's
    parse_args reads them, and CR, LF and NUL turned into spaces, so no value
    can end the line or add a second command."""
    text = str(arg).translate(_WIRE_UNSAFE)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_line(verb: str, *args: str) -> bytes:
    """The bytes of one command: the verb as written, each argument quoted."""
    # as text: the cache must not take 1 for True (equal keys) and send "True" for "1"
    return _command_line(verb, tuple(map(str, args)))


@lru_cache(maxsize=1024)  # a flow sends the same few lines on every call
def _command_line(verb: str, args: tuple[str, ...]) -> bytes:
    if "\r" in verb or "\n" in verb or "\0" in verb:
        raise AgiArgumentError(f"an AGI verb may not contain a line break: {verb!r}")
    line = " ".join([verb, *(quote(a) for a in args)]).encode("utf-8") + b"\n"
    if len(line) > MAX_COMMAND_BYTES:
        raise AgiArgumentError(f"the command {verb} is {len(line)} bytes long; res_agi reads "
                               f"at most {MAX_COMMAND_BYTES} bytes a line")
    return line


class AgiSession:
    """One FastAGI connection after its header block: commands and replies,
    strictly one reply per command. Not for concurrent use: a second command
    while one waits for its reply is refused (AgiProtocolError)."""

    def __init__(self, wire: AgiWire, env: AgiEnvironment, *,
                 reply_timeout: float = DEFAULT_REPLY_TIMEOUT_S,
                 limits: ReplyLimits | None = None) -> None:
        self.wire = wire
        self.env = env
        self.reply_timeout = reply_timeout
        # each command's own limit, read from its line (None: as the caller asks)
        self.limits = limits
        self._deadlines: ReplyDeadlines | None = None  # the loop's (agi_deadlines.py)
        self._expired = False  # the reply awaited now is past its deadline
        self.hung_up = False  # the async HANGUP line arrived, a 511 came, or EOF
        self.closed = False
        self.busy = False  # a command waits for its reply
        self._broken: str | None = None  # why no further command can be trusted

    async def command(self, verb: str, *args: str, timeout: float | None = None) -> AgiReply:
        """Send one command and read its reply. Raises AgiConnectionClosed
        when the socket closes (hung_up is then set), AgiProtocolError for
        a garbled reply or none within `timeout` seconds (after that the
        session is unusable: a late reply would answer the wrong command)."""
        line = command_line(verb, *args)
        if self._broken is not None:
            if self.closed:  # a reply that never came: the line is gone for the call
                raise AgiConnectionClosed(f"the AGI session is unusable: {self._broken}")
            raise AgiProtocolError(f"the AGI session is unusable: {self._broken}")
        if self.closed:
            raise AgiConnectionClosed("the AGI connection is closed")
        if self.busy:
            raise AgiProtocolError(f"{verb}: another AGI command is still waiting for its reply")
        limit = self.reply_timeout if timeout is None else timeout
        if self.limits is not None:
            limit = self.limits.limit(verb, args, limit)
        self.busy = True
        wire = self.wire
        try:
            try:
                wire.write(line)
            except (ConnectionError, OSError) as exc:
                self.hung_up = True
                raise AgiConnectionClosed(f"{verb}: the AGI connection failed: {exc}") from None
            # drain() only for a backed-up socket: its bound is a timer, and a
            # timer per command was a large share of a call's server time
            if wire.backed_up():
                await self._drain(verb)
            watch, task, cancelling = self._arm(limit)
            # the reply is read here, not by a coroutine of its own: one
            # coroutine less on every command
            try:
                while True:  # the lines already here are taken without a wait
                    try:
                        raw = wire.take_line()
                    except _WIRE_ERRORS as exc:
                        raise _read_failure(exc) from None
                    if raw is None:  # the reply is not here yet: the one wait of a command
                        await wire.readable()
                        continue
                    reply = _reply_of(raw)
                    if reply.__class__ is AgiReply:
                        break
                    if reply == "HANGUP":
                        self.hung_up = True  # unsolicited: never the reply
                    else:
                        reply = await self._usage_block(reply)
                        break
            except asyncio.CancelledError:
                # its deadline cancels this task when it passes (as asyncio.timeout
                # would, without a timer of its own per command)
                if not self._expired or task.uncancel() > cancelling:
                    raise  # not ours, or cancelled for another reason as well
                self._broken = f"no reply to {verb} within {limit:g} s: the peer went quiet"
                self._quiet_peer(verb, limit)
                raise AgiReplyTimeout(self._broken, service="asterisk",
                                      timed_out=True) from None
            except AgiConnectionClosed:
                self.hung_up = True
                raise
            except AgiProtocolError as exc:
                self._broken = str(exc)
                raise
            finally:
                watch.disarm(self)
        except asyncio.CancelledError:
            # stopped half-way: a reply may still come and would answer the next command
            self._broken = f"{verb} was cancelled before its reply"
            raise
        finally:
            self.busy = False
        if reply.code == 511:
            self.hung_up = True
        return reply

    async def _drain(self, verb: str) -> None:
        """A command line is small: it almost always leaves at once. Only a
        backed-up socket is waited for, and not for ever."""
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await self.wire.drain()
        except (ConnectionError, OSError) as exc:
            self.hung_up = True
            raise AgiConnectionClosed(f"{verb}: the AGI connection failed: {exc}") from None
        except TimeoutError:
            self._broken = f"{verb} could not be sent within {WRITE_TIMEOUT_S:g} s"
            raise AgiProtocolError(self._broken) from None

    def _arm(self, limit: float) -> tuple[ReplyDeadlines, asyncio.Task, int]:
        """The reply is due within `limit` seconds: its deadline armed on the
        loop's deadlines, with the task it cancels and that task's count of
        cancellations asked for so far."""
        watch = self._deadlines
        if watch is None:
            watch = self._deadlines = deadlines(asyncio.get_running_loop())
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("an AGI command must be sent from a task")
        cancelling = task.cancelling()
        self._expired = False
        watch.arm(self, watch.now() + limit, task, self._expire)
        return watch, task, cancelling

    def _expire(self) -> None:
        self._expired = True

    def extend_reply_timeout(self, seconds: float) -> bool:
        """Let the command now waiting for its reply wait `seconds` from now,
        when that is later than its limit (Dial() or Queue() was answered:
        their reply comes when the conversation ends). False when no reply
        is awaited."""
        watch = self._deadlines
        return watch is not None and watch.extend(self, watch.now() + seconds)

    def _quiet_peer(self, verb: str, limit: float) -> None:
        """The peer went quiet: one line that says so, and the connection
        closed, so Asterisk (if it is alive) ends the AGI and goes on with the
        dialplan at the fallback."""
        log.warning("call %s: no reply from Asterisk to %s within %g s; the FastAGI "
                    "connection is closed and the call ends (outcome error)",
                    self.env.get("agi_uniqueid") or "?", verb, limit)
        self.closed = True
        self.wire.abort()

    async def _usage_block(self, first: str) -> AgiReply:
        lines = [first]
        while len(lines) < MAX_USAGE_LINES:
            line = self._take()
            if line is None:
                await self.wire.readable()
                continue
            lines.append(line)
            if line.startswith("520 "):
                return AgiReply(520, "", None, None, "\n".join(lines))
        raise AgiProtocolError(f"a 520 usage reply longer than {MAX_USAGE_LINES} lines")

    def _take(self) -> str | None:
        """The next line received, None when none is complete yet."""
        try:
            raw = self.wire.take_line()
        except _WIRE_ERRORS as exc:
            raise _read_failure(exc) from None
        if raw is None:
            return None
        return _line_text(raw)

    async def close(self) -> None:
        """Close the socket: on Asterisk's side the AGI ends and the dialplan
        carries on. Idempotent."""
        if self.closed:
            return
        self.closed = True
        wire = self.wire
        try:
            backed_up = wire.backed_up()
            wire.close()
            if not backed_up:  # nothing left to send: the transport ends on the loop's next turn
                await wire.wait_closed()
                return
            async with asyncio.timeout(2.0):  # not wait_for: no task of its own a call
                await wire.wait_closed()
        except (ConnectionError, OSError, TimeoutError):
            pass  # the peer went first: closed all the same
