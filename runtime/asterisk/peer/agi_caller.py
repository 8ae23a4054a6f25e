"""The FastAGI test peer: a FastAGI *client* that stands in for Asterisk.

`AgiCaller` connects to a FastAGI server (`ccf serve`) as res_agi does:
the agi_ environment block first (the 22 variables of
tests/asterisk/captures/fastagi-session.txt, in that order, `\\n` line
ends, sent in two writes as Asterisk's fell), then one reply per command
line, in the shapes the captures show, until the server closes the socket.

What is protocol is done here, once, for every backend:
- a command Asterisk does not know: `510 Invalid or unknown command`;
- after the caller hung up, a command not allowed on a dead channel
  (agi-commands.txt, column Dead): `511 Command Not Permitted on a dead
  channel or intercept routine`;
- wrong argument counts (and unreadable numbers): the multi-line 520 usage
  reply, its first line in a write of its own as in the capture;
- the hang-up itself: the running command gets its own `result=-1` reply,
  then the unsolicited `HANGUP\\n` line follows in its own write. When the
  caller hung up while no command ran (virtual time passed in the flow),
  the `HANGUP\\n` line goes out before the next reply, as Asterisk had sent
  it when the hang-up happened.

What the channel does comes from a `Backend`. This base class is a line
that is up and where nothing happens (every prompt plays at once, no key
is ever pressed): the agent's leg of a bridged call uses it. `SimBackend`
(below) puts a simulated caller on the line; runtime/asterisk/peer/raw.py
has byte-level control for fault tests and the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote as url_quote

from runtime.asterisk import names
from runtime.channel import DialTarget, QueueRequest, Sound
from runtime.errors import CallHungUp
from runtime.events import Event, EventSink
from runtime.sim.channel import SimChannel

AGI_VERSION = "22.10.1"
DEFAULT_TIMEOUT_S = 30.0  # the server's silence a peer waits out before it gives up
SAMPLES_PER_MS = 8  # Asterisk's endpos counts 8 kHz samples
FOREVER_MS = 24 * 3_600_000  # "wait for ever" (-1, an empty MusicOnHold duration)

REPLY_UNKNOWN = "510 Invalid or unknown command"
REPLY_DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
HANGUP_LINE = b"HANGUP\n"
USAGE_FIRST = b"520-Invalid command syntax.  Proper usage follows:\n"
USAGE_LAST = "520 End of proper usage.\n"


class PeerError(Exception):
    """The server could not be reached, or fell silent longer than the
    peer's timeout."""


class UsageError(Exception):
    """A command's arguments do not fit it: Asterisk answers with the 520
    usage reply (a backend raises it for a number it cannot read)."""


# ---- the AGI commands Asterisk 22 knows (`agi show commands`) ------------------


@dataclass(frozen=True)
class CommandSpec:
    verb: str  # upper case, words separated by one space
    min_args: int  # arguments after the verb
    max_args: int | None  # None: any number
    dead_ok: bool  # allowed on a hung-up channel (agi-commands.txt)
    usage: str = ""  # the free text of the 520 reply


_STREAM_FILE_USAGE = (
    "Send the given file, allowing playback to be interrupted by the given digits, if any. "
    "Returns <literal>0</literal> if playback completes without a digit being pressed, or the "
    "ASCII numerical value of the digit if one was pressed, or <literal>-1</literal> on error "
    "or if the channel was disconnected. If musiconhold is playing before calling stream file "
    "it will be automatically stopped and will not be restarted after completion.\n"
    "It sets the following channel variables upon completion:\n"
    "<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text string.\n"
    "    <value>SUCCESS</value>\n"
    "    <value>FAILED</value>\n")


def _spec(verb: str, lo: int, hi: int | None, dead: bool, usage: str) -> CommandSpec:
    return CommandSpec(verb, lo, hi, dead, usage + "\n")


