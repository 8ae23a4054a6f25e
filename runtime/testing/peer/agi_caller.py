"""The FastAGI test peer: a FastAGI client standing in for Asterisk, replying as the captures show.

Owns the protocol only (510, 511, 520, the HANGUP line); what the line does is a Backend's
(docs/asterisk.md "The FastAGI test peer"). Must not import the interpreter.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field

from ccdsl.runtime.asterisk import names

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
    # where the dialplan goes on after the AGI, as Asterisk does when the
    # server closes the connection with the caller still there (a transfer,
    # a hand-back at shutdown): (context, extension, priority), the one SET
    # CONTEXT / EXTENSION / PRIORITY chose or else the next priority; None
    # when the caller hung up or the peer closed
    continued_at: tuple[str, str, int] | None = None


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
            self._continue()
            return self.report
        except ConnectionError:
            self.report.closed_by = self.report.closed_by or "server"
            self._continue()
            return self.report
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), self.timeout)
            await self.backend.closed()

    def _continue(self) -> None:
        """The AGI ended on the server's side: a channel still up goes on in
        the dialplan (CallerReport.continued_at)."""
        backend, line = self.backend, self.line
        if self.report.closed_by != "server" or backend.gone():
            return
        if backend.priority is not None and backend.priority.isdigit():
            priority = int(backend.priority)
        else:
            priority = line.priority + 1
        self.report.continued_at = (backend.context or line.context,
                                    backend.extension or line.extension, priority)

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
        if upper in ("CONTEXT", "EXTEN"):  # where the channel is in the dialplan now
            where = self.context if upper == "CONTEXT" else self.extension
            env = getattr(self, "environment", {})
            return where or env.get("agi_context" if upper == "CONTEXT" else "agi_extension")
        if upper in ("CHANNEL(LANGUAGE)", "LANGUAGE()"):
            return self.language
        return None


# the applications EXEC runs here; any other gives -2 (Could not find application)
KNOWN_APPS = frozenset({
    "answer", "dial", "queue", "playback", "background", "wait", "musiconhold", "mixmonitor",
    "stopmixmonitor", "voicemail", "chanspy", "senddtmf", "set", "noop", "verbose", "hangup",
    "gosub", "read", "record", "progress", "ringing", "confbridge", "playtones", "stopplaytones",
})

