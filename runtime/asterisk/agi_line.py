"""The AGI line of one call: its settings, the command plumbing every op goes through, hang-ups.

Must not know the ops' Asterisk applications (agi_agents.py, agi_channel.py build on it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ccdsl.runtime.asterisk import agi_results, names
from ccdsl.runtime.asterisk.agi import (
    AgiArgumentError,
    AgiConnectionClosed,
    AgiProtocolError,
    AgiReply,
    AgiSession,
)
from ccdsl.runtime.asterisk.agi_results import Results
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import (
    CallInfo,
    ChannelLog,
    Digits,
    OnAnswer,
    OnRing,
    QueueRing,
    Sound,
)
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.core.errors import CallHandedBack, CallHungUp, ExternalError
from ccdsl.runtime.core.speech import SAY_LANGUAGES
from ccdsl.terminal_text import visible

log = logging.getLogger("ccdsl.agi")

ALL_KEYS = "0123456789*#"
QUICK_S = 10.0  # a command that answers at once (ANSWER, SET/GET VARIABLE, CHANNEL STATUS)
SAMPLES_PER_MS = 8  # endpos counts 8 kHz samples
ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class AgiSettings:
    sounds_dir: str  # recorded prompts: <sounds_dir>/<language>/<name>.<ext>
    recordings_dir: str
    agent_interface: str = "PJSIP/{extension}"
    say_languages: tuple[str, ...] = SAY_LANGUAGES  # SAY * for these, else TTS
    # how an outside number is rung: through the transfer context, whose
    # dialplan knows the trunks (runtime/asterisk/dialplan.py)
    number_interface: str = "Local/{number}@" + names.TRANSFER_CONTEXT
    prompt_timeout_s: float = 600.0  # one STREAM FILE or SAY: its reply comes when it ends
    bridge_timeout_s: float = 8 * 3600.0  # Dial()/Queue() return when the conversation ends


class AnswerHooks:
    """The `on answer` callbacks of calls now ringing an agent, by call id
    (one per server): the `ccf-answered` connection fires them."""

    def __init__(self) -> None:
        self._hooks: dict[str, OnAnswer] = {}
        self._rings: dict[str, OnRing] = {}  # the OnRing of calls now in Queue()
        self.rings_reported = 0

    def register(self, call_id: str, on_answer: OnAnswer) -> None:
        self._hooks[call_id] = on_answer

    def unregister(self, call_id: str) -> None:
        self._hooks.pop(call_id, None)

    async def fire(self, call_id: str, agent: str) -> bool:
        """Run the call's hook (to its end); False when no call waits for one."""
        hook = self._hooks.get(call_id)
        if hook is None:
            return False
        await hook(agent)
        return True

    def __len__(self) -> int:
        return len(self._hooks)

    # -- queue rings (AMI's AgentCalled / AgentRingNoAnswer, from ccf serve's link) --

    def register_rings(self, call_id: str, on_ring: OnRing) -> None:
        self._rings[call_id] = on_ring

    def unregister_rings(self, call_id: str) -> None:
        self._rings.pop(call_id, None)

    def ring(self, call_ids: Iterable[str | None], ring: QueueRing) -> bool:
        """Report a queue member's ring to the first of call_ids whose
        Queue() waits (the event's Uniqueid, then its Linkedid); False when
        none does. The caller's FastAGI connection is busy in EXEC Queue
        meanwhile: this is how the ring reaches the call's events."""
        for call_id in call_ids:
            on_ring = self._rings.get(call_id or "")
            if on_ring is None:
                continue
            self.rings_reported += 1
            waiting = on_ring(ring)
            if waiting is not None:
                asyncio.ensure_future(waiting)
            return True
        return False