SPECS: dict[str, CommandSpec] = {s.verb: s for s in (
    _spec("ANSWER", 0, 0, False, "Answers channel if not already in answer state. Returns "
          "<literal>-1</literal> on channel failure, or <literal>0</literal> if successful."),
    _spec("ASYNCAGI BREAK", 0, 0, True, "Interrupts expected flow of Async AGI commands and "
          "returns control to previous source (typically, the PBX dialplan)."),
    _spec("CHANNEL STATUS", 0, 1, False, "Returns the status of the specified "
          "<replaceable>channelname</replaceable>. If no channel name is given then returns "
          "the status of the current channel."),
    _spec("DATABASE DEL", 2, 2, True, "Deletes an entry in the Asterisk database for a given "
          "<replaceable>family</replaceable> and <replaceable>key</replaceable>."),
    _spec("DATABASE DELTREE", 1, 2, True, "Deletes a <replaceable>family</replaceable> or "
          "specific <replaceable>keytree</replaceable> within a family in the Asterisk "
          "database."),
    _spec("DATABASE GET", 2, 2, True, "Retrieves an entry in the Asterisk database for a given "
          "<replaceable>family</replaceable> and <replaceable>key</replaceable>."),
    _spec("DATABASE PUT", 3, 3, True, "Adds or updates an entry in the Asterisk database for a "
          "given <replaceable>family</replaceable>, <replaceable>key</replaceable>, and "
          "<replaceable>value</replaceable>."),
    _spec("EXEC", 1, None, True, "Executes <replaceable>application</replaceable> with given "
          "<replaceable>options</replaceable>. Returns whatever the "
          "<replaceable>application</replaceable> returns, or <literal>-2</literal> on failure "
          "to find <replaceable>application</replaceable>."),
    _spec("GET DATA", 1, 3, False, "Stream the given <replaceable>file</replaceable>, and "
          "receive DTMF data. Returns the digits received from the channel at the other end."),
    _spec("GET FULL VARIABLE", 1, 2, True, "Evaluates the given "
          "<replaceable>expression</replaceable> against the channel specified by "
          "<replaceable>channelname</replaceable>, or the current channel if channelname is "
          "not provided."),
    _spec("GET OPTION", 2, 3, False, "Behaves similar to STREAM FILE but used with a timeout "
          "option."),
    _spec("GET VARIABLE", 1, 1, True, "Returns <literal>0</literal> if "
          "<replaceable>variablename</replaceable> is not set. Returns <literal>1</literal> if "
          "<replaceable>variablename</replaceable> is set and returns the variable in "
          "parentheses."),
    _spec("HANGUP", 0, 1, False, "Hangs up the specified channel. If no channel name is given, "
          "hangs up the current channel"),
    _spec("NOOP", 0, None, True, "Does nothing."),
    _spec("RECEIVE CHAR", 1, 1, False, "Receives a character of text on a channel. Most "
          "channels do not support the reception of text."),
    _spec("RECEIVE TEXT", 1, 1, False, "Receives a string of text on a channel. Most channels "
          "do not support the reception of text."),
    _spec("RECORD FILE", 4, 7, False, "Record to a file until a given dtmf digit in the "
          "sequence is received. Returns <literal>-1</literal> on hangup or error."),
    _spec("SAY ALPHA", 2, 2, False, "Say a given character string, returning early if any of "
          "the given DTMF digits are received on the channel."),
    _spec("SAY DIGITS", 2, 2, False, "Say a given digit string, returning early if any of the "
          "given DTMF digits are received on the channel."),
    _spec("SAY NUMBER", 2, 3, False, "Say a given number, returning early if any of the given "
          "DTMF digits are received on the channel."),
    _spec("SAY PHONETIC", 2, 2, False, "Say a given character string with phonetics, returning "
          "early if any of the given DTMF digits are received on the channel."),
    _spec("SAY DATE", 2, 2, False, "Say a given date, returning early if any of the given DTMF "
          "digits are received on the channel."),
    _spec("SAY TIME", 2, 2, False, "Say a given time, returning early if any of the given DTMF "
          "digits are received on the channel."),
    _spec("SAY DATETIME", 2, 5, False, "Say a given time, returning early if any of the given "
          "DTMF digits are received on the channel."),
    _spec("SEND IMAGE", 1, 1, False, "Sends the given image on a channel. Most channels do not "
          "support the transmission of images."),
    _spec("SEND TEXT", 1, 1, False, "Sends the given text on a channel. Most channels do not "
          "support the transmission of text."),
    _spec("SET AUTOHANGUP", 1, 1, False, "Cause the channel to automatically hangup at "
          "<replaceable>time</replaceable> seconds in the future."),
    _spec("SET CALLERID", 1, 1, False, "Changes the callerid of the current channel."),
    _spec("SET CONTEXT", 1, 1, False, "Sets the context for continuation upon exiting the "
          "application."),
    _spec("SET EXTENSION", 1, 1, False, "Changes the extension for continuation upon exiting "
          "the application."),
    _spec("SET MUSIC", 1, 2, False, "Enables/Disables the music on hold generator."),
    _spec("SET PRIORITY", 1, 1, False, "Changes the priority for continuation upon exiting the "
          "application. The priority must be a valid priority or label."),
    _spec("SET VARIABLE", 2, 2, True, "Sets a variable to the current channel."),
    CommandSpec("STREAM FILE", 2, 3, False, _STREAM_FILE_USAGE),
    _spec("CONTROL STREAM FILE", 2, 7, False, "Send the given file, allowing playback to be "
          "controlled by the given digits, if any."),
    _spec("TDD MODE", 1, 1, False, "Enable/Disable TDD transmission/reception on a channel."),
    _spec("VERBOSE", 1, 2, True, "Sends <replaceable>message</replaceable> to the console via "
          "verbose message system."),
    _spec("WAIT FOR DIGIT", 1, 1, False, "Waits up to <replaceable>timeout</replaceable> "
          "milliseconds for channel to receive a DTMF digit. Returns <literal>-1</literal> on "
          "channel failure, <literal>0</literal> if no digit is received in the timeout, or "
          "the numerical value of the ascii of the digit if one is received. Use -1 for the "
          "<replaceable>timeout</replaceable> value if you desire the call to block "
          "indefinitely."),
    _spec("SPEECH CREATE", 1, 1, False, "Create a speech object to be used by the other Speech "
          "AGI commands."),
    _spec("SPEECH SET", 2, 2, False, "Set an engine-specific setting."),
    _spec("SPEECH DESTROY", 0, 0, True, "Destroy the speech object created by SPEECH CREATE."),
    _spec("SPEECH LOAD GRAMMAR", 2, 2, False, "Loads the specified grammar as the specified "
          "name."),
    _spec("SPEECH UNLOAD GRAMMAR", 1, 1, True, "Unloads the specified grammar."),
    _spec("SPEECH ACTIVATE GRAMMAR", 1, 1, False, "Activates the specified grammar on the "
          "speech object."),
    _spec("SPEECH DEACTIVATE GRAMMAR", 1, 1, False, "Deactivates the specified grammar on the "
          "speech object."),
    _spec("SPEECH RECOGNIZE", 2, 3, False, "Plays back given prompt while listening for "
          "speech and dtmf."),
    _spec("GOSUB", 2, 3, False, "Cause the channel to execute the specified dialplan "
          "subroutine, returning to the dialplan with execution of a Return()."),
)}
_VERB_WORDS = max(len(v.split()) for v in SPECS)


