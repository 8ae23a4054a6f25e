"""One extension of a generated dialplan run as Asterisk 22.10.1 runs it, for the failover tests.

Only what the generated inbound and ccf-answered contexts use (Answer, Set, AGI, GotoIf, Goto,
Hangup, Return); each AGI() goes through the FastAGI test peer. Must not stand in for anything
else of pbx.c.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable

from ccdsl.runtime.testing.peer.agi_caller import (
    AgiCaller,
    AgiCommand,
    Backend,
    CallerLine,
    PeerError,
)

_LINE = re.compile(r"^exten => (?P<exten>[^,]+),(?P<prio>\d+|n(?:\((?P<label>\w+)\))?),"
                   r"(?P<app>\w+)\((?P<args>.*)\)$")
_URL = re.compile(r"^agi://(?:\[(?P<v6>[^]]+)\]|(?P<host>[^:/]+)):(?P<port>\d+)/(?P<script>.*)$")
_COMPARISON = re.compile(r'^\s*"(?P<left>[^"]*)"\s*(?P<op>!=|=)\s*"(?P<right>[^"]*)"\s*$')
TIMEOUT_S = 20.0


class AsteriskLine(Backend):
    """The caller's channel across the extension's AGI() calls: its variables outlive each
    connection, as a channel's do. STREAM FILE finds the names in `sounds` and answers -1 for
    any other (file.c "does not exist in any format"), which res_agi's handle_streamfile
    returns as RESULT_FAILURE: run_agi then ends the AGI with AGISTATUS=FAILURE however the
    session ends, unless the channel had hung up. `on_wait(line)` runs at each WAIT FOR DIGIT
    and may answer it (None: no key)."""

    def __init__(self, sounds: Iterable[str] = (),
                 on_wait: Callable[[AsteriskLine], Awaitable[str | None]] | None = None) -> None:
        super().__init__(channel="Local/4008001234@ccf-inbound-00000001;2")
        self.sounds = frozenset(sounds)
        self.on_wait = on_wait
        self.failed = False  # this AGI's run_agi saw RESULT_FAILURE with the channel up
        self.verbose: list[str] = []  # what Asterisk's verbose log would say, in short

    async def do_stream_file(self, cmd: AgiCommand) -> str:
        if cmd.args[0] in self.sounds:
            return "200 result=0 endpos=8000"
        self.verbose.append(f"File {cmd.args[0]} does not exist in any format")
        if not self.hung_up:
            self.failed = True
        return "200 result=-1 endpos=0"

    async def do_wait_for_digit(self, cmd: AgiCommand) -> str:
        reply = await self.on_wait(self) if self.on_wait is not None else None
        return reply or "200 result=0"

    def hang_up(self) -> str:
        """The caller hangs up during the command now running: its reply."""
        self.hung_up = True
        return "200 result=-1"


async def run_extension(text: str, exten: str,
                        line: AsteriskLine | None = None) -> tuple[list[str], str]:
    """Run EXTEN's priorities of the dialplan `text` on `line`. Returns the AGI URLs whose
    worker took the connection, in order, and where the call went: `Goto(...)`, `Hangup()`,
    `Return()`, `hung up` (pbx.c stops at a hung-up channel) or `end`."""
    line = line or AsteriskLine()
    steps = [m for m in map(_LINE.match, text.splitlines()) if m and m["exten"] == exten]
    reached: list[str] = []
    index = 0
    while index < len(steps):
        app, args = steps[index]["app"], steps[index]["args"]
        if app == "AGI":
            status = await _agi(args, line, reached)
            line.variables["AGISTATUS"] = status
            line.verbose.append(f"AGI({args}): AGISTATUS={status}")
            if line.hung_up:
                return reached, "hung up"
        elif app == "Set":
            name, _, value = args.partition("=")
            line.variables[name] = _expand(value, line.variables)
        elif app == "GotoIf":
            condition, _, label = args.rpartition("?")
            if _true(_expand(condition, line.variables)):
                index = next(i for i, s in enumerate(steps) if s["label"] == label)
                continue
        elif app in ("Goto", "Hangup", "Return"):
            return reached, f"{app}({args})"
        elif app != "Answer":
            raise AssertionError(f"the runner does not run {app}()")
        index += 1
    return reached, "end"


async def _agi(url: str, line: AsteriskLine, reached: list[str]) -> str:
    """res_agi's agi_exec_full for agi://: FAILURE when nothing answers the connection
    (launch_netscript), else the session's status as run_agi leaves it."""
    match = _URL.match(url)
    assert match is not None, url
    host = match["v6"] or match["host"]
    caller = CallerLine(script=match["script"], request=url, channel=line.channel)
    line.failed = False
    try:
        await AgiCaller(host, int(match["port"]), line, caller, timeout=TIMEOUT_S).run()
    except PeerError as exc:
        if not str(exc).startswith("cannot connect"):
            raise
        line.verbose.append(f"Connecting to '{host}:{match['port']}' failed: Connection refused")
        return "FAILURE"
    reached.append(url)
    if line.failed:
        return "FAILURE"
    return "HANGUP" if line.hung_up else "SUCCESS"


def _expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m[1], ""), text)


def _true(condition: str) -> bool:
    """$[...] of string comparisons joined by | (or) and & (and), as ast_expr2 reads them."""
    inner = re.fullmatch(r"\$\[(.*)\]", condition)
    assert inner is not None, condition
    return any(all(_compare(term) for term in either.split("&"))
               for either in inner[1].split("|"))


def _compare(term: str) -> bool:
    match = _COMPARISON.match(term)
    assert match is not None, term
    return (match["left"] == match["right"]) == (match["op"] == "=")