class AgiLine:
    """A call's AGI session and what it has done; the base of AgiChannel."""

    def __init__(self, session: AgiSession, info: CallInfo, *, clock: Clock,
                 tts: TtsRenderer, settings: AgiSettings, hooks: AnswerHooks,
                 agents: Callable[[str], Agent | None]) -> None:
        self.session = session
        self.info = info
        self.clock = clock
        self.tts = tts
        self.settings = settings
        self.hooks = hooks
        self.agents = agents
        self.log = ChannelLog()
        self.answered = False
        # caller | flow | transfer | handed_back, once the call is over
        self.ended_by: str | None = None
        self.handing_back = False  # hand_back() closed the line: the dialplan has the call
        self._bridged: str | None = None  # the application holding the line (Dial, Queue)
        self._t0 = clock.now()

    # -- what happened ----------------------------------------------------------

    def heard(self) -> list[Sound]:
        """Every sound the caller heard (wholly or in part), in order."""
        return [Sound(d["kind"], d["text"], d["language"])
                for kind, d in self.log.entries if kind == "heard"]

    # -- the line ------------------------------------------------------------------

    async def answer(self) -> None:
        self._enter("answer")
        if self.answered:
            return
        reply = await self._cmd("ANSWER", timeout=QUICK_S, results=agi_results.DONE)
        if reply.value == -1:
            self._hung_up("answer")
        self.answered = True
        self._note("answer")

    async def hangup(self) -> None:
        if self.ended_by is not None:
            return
        session = self.session
        if not session.hung_up and not session.closed and not session.busy:
            try:
                await session.command("HANGUP", timeout=QUICK_S)
            except AgiProtocolError as exc:
                log.info("call %s: HANGUP got no reply (%s)", self.info.call_id, exc)
        self._end("caller" if session.hung_up else "flow")

    async def hand_back(self) -> None:
        """Give the call back to the dialplan (`ccf serve` stopping): close
        the AGI connection, so Asterisk carries on at the next priority once
        the application running now returns. Whatever the flow was waiting
        for then raises CallHandedBack, not a caller's hang-up."""
        self.handing_back = True
        await self.session.close()

    # -- commands -----------------------------------------------------------------------------

    def _enter(self, op: str) -> None:
        if self._bridged is not None:
            raise ExternalError(
                f"the line is bridged to the agent; `{op}` cannot run while {self._bridged}() "
                "holds the caller (on Asterisk `on answered by agent` may not use the line)",
                service="asterisk")
        if self.ended_by == "handed_back":
            raise CallHandedBack("the call was handed back to the dialplan")
        if self.ended_by is not None:
            raise CallHungUp(f"the call has ended ({self.ended_by})")
        if self.session.hung_up or self.handing_back:
            self._hung_up(op)

    async def _cmd(self, verb: str, *args: str, timeout: float,
                   results: Results = agi_results.ANY) -> AgiReply:
        """One command; a hang-up in any of its forms raises CallHungUp, a
        command Asterisk refuses (510, 520) ExternalError, and so does a
        reply that is no answer to it: a garbled line, none in time, or a
        result outside `results` (what the command can answer)."""
        try:
            reply = await self.session.command(verb, *args, timeout=timeout)
        except AgiConnectionClosed as exc:
            if self.handing_back:
                self._handed_back(verb)
            self._end("caller")
            raise CallHungUp(f"the caller hung up ({exc})") from None
        except AgiArgumentError as exc:
            raise ExternalError(str(exc), service="asterisk") from None
        except ExternalError:
            raise  # the session's own account of the failure (a reply that never came)
        except AgiProtocolError as exc:
            # the session is unusable now (agi.py): the flow's `on error` may
            # still try, and its commands fail the same way
            raise self._protocol_error(f"Asterisk's answer to `{verb}` cannot be used: "
                                       f"{visible(exc)}") from None
        code = reply.code
        if code == 200 and reply.value in results:
            return reply  # nearly every reply: asked here, not of agi_results.problem
        if code == 511:
            self._hung_up(verb)
        if code in (510, 520):
            first = reply.text.split("\n", 1)[0]
            raise ExternalError(f"Asterisk refused `{verb}`: {first}", service="asterisk")
        why = agi_results.problem(reply, results)
        if why is not None:
            # as Asterisk refusing the command: the result must not become
            # keys, a hang-up or anything else it does not say
            raise self._protocol_error(f"Asterisk answered `{verb}` with "
                                       f"`{visible(reply.text[:120])}`: {why}")
        return reply

    def _protocol_error(self, message: str) -> ExternalError:
        log.warning("call %s: %s", visible(self.info.call_id), message)
        return ExternalError(message, service="asterisk")

    async def _blocked(self, app: str, data: str, hook: OnAnswer | None,
                       timeout: float) -> AgiReply:
        """EXEC an application that holds the line until a conversation
        ends, with this call's answered hook registered meanwhile."""
        call_id = self.info.call_id
        if hook is not None:
            self.hooks.register(call_id, hook)
        self._bridged = app
        try:
            reply = await self._cmd(f"EXEC {app}", data, timeout=timeout)
        finally:
            self._bridged = None
            if hook is not None:
                self.hooks.unregister(call_id)
        if reply.value == -2:
            raise ExternalError(f"Asterisk has no {app} application", service="asterisk")
        return reply

    async def _variable(self, name: str) -> str:
        reply = await self._cmd(f"GET VARIABLE {name}", timeout=QUICK_S,
                                results=agi_results.VARIABLE)
        if reply.value == -1:
            # Asterisk 22 answers GET VARIABLE even on a dead channel (0 or 1),
            # so -1 is a line in trouble: taken as the caller gone, like the
            # other commands' -1, rather than as an empty variable
            self._hung_up(f"reading {name}")
        return (reply.data or "") if reply.value == 1 else ""

    @staticmethod
    def _safe(check: Callable[..., str], *args: str) -> str:
        try:
            return check(*args)
        except names.UnsafeValue as exc:
            raise ExternalError(str(exc), service="asterisk") from None

    # -- state ---------------------------------------------------------------------------------

    def _hung_up(self, during: str) -> None:
        if self.handing_back:
            self._handed_back(during)
        self._end("caller")
        raise CallHungUp(f"the caller hung up during {during}")

    def _handed_back(self, during: str, *, talk_ms: int | None = None,
                     wait_ms: int | None = None) -> None:
        self._end("handed_back")
        raise CallHandedBack(f"the call was handed back to the dialplan during {during}",
                             talk_ms=talk_ms, wait_ms=wait_ms)

    def _end(self, by: str) -> None:
        if self.ended_by is None:
            self.ended_by = by
            self._note("hangup", by=by)

    def _digits(self, keys: str, timed_out: bool) -> Digits:
        self._note("keys", keys=keys, timed_out=timed_out)
        return Digits(keys, timed_out)

    def _ms_since(self, t: datetime) -> int:
        return max(0, round((self.clock.now() - t) / ONE_MS))

    def _note(self, entry: str, /, **data) -> None:
        if "at" not in data:  # not setdefault: its default would read the clock every time
            data["at"] = self._ms_since(self._t0)
        self.log.entries.append((entry, data))