@dataclass(frozen=True)
class AgiCommand:
    verb: str  # as in SPECS: "STREAM FILE"
    args: tuple[str, ...]  # after the verb, quotes and escapes removed
    line: str  # the line as received, without its "\n"

    def arg(self, index: int, default: str = "") -> str:
        return self.args[index] if index < len(self.args) else default


def parse_args(line: str) -> list[str]:
    """Split a command line as res_agi's parse_args does: spaces and tabs
    separate words, double quotes group (an empty pair is an empty word),
    a backslash takes the next character literally."""
    words: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and current is None:
                current = []
                words.append("")
            continue
        if ch in " \t" and not quoted and not escaped:
            if current is not None:
                words[-1] = "".join(current)
            current = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        escaped = False
        if current is None:
            current = []
            words.append("")
        current.append(ch)
    if current is not None:
        words[-1] = "".join(current)
    return words


def find_command(line: str) -> tuple[CommandSpec | None, AgiCommand | None]:
    """The command a line names (longest verb first, case-insensitive),
    or (None, None) when Asterisk would not know it."""
    words = parse_args(line)
    for n in range(min(_VERB_WORDS, len(words)), 0, -1):
        spec = SPECS.get(" ".join(w.upper() for w in words[:n]))
        if spec is not None:
            return spec, AgiCommand(spec.verb, tuple(words[n:]), line)
    return None, None


def fits(spec: CommandSpec, cmd: AgiCommand) -> bool:
    n = len(cmd.args)
    return n >= spec.min_args and (spec.max_args is None or n <= spec.max_args)


def usage_writes(spec: CommandSpec) -> list[bytes]:
    """The 520 reply, as two writes (its first line went out alone)."""
    return [USAGE_FIRST, (spec.usage + USAGE_LAST).encode("utf-8")]


def number(text: str) -> int:
    """An integer argument, read as Asterisk's sscanf("%d") would, or the
    usage reply."""
    match = re.match(r"\s*([+-]?\d+)", text)
    if match is None:
        raise UsageError(text)
    return int(match.group(1))


# ---- the agi_ environment --------------------------------------------------------


@dataclass(frozen=True)
class CallerLine:
    """What Asterisk tells the FastAGI server about the channel. The
    defaults are a PJSIP call into the generated dialplan."""

    script: str = "main"  # agi_network_script: the path after host:port/, query kept
    channel: str = "PJSIP/caller-00000001"
    uniqueid: str = "1795652892.1"
    callerid: str | None = None  # None: "unknown", as Asterisk sends it
    calleridname: str | None = None
    dnid: str | None = None
    rdnis: str | None = None
    language: str = "en"
    context: str = names.INBOUND_CONTEXT
    extension: str = "s"
    priority: int = 1
    accountcode: str = ""
    threadid: str = "139861812057792"
    args: tuple[str, ...] = ()  # agi_arg_1.. (AGI(url,arg1,arg2))
    request: str | None = None  # agi_request; None: agi://HOST:PORT/SCRIPT of the connection


def environment(line: CallerLine, host: str, port: int) -> list[tuple[str, str]]:
    """The agi_ variables, in Asterisk's order. Values go out as given
    (a test may put a newline in a caller name to see the server cope)."""
    tech = line.channel.split("/", 1)[0]
    pairs = [
        ("agi_network", "yes"),
        ("agi_network_script", line.script),
        ("agi_request", line.request or f"agi://{host}:{port}/{line.script}"),
        ("agi_channel", line.channel),
        ("agi_language", line.language),
        ("agi_type", tech),
        ("agi_uniqueid", line.uniqueid),
        ("agi_version", AGI_VERSION),
        ("agi_callerid", line.callerid or "unknown"),
        ("agi_calleridname", line.calleridname or "unknown"),
        ("agi_callingpres", "0"),
        ("agi_callingani2", "0"),
        ("agi_callington", "0"),
        ("agi_callingtns", "0"),
        ("agi_dnid", line.dnid or "unknown"),
        ("agi_rdnis", line.rdnis or "unknown"),
        ("agi_context", line.context),
        ("agi_extension", line.extension),
        ("agi_priority", str(line.priority)),
        ("agi_enhanced", "0.0"),
        ("agi_accountcode", line.accountcode),
        ("agi_threadid", line.threadid),
    ]
    pairs += [(f"agi_arg_{i}", arg) for i, arg in enumerate(line.args, 1)]
    return pairs


_FIRST_WRITE = 17  # agi_network .. agi_context: where Asterisk's first write ended


def header_writes(pairs: list[tuple[str, str]]) -> list[bytes]:
    lines = [f"{key}: {value}\n".encode() for key, value in pairs]
    return [b"".join(lines[:_FIRST_WRITE]), b"".join(lines[_FIRST_WRITE:]) + b"\n"]


# ---- the client ---------------------------------------------------------------------


@dataclass
class CallerReport:
    """What happened on one connection, for tests and the benchmark."""

    commands: list[str] = field(default_factory=list)  # command lines as received
    waits_s: list[float] = field(default_factory=list)  # per command: from our last write
    closed_by: str = ""  # "server" (EOF) or "peer" (the backend closed)
    hangup_sent: bool = False  # the async HANGUP line went out


class AgiCaller:
    """One FastAGI connection, driven by a backend (module doc)."""

    def __init__(self, host: str, port: int, backend: Backend, line: CallerLine | None = None,
                 *, timeout: float = DEFAULT_TIMEOUT_S, hangup_delay_s: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.backend = backend
        self.line = line or CallerLine()
        self.timeout = timeout
        self.hangup_delay_s = hangup_delay_s  # Asterisk's was about 0.04 s
        self.report = CallerReport()
        self._writer: asyncio.StreamWriter | None = None
        self._last_write = 0.0

    async def run(self) -> CallerReport:
        """Connect, send the environment, answer commands until the server
        closes the socket (or the backend closes it). Raises PeerError."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise PeerError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self._writer = writer
        try:
            for chunk in self.backend.header(header_writes(
                    environment(self.line, self.host, self.port))):
                await self._write(chunk)
            if not await self.backend.after_header():
                self.report.closed_by = "peer"
                return self.report
            await self._serve(reader)
            return self.report
        except ConnectionError:
            self.report.closed_by = self.report.closed_by or "server"
            return self.report
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), self.timeout)
            await self.backend.closed()

    async def _serve(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await asyncio.wait_for(reader.readline(), self.timeout)
            except TimeoutError:
                raise PeerError(f"the server sent no command for {self.timeout:g} s") from None
            except ValueError:  # a line longer than the stream's limit
                raise PeerError("the server sent a line too long to be a command") from None
            if not raw.endswith(b"\n"):
                self.report.closed_by = "server"  # EOF (a partial line is dropped, as res_agi)
                return
            self.report.waits_s.append(time.perf_counter() - self._last_write)
            text = raw[:-1].decode("utf-8", "replace").rstrip("\r")
            self.report.commands.append(text)
            if not await self._answer(text):
                self.report.closed_by = "peer"
                return

    async def _answer(self, text: str) -> bool:
        """Reply to one command line; False when the backend closes instead."""
        backend = self.backend
        if backend.gone():
            await self._hangup_line()
        spec, cmd = find_command(text)
        if spec is None or cmd is None:
            await self._write((REPLY_UNKNOWN + "\n").encode())
            return True
        if backend.gone() and not spec.dead_ok:
            await self._write((REPLY_DEAD + "\n").encode())
            return True
        if not fits(spec, cmd):
            for chunk in usage_writes(spec):
                await self._write(chunk)
            return True
        try:
            reply = await backend.execute(cmd)
        except UsageError:
            for chunk in usage_writes(spec):
                await self._write(chunk)
            return True
        if reply is None:
            return False
        await self._write((reply + "\n").encode("utf-8"))
        if backend.gone():
            await self._hangup_line()
        return True

    async def _hangup_line(self) -> None:
        if self.report.hangup_sent:
            return
        self.report.hangup_sent = True
        if self.hangup_delay_s > 0:
            await asyncio.sleep(self.hangup_delay_s)
        await self._write(HANGUP_LINE)

    async def _write(self, data: bytes) -> None:
        writer = self._writer
        assert writer is not None
        writer.write(data)
        try:
            await asyncio.wait_for(writer.drain(), self.timeout)
        except TimeoutError:
            raise PeerError(f"the server read nothing for {self.timeout:g} s") from None
        self._last_write = time.perf_counter()


# ---- backends -------------------------------------------------------------------------


class Backend:
    """A channel that is up and where nothing happens: prompts play at
    once, no key is pressed, applications succeed. Subclasses put a caller
    on it. `execute` returns the reply line without its newline, or None
    to close the socket instead of replying."""

    def __init__(self, *, caller_number: str = "", caller_name: str = "",
                 channel: str = "PJSIP/caller-00000001", language: str = "en") -> None:
        self.variables: dict[str, str] = {}
        self.caller_number = caller_number
        self.caller_name = caller_name
        self.channel = channel
        self.language = language
        self.answered = False
        self.hung_up = False
        self.context: str | None = None  # SET CONTEXT / EXTENSION / PRIORITY: where the
        self.extension: str | None = None  # dialplan carries on when the AGI ends
        self.priority: str | None = None

    # -- hooks of the connection ------------------------------------------

    def header(self, writes: list[bytes]) -> list[bytes]:
        return writes

    async def after_header(self) -> bool:
        """True to go on and answer commands."""
        return True

    def gone(self) -> bool:
        """The caller has hung up (checked as each command arrives and after
        each reply)."""
        return self.hung_up

    async def closed(self) -> None:
        """The connection is over."""

    # -- commands -------------------------------------------------------------

    async def execute(self, cmd: AgiCommand) -> str | None:
        handler = getattr(self, "do_" + cmd.verb.lower().replace(" ", "_"), None)
        if handler is None:
            return "200 result=0"
        return await handler(cmd)

    async def do_answer(self, cmd: AgiCommand) -> str:
        self.answered = True
        return "200 result=0"

    async def do_hangup(self, cmd: AgiCommand) -> str:
        if cmd.args and cmd.args[0] != self.channel:
            return "200 result=-1"  # no such channel
        self.hung_up = True
        return "200 result=1"

    async def do_channel_status(self, cmd: AgiCommand) -> str:
        return "200 result=6" if self.answered else "200 result=4"  # AST_STATE_UP / _RING

    async def do_stream_file(self, cmd: AgiCommand) -> str:
        return "200 result=0 endpos=0"

    async def do_control_stream_file(self, cmd: AgiCommand) -> str:
        return await self.do_stream_file(cmd)

    async def do_get_option(self, cmd: AgiCommand) -> str:
        return "200 result=0 endpos=0"

    async def do_wait_for_digit(self, cmd: AgiCommand) -> str:
        number(cmd.args[0])
        return "200 result=0"

    async def do_get_data(self, cmd: AgiCommand) -> str:
        return "200 result= (timeout)"

    async def do_record_file(self, cmd: AgiCommand) -> str:
        return "200 result=0 (timeout) endpos=0"

    async def do_exec(self, cmd: AgiCommand) -> str:
        app = cmd.args[0].lower()
        if app == "hangup":
            self.hung_up = True
            return "200 result=-1"
        if app == "set":
            name, _, value = cmd.arg(1).partition("=")
            self.variables[name] = value
        return "200 result=0" if app in KNOWN_APPS else "200 result=-2"

    async def do_get_variable(self, cmd: AgiCommand) -> str:
        value = self.lookup(cmd.args[0])
        return "200 result=0" if value is None else f"200 result=1 ({value})"

    async def do_get_full_variable(self, cmd: AgiCommand) -> str:
        text = re.sub(r"\$\{([^}]*)\}", lambda m: self.lookup(m.group(1)) or "", cmd.args[0])
        return f"200 result=1 ({text})"

    async def do_set_variable(self, cmd: AgiCommand) -> str:
        self.variables[cmd.args[0]] = cmd.args[1]
        return "200 result=1"

    async def do_set_context(self, cmd: AgiCommand) -> str:
        self.context = cmd.args[0]
        return "200 result=0"

    async def do_set_extension(self, cmd: AgiCommand) -> str:
        self.extension = cmd.args[0]
        return "200 result=0"

    async def do_set_priority(self, cmd: AgiCommand) -> str:
        self.priority = cmd.args[0]
        return "200 result=0"

    async def do_set_callerid(self, cmd: AgiCommand) -> str:
        return "200 result=1"

    async def do_verbose(self, cmd: AgiCommand) -> str:
        return "200 result=1"

    async def do_database_put(self, cmd: AgiCommand) -> str:
        return "200 result=1"

    def lookup(self, name: str) -> str | None:
        """A channel variable or function, as GET VARIABLE reads it."""
        if name in self.variables:
            return self.variables[name]
        upper = name.upper()
        if upper == "CALLERID(NUM)":
            return self.caller_number or None
        if upper == "CALLERID(NAME)":
            return self.caller_name or None
        if upper == "CALLERID(ALL)":
            if self.caller_name:
                return f'"{self.caller_name}" <{self.caller_number}>'
            return f"<{self.caller_number}>" if self.caller_number else None
        if upper == "CHANNEL":
            return self.channel
        if upper in ("CHANNEL(LANGUAGE)", "LANGUAGE()"):
            return self.language
        return None


# the applications EXEC runs here; any other gives -2 (Could not find application)
KNOWN_APPS = frozenset({
    "answer", "dial", "queue", "playback", "background", "wait", "musiconhold", "mixmonitor",
    "stopmixmonitor", "voicemail", "chanspy", "senddtmf", "set", "noop", "verbose", "hangup",
    "gosub", "read", "record", "progress", "ringing", "confbridge", "playtones", "stopplaytones",
})


# ---- a simulated caller on the line -----------------------------------------------------

AnsweredLeg = Callable[[str, str], Awaitable[None]]  # (call id, agent) -> the agent's leg ran

_DIALSTATUS = {"answered": "ANSWER", "no_answer": "NOANSWER", "busy": "BUSY",
               "unavailable": "CHANUNAVAIL", "failed": "CONGESTION"}


def agent_leg(host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT_S,
              caller_number: str = "", caller_name: str = "") -> AnsweredLeg:
    """What the dialplan's `ccf-answered` Gosub does on the agent's channel
    before it is bridged: `AGI(agi://HOST:PORT/ccf-answered?call=ID&agent=A)`,
    on a line where nothing happens, until the server closes it."""
    count = [0]

    async def run(call_id: str, agent: str) -> None:
        count[0] += 1
        script = (f"{names.ANSWERED_SCRIPT}?call={url_quote(call_id, safe='')}"
                  f"&agent={url_quote(agent, safe='')}")
        channel = f"PJSIP/{agent}-{count[0]:08x}"
        line = CallerLine(script=script, channel=channel, uniqueid=f"{call_id}-{count[0]}",
                          callerid=caller_number or None, calleridname=caller_name or None,
                          context=names.ANSWERED_SUB, extension="s", priority=1)
        backend = Backend(caller_number=caller_number, caller_name=caller_name,
                          channel=channel)
        backend.answered = True
        await AgiCaller(host, port, backend, line, timeout=timeout).run()

    return run


class SimBackend(Backend):
    """A runtime.sim.SimChannel on the line: its scripted caller presses
    keys and hangs up, its SimCentre's agents answer, on its VirtualClock
    (shared with the server in-process, so time in the flow and at the
    peer agree). Each AGI command of the brief's op -> AGI table is played
    back as the SimChannel operation it stands for.

    `watch(sink)` wraps the server's event sink: `step_entered` reaches
    the simulated caller (`hang up in step S`), and `keys` (a key read
    ended) tells the peer that the next WAIT FOR DIGIT starts a new read,
    which is when the simulator lets an untimed press go."""

    def __init__(self, sim: SimChannel, *, sounds_dir: str = "",
                 agent_interface: str = "PJSIP/{extension}",
                 answered: AnsweredLeg | None = None, missing: frozenset[str] = frozenset(),
                 default_ring_ms: int = 20_000) -> None:
        info = sim.info
        super().__init__(caller_number=info.caller_number, caller_name=info.caller_name or "",
                         channel=info.channel, language=info.language or "en")
        self.sim = sim
        self.clock = sim.clock
        self.sounds_dir = os.path.abspath(sounds_dir) if sounds_dir else ""
        self.answered_leg = answered
        self.missing = missing  # file names to answer as missing (result=-1 endpos=0)
        self.default_ring_ms = default_ring_ms
        self.queues = {names.queue_name(name): cfg for name, cfg in sim.centre.queues.items()}
        pattern = re.escape(agent_interface).replace(r"\{extension\}", "(?P<extension>[^,&]+)")
        self._interface = re.compile(pattern.replace(r"\{agent\}", "(?P<agent>[^,&/]+)"))
        self._listened = False  # this read of keys has let the caller's press go
        self.transferred: DialTarget | None = None  # a blind transfer done on close

    def watch(self, sink: EventSink) -> PeerWatch:
        return PeerWatch(sink, self)

    def notify(self, event: Event) -> None:
        if event.kind == "step_entered":
            self.sim.notify_step(str(event.data.get("step", "")))
        elif event.kind == "keys":
            self._listened = False

    def gone(self) -> bool:
        sim = self.sim
        if sim.ended_by is None:
            hang = sim.caller.hangup_at()
            if hang is not None and hang <= self.clock.now():
                sim._end("caller")
        return sim.ended_by in ("caller", "flow")

    async def execute(self, cmd: AgiCommand) -> str | None:
        if cmd.verb != "WAIT FOR DIGIT":
            self._listened = False  # a prompt or anything else: the next wait starts a read
        try:
            return await super().execute(cmd)
        except CallHungUp:
            return "200 result=-1"

    # -- the line --------------------------------------------------------------

    async def do_answer(self, cmd: AgiCommand) -> str:
        await self.sim.answer()
        self.answered = True
        return "200 result=0"

    async def do_hangup(self, cmd: AgiCommand) -> str:
        if cmd.args and cmd.args[0] != self.channel:
            return "200 result=-1"
        await self.sim.hangup()
        return "200 result=1"

    async def closed(self) -> None:
        """The server ended the AGI: where the dialplan goes next. In the
        transfer context the call is handed over (a blind transfer)."""
        sim = self.sim
        if self.context == names.TRANSFER_CONTEXT and self.extension and sim.ended_by is None:
            target = self._extension_target(self.extension)
            self.transferred = target
            with contextlib.suppress(CallHungUp):
                await sim.transfer(target, mode="blind", ring_ms=self.default_ring_ms)

    # -- sounds and keys ----------------------------------------------------------

    def sound_of(self, path: str) -> Sound | None:
        """The Sound a STREAM FILE plays: text to speech when the TTS cache
        left a `<file>.json` beside it, a recorded prompt under the sounds
        folder (`<sounds>/<language>/<name>`), else one of Asterisk's own
        sounds by name. None: a file to answer as missing."""
        if path in self.missing:
            return None
        sidecar = path + ".json"
        if os.path.isabs(path) and os.path.exists(sidecar):
            with open(sidecar, encoding="utf-8") as handle:
                said = json.load(handle)
            return Sound("tts", str(said.get("text", "")), str(said.get("language", "")))
        if self.sounds_dir and path.startswith(self.sounds_dir + os.sep):
            language, _, name = path[len(self.sounds_dir) + 1:].partition(os.sep)
            return Sound("file", name.replace(os.sep, "/"), language)
        return Sound("file", path, "")

    async def do_stream_file(self, cmd: AgiCommand) -> str:
        if len(cmd.args) > 2:
            number(cmd.args[2])
        sound = self.sound_of(cmd.args[0])
        if sound is None:
            return "200 result=-1 endpos=0"
        start = self.clock.now()
        try:
            key = await self.sim.play([sound], interrupt_keys=cmd.args[1])
        except CallHungUp:
            return f"200 result=-1 endpos={self._samples_since(start)}"
        return f"200 result={ord(key) if key else 0} endpos={self._samples_since(start)}"

    async def do_get_option(self, cmd: AgiCommand) -> str:
        sound = self.sound_of(cmd.args[0])
        escape = cmd.args[1]
        start = self.clock.now()
        try:
            key = await self.sim.play([sound] if sound else [], interrupt_keys=escape)
            if key is None and len(cmd.args) > 2:
                await self.sim.caller.listen(self.clock.now())
                limit = number(cmd.args[2])
                key = self.sim._pass(FOREVER_MS if limit < 0 else limit, accept=escape.__contains__)
        except CallHungUp:
            return f"200 result=-1 endpos={self._samples_since(start)}"
        return f"200 result={ord(key) if key else 0} endpos={self._samples_since(start)}"

    async def do_wait_for_digit(self, cmd: AgiCommand) -> str:
        """One key, as the simulator reads keys: the first wait of a read lets
        the caller's next press go (caller.listen), later ones only take
        the keys of that press."""
        limit = number(cmd.args[0])
        sim = self.sim
        if not self._listened:
            self._listened = True
            await sim.caller.listen(self.clock.now())
        key = sim._pass(FOREVER_MS if limit < 0 else limit, accept=_any_key)
        if key is None:
            self._listened = False  # a timed-out wait ends the read
            return "200 result=0"
        return f"200 result={ord(key)}"

    async def do_get_data(self, cmd: AgiCommand) -> str:
        timeout = number(cmd.arg(1, "0")) or 5_000  # 0: the channel's digit timeout
        most = number(cmd.arg(2, "1024"))
        sound = self.sound_of(cmd.args[0]) if cmd.args[0] else None
        got = await self.sim.read_digits([sound] if sound else [], max_digits=max(most, 1),
                                         timeout_ms=timeout, inter_digit_ms=timeout,
                                         end_key="#")
        return f"200 result={got.keys}" + (" (timeout)" if got.timed_out else "")

    async def _say(self, kind: str, value: str) -> str:
        await self.sim.say(kind, value, self.language)
        return "200 result=0"

    async def do_say_digits(self, cmd: AgiCommand) -> str:
        number(cmd.args[0])  # res_agi reads a number first (sscanf %d)
        return await self._say("digits", cmd.args[0])

    async def do_say_number(self, cmd: AgiCommand) -> str:
        return await self._say("number", str(number(cmd.args[0])))

    async def do_say_alpha(self, cmd: AgiCommand) -> str:
        return await self._say("alpha", cmd.args[0])

    async def do_say_phonetic(self, cmd: AgiCommand) -> str:
        return await self._say("alpha", cmd.args[0])

    async def do_say_date(self, cmd: AgiCommand) -> str:
        return await self._say("date", self._moment(cmd.args[0]).date().isoformat())

    async def do_say_time(self, cmd: AgiCommand) -> str:
        moment = self._moment(cmd.args[0])
        return await self._say("time", f"{moment.hour:02d}:{moment.minute:02d}")

    async def do_say_datetime(self, cmd: AgiCommand) -> str:
        return await self.do_say_time(cmd)

    def _moment(self, epoch: str) -> datetime:
        return datetime.fromtimestamp(number(epoch), UTC).astimezone(self.clock.now().tzinfo)

    async def do_record_file(self, cmd: AgiCommand) -> str:
        """Voicemail: RECORD FILE <dir>/voicemail/<mailbox>/<id> ... <max ms>."""
        limit = number(cmd.args[3])
        mailbox = os.path.basename(os.path.dirname(cmd.args[0])) or "default"
        got = await self.sim.voicemail(mailbox, greeting=(),
                                       max_length_ms=FOREVER_MS if limit < 0 else limit)
        endpos = got.duration_ms * SAMPLES_PER_MS
        if self.sim.ended_by == "caller":
            return f"200 result=-1 (hangup) endpos={endpos}"
        if limit >= 0 and got.duration_ms >= limit:
            return f"200 result=0 (timeout) endpos={endpos}"
        return f"200 result={ord('#')} (dtmf) endpos={endpos}"

    def _samples_since(self, start: datetime) -> int:
        return round((self.clock.now() - start).total_seconds() * 1000) * SAMPLES_PER_MS

    # -- applications -------------------------------------------------------------

    async def do_exec(self, cmd: AgiCommand) -> str:
        app = cmd.args[0].lower()
        data = cmd.arg(1)
        if self.gone():
            return "200 result=0" if app in KNOWN_APPS else "200 result=-2"
        run = {"wait": self._wait, "musiconhold": self._music, "mixmonitor": self._record,
               "stopmixmonitor": self._stop_record, "dial": self._dial, "queue": self._queue,
               "playback": self._playback, "answer": self._answer_app,
               "hangup": self._hangup_app}.get(app)
        if run is None:
            return await super().do_exec(cmd)
        return await run(data)

    async def _answer_app(self, data: str) -> str:
        await self.sim.answer()
        self.answered = True
        return "200 result=0"

    async def _hangup_app(self, data: str) -> str:
        await self.sim.hangup()
        return "200 result=-1"

    async def _wait(self, data: str) -> str:
        await self.sim.wait(_ms(data.split(",")[0]))
        return "200 result=0"

    async def _music(self, data: str) -> str:
        music, _, seconds = data.partition(",")
        await self.sim.wait(_ms(seconds) if seconds else FOREVER_MS, music=music or None)
        return "200 result=0"

    async def _playback(self, data: str) -> str:
        files = data.split(",")[0].split("&")
        sounds = [s for s in (self.sound_of(f) for f in files if f) if s is not None]
        await self.sim.play(sounds)
        self.variables["PLAYBACKSTATUS"] = "SUCCESS" if len(sounds) == len(files) else "FAILED"
        return "200 result=0"

    async def _record(self, data: str) -> str:
        path = data.split(",")[0]
        await self.sim.start_recording(path[:-4] if path.endswith(".wav") else path)
        return "200 result=0"

    async def _stop_record(self, data: str) -> str:
        await self.sim.stop_recording()
        return "200 result=0"

    def _target(self, interface: str, agent: str | None = None) -> DialTarget:
        """Who a Dial interface rings: the agent the answered Gosub names,
        else the agent whose extension the interface template gives, else
        the number (`Local/<number>@...`, `PJSIP/<number>@trunk`)."""
        interface = interface.split("&")[0]
        match = self._interface.fullmatch(interface)
        groups = match.groupdict() if match else {}
        centre = self.sim.centre
        found = centre.agent(agent or groups.get("agent") or "")
        if found is not None:
            return DialTarget("agent", found.id, found.extension or groups.get("extension"))
        if groups.get("extension"):
            return self._extension_target(groups["extension"])
        return DialTarget("number", interface.split("/", 1)[-1].split("@", 1)[0])

    def _extension_target(self, extension: str) -> DialTarget:
        """An agent's extension, else a number (a blind transfer's SET EXTENSION)."""
        for candidate in self.sim.centre.agents():
            if candidate.extension == extension:
                return DialTarget("agent", candidate.id, extension)
        return DialTarget("number", extension)

    async def _dial(self, data: str) -> str:
        fields = app_args(data)
        ring_s = fields[1] if len(fields) > 1 and fields[1] else ""
        ring_ms = _ms(ring_s) if ring_s else self.default_ring_ms
        gosub = _gosub_args(fields[2] if len(fields) > 2 else "")
        for name in ("DIALSTATUS", "ANSWEREDTIME_MS", "DIALEDTIME_MS", "ANSWEREDTIME",
                     "DIALEDTIME"):
            self.variables.pop(name, None)
        agent = gosub[2] if gosub is not None and len(gosub) > 2 and gosub[2] != "-" else None
        target = self._target(fields[0], agent=agent)
        start = self.clock.now()
        if gosub is None:
            return await self._attended(target, ring_ms, start)
        fired: list[bool] = []

        async def on_answer(party: str) -> None:
            fired.append(True)
            await self._run_leg(gosub[1] if len(gosub) > 1 else "", party)

        try:
            outcome = await self.sim.dial(target, ring_ms=ring_ms, on_answer=on_answer,
                                          caller_id=self.variables.get("CALLERID(num)"))
        except CallHungUp:
            self._dial_times("ANSWER" if fired else "CANCEL", start, None)
            return "200 result=-1"
        conversation = outcome.conversation
        self._dial_times(_DIALSTATUS[outcome.status], start,
                         conversation.talk_ms if conversation else None)
        return "200 result=0"

    async def _attended(self, target: DialTarget, ring_ms: int, start: datetime) -> str:
        """A Dial without the answered Gosub: the channel's attended transfer."""
        outcome = await self.sim.transfer(target, mode="attended", ring_ms=ring_ms)
        status = {"transferred": "ANSWER", "no_answer": "NOANSWER"}.get(outcome.status)
        if status is None:
            status = "BUSY" if " is busy" in outcome.reason else "CHANUNAVAIL"
        self._dial_times(status, start, 0 if status == "ANSWER" else None)
        return "200 result=0"

    def _dial_times(self, status: str, start: datetime, talk_ms: int | None) -> None:
        dialled = round((self.clock.now() - start).total_seconds() * 1000)
        self.variables["DIALSTATUS"] = status
        self.variables["DIALEDTIME_MS"] = str(dialled)
        self.variables["DIALEDTIME"] = str(dialled // 1000)
        if talk_ms is not None:
            self.variables["ANSWEREDTIME_MS"] = str(talk_ms)
            self.variables["ANSWEREDTIME"] = str(talk_ms // 1000)

    async def _run_leg(self, call_id: str, party: str) -> None:
        if self.answered_leg is not None:
            agent = party if self.sim.centre.agent(party) is not None else "-"
            await self.answered_leg(call_id, agent)

    async def _queue(self, data: str) -> str:
        """Queue(name,options,URL,announce,timeout,AGI,gosub,...): the IR queue
        whose Asterisk name it is, with the options queues.conf holds."""
        fields = app_args(data)
        for name in ("QUEUESTATUS", "QUEUEPOSITION"):
            self.variables.pop(name, None)
        config = self.queues.get(fields[0])
        if config is None:
            return "200 result=0"  # app_queue: no such queue, and no QUEUESTATUS
        timeout = fields[4] if len(fields) > 4 else ""
        gosub = next((g for g in map(_gosub_args, fields[5:]) if g is not None), None)
        priority = self.variables.get("QUEUE_PRIO", "0")
        request = QueueRequest(
            queue=config.name, priority=int(priority) if priority.lstrip("-").isdigit() else 0,
            skills=dict(config.skills), max_wait_ms=_ms(timeout) if timeout else None,
            music=self.variables.get("CHANNEL(musicclass)") or config.music,
            announce_position_ms=config.announce_position_ms, strategy=config.strategy,
            ring_ms=config.ring_ms)

        async def on_answer(party: str) -> None:
            await self._run_leg(gosub[1] if gosub and len(gosub) > 1 else "", party)

        outcome = await self.sim.enqueue(request, on_answer=on_answer)
        self.variables["QUEUEPOSITION"] = str(outcome.position)
        if outcome.status == "timeout":
            self.variables["QUEUESTATUS"] = "TIMEOUT"
        elif outcome.status == "full":
            self.variables["QUEUESTATUS"] = "FULL"
        elif outcome.status == "empty":
            joined = outcome.position > 0
            self.variables["QUEUESTATUS"] = "LEAVEEMPTY" if joined else "JOINEMPTY"
        return "200 result=0"


class PeerWatch:
    """The server's event sink, seen by the peer (SimBackend.watch)."""

    def __init__(self, sink: EventSink, backend: SimBackend) -> None:
        self.sink = sink
        self.backend = backend

    def emit(self, event: Event) -> None:
        self.backend.notify(event)
        self.sink.emit(event)


def _any_key(key: str) -> bool:
    return True


def _ms(seconds: str) -> int:
    """Seconds as Asterisk applications take them ("12", "2.500") in ms."""
    try:
        return max(0, round(float(seconds) * 1000))
    except ValueError:
        return 0


def _gosub_args(option_text: str) -> list[str] | None:
    """The `ccf-answered` Gosub of Dial's U() option (`ccf-answered^ARG^ARG`)
    or of Queue's gosub argument (`ccf-answered,ARG`, which app_queue.c
    splits at its first comma), as [context, args...]; None when there is
    none."""
    match = re.search(re.escape(names.ANSWERED_SUB) + r"([\^,][^)]*)?", option_text)
    if match is None:
        return None
    return re.split(r"[\^,]", match.group(0))


def app_args(data: str) -> list[str]:
    """An application's arguments as Asterisk's ast_app_separate_args splits
    them (main/app.c): at commas outside double quotes and brackets; the
    quotes are removed and a backslash keeps the next character."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    escaped = False
    for ch in data:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif quoted:
            current.append(ch)
        elif ch in "([{":
            depth += 1
            current.append(ch)
        elif ch in ")]}" and depth:
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out
