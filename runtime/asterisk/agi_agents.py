"""Agents over AGI: Dial() and Queue() holding the line, transfers, and `on answered by agent`.

Must not play sounds or record (agi_channel.py does); the dialplan's answered Gosub is
described in docs/asterisk.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from ccdsl.runtime.asterisk import in_queue, names
from ccdsl.runtime.asterisk.agi import AgiProtocolError, c_number
from ccdsl.runtime.asterisk.agi_line import QUICK_S, AgiLine
from ccdsl.runtime.asterisk.agi_media import sound_file
from ccdsl.runtime.asterisk.dial_options import TRANSFER_DIAL_VARIABLE, transfer_options
from ccdsl.runtime.core.channel import (
    Conversation,
    DialOutcome,
    DialTarget,
    OnAnnounce,
    OnAnswer,
    OnRing,
    QueueOutcome,
    QueueRequest,
    Sound,
    TransferOutcome,
)
from ccdsl.runtime.core.errors import CallHandedBack, ExternalError

log = logging.getLogger("ccdsl.agi")

_CALL_ID = names.CALL_ID
_DIALSTATUS: dict[str, Literal["no_answer", "busy", "unavailable", "failed"]] = {
    "NOANSWER": "no_answer", "BUSY": "busy", "CHANUNAVAIL": "unavailable",
    "CONGESTION": "failed", "DONTCALL": "failed", "TORTURE": "failed", "INVALIDARGS": "failed",
}
# Dial()'s and Queue()'s `t`: the called agent may transfer the caller. The console's
# attended transfer (AMI Atxfer of the agent's leg, with `atxfer => *2` in features.conf)
# needs it; without it Asterisk takes the Atxfer and does nothing. Never given to a
# number: its party could key *2 and dial out through the centre.
AGENT_TRANSFERS = "t"
_QUEUESTATUS: dict[str, Literal["timeout", "full", "empty"]] = {
    "TIMEOUT": "timeout", "WITHDRAW": "timeout", "FULL": "full", "JOINEMPTY": "empty",
    "LEAVEEMPTY": "empty", "JOINUNAVAIL": "empty", "LEAVEUNAVAIL": "empty",
}


class _AnsweredHook:
    """What AnswerHooks runs for one Dial()/Queue(): the flow's on_answer,
    once, with the agent the Gosub named. Its failures are kept for the
    call's own task, which raises them when the application returns (the
    Gosub's connection must not carry a hang-up of the caller)."""

    def __init__(self, channel: AgiLine, on_answer: OnAnswer, default: str | None) -> None:
        self.channel = channel
        self.on_answer = on_answer
        self.default = default
        self.agent: str | None = None
        self.at: datetime | None = None
        self.error: BaseException | None = None

    @property
    def fired(self) -> bool:
        return self.at is not None

    async def __call__(self, agent: str) -> None:
        if self.fired:
            return  # one answer per Dial()/Queue()
        self.at = self.channel.clock.now()
        self.agent = agent if agent and agent != "-" else self.default
        self.channel._note("answered", agent=self.agent)
        try:
            await self.on_answer(self.agent or "")
        except Exception as err:  # noqa: BLE001 - raised in the call's own task instead
            self.error = err


class AgiAgents(AgiLine):
    """The ops that ring agents and numbers; the base of AgiChannel."""

    async def dial(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                   caller_id: str | None = None) -> DialOutcome:
        self._enter("dial")
        interface, agent_id = self._interface(target)
        if caller_id:
            number = self._safe(names.diallable, caller_id)
            await self._cmd("SET VARIABLE CALLERID(num)", number, timeout=QUICK_S)
        return await self._bridge(target, interface, agent_id, ring_ms, on_answer, "dial")

    async def three_way(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                        caller_id: str | None = None) -> DialOutcome:
        self._enter("three_way")
        interface, agent_id = self._interface(target)
        # f(): the party is shown this number, the caller's own untouched (dial_options)
        shown = self._safe(transfer_options, caller_id, "") if caller_id else ""
        return await self._bridge(target, interface, agent_id, ring_ms, on_answer, "three_way",
                                  shown)

    async def _bridge(self, target: DialTarget, interface: str, agent_id: str | None,
                      ring_ms: int, on_answer: OnAnswer, via: str,
                      options: str = "") -> DialOutcome:
        call_id = self._gosub_call_id()
        transfers = AGENT_TRANSFERS if agent_id else ""
        data = (f"{interface},{_seconds(ring_ms)},"
                f"g{transfers}{options}U({names.ANSWERED_SUB}^{call_id}^{agent_id or '-'})")
        hook = _AnsweredHook(self, on_answer, agent_id or target.id)
        self._note("ring", targets=[target.id], via=via)
        start = self.clock.now()
        try:
            reply = await self._blocked("Dial", data, hook, self.settings.bridge_timeout_s)
        except CallHandedBack:
            self._handed_back_bridged(hook, start, via=via, target=target.id)
            raise
        if hook.error is not None:
            raise hook.error
        if reply.value == -1 or (self.session.hung_up and not hook.fired):
            # (a caller gone before Dial() started: a dead channel runs EXEC
            # and answers 200, the HANGUP line already read)
            self._note(via, target=target.id, status="hangup", answered=hook.fired)
            self._hung_up("the conversation" if hook.fired else "the ring")
        status = (await self._variable("DIALSTATUS")).upper()
        if status == "CANCEL":
            self._hung_up("the ring")
        if status != "ANSWER":
            outcome = _DIALSTATUS.get(status, "failed")
            ring = self._ms_since(start)
            self._note(via, target=target.id, status=outcome, dialstatus=status, ring_ms=ring)
            return DialOutcome(outcome, reason=f"{target.id}: Dial() ended with DIALSTATUS="
                                               f"{status or '(none)'}")
        # The times come from the answered hook, not from Dial()'s variables:
        # on Asterisk 22 ANSWEREDTIME_MS and DIALEDTIME_MS measure the caller's
        # channel (app_dial.c end_bridge_callback: its up time and duration),
        # so after an IVR they include the whole call before the Dial()
        # (seen on a real Asterisk: 39.9 s of "talk" for a 25.5 s conversation)
        if hook.fired:
            ring_ms_taken = round((hook.at - start) / timedelta(milliseconds=1))
            talk_ms = self._ms_since(hook.at)
        else:
            # no ccf-answered Gosub in the dialplan: the handler runs now, late,
            # and the ring cannot be told from the talk
            ring_ms_taken, talk_ms = 0, self._ms_since(start)
            await hook(agent_id or "")
            if hook.error is not None:
                raise hook.error
        party = agent_id if target.kind == "agent" else None
        ended_by = self._conversation_ended_by()
        self._note("conversation", party=target.id, talk_ms=talk_ms, ended_by=ended_by)
        self._note(via, target=target.id, status="answered", ring_ms=max(0, ring_ms_taken))
        if ended_by == "caller":
            # returned, not raised: the interpreter records the talk, then ends the call
            self._end("caller")
        return DialOutcome("answered", Conversation(party, max(0, ring_ms_taken), talk_ms,
                                                    ended_by))

    async def enqueue(self, request: QueueRequest, *, on_answer: OnAnswer,
                      on_ring: OnRing | None = None,
                      on_announce: OnAnnounce | None = None) -> QueueOutcome:
        self._enter("enqueue")
        _members_fit(request)
        queue = names.queue_name(request.queue)
        music = self._safe(names.music_class, request.music) if request.music else None
        call_id = self._gosub_call_id()
        await self._cmd("SET VARIABLE QUEUE_PRIO", str(int(request.priority)), timeout=QUICK_S)
        if request.keys:  # a key exit sets no QUEUESTATUS: an earlier Queue()'s must not stay
            await self._cmd("SET VARIABLE QUEUESTATUS", "", timeout=QUICK_S)
        if music:
            await self._cmd("SET VARIABLE CHANNEL(musicclass)", music, timeout=QUICK_S)
        language = _message_language(request)
        if language:  # app_queue picks the messages' files by the channel's language
            await self._cmd("SET VARIABLE CHANNEL(language)", language, timeout=QUICK_S)
        limit = "" if request.max_wait_ms is None else str(math.ceil(request.max_wait_ms / 1000))
        # Queue(name,options,URL,announceoverride,timeout,AGI,gosub): Asterisk 21+ has
        # no macro argument, the gosub is the 7th. Its form is `context,args`
        # (app_queue.c splits it at the first comma into Gosub(context,s,1(args))),
        # so it is quoted to stay one argument of Queue() (ast_app_separate_args).
        # `c`: the caller goes on in the dialplan (the AGI) after the talk
        data = f'{queue},c{AGENT_TRANSFERS},,,{limit},,"{names.ANSWERED_SUB},{call_id}"'
        hook = _AnsweredHook(self, on_answer, None)
        self._note("queue_joined", queue=request.queue, priority=request.priority,
                   music=music)
        start = self.clock.now()
        first_ring: list[datetime] = []  # when a member first rang: announcements stop
        if on_ring is not None:  # ccf serve's AMI link reports the members' rings
            self.hooks.register_rings(self.info.call_id,
                                      _noting_first(on_ring, first_ring, self.clock))
        try:
            reply = await self._blocked("Queue", data, hook, self.settings.bridge_timeout_s)
        except CallHandedBack:
            self._handed_back_bridged(hook, start, queue=request.queue)
            raise
        finally:
            self.hooks.unregister_rings(self.info.call_id)
        if hook.error is not None:
            raise hook.error
        if reply.value == -1 or (self.session.hung_up and not hook.fired):
            # as in dial: the caller may be gone before Queue() started
            self._note("queue_left", queue=request.queue, outcome="hangup",
                       wait_ms=self._ms_since(start))
            self._hung_up("the queue")
        status = (await self._variable("QUEUESTATUS")).upper()
        position = _int(await self._variable("QUEUEPOSITION")) or 0
        if on_announce is not None:  # app_queue played them; no event said when
            until = min([self.clock.now(), *first_ring, *([hook.at] if hook.at else [])])
            for played in in_queue.announcements(request, start, until, position or 1):
                on_announce(played)
        if request.keys and not status and not hook.fired:
            key = await self._queue_key(queue)
            if key is not None:
                wait = self._ms_since(start)
                self._note("queue_left", queue=request.queue, outcome="key", key=key,
                           wait_ms=wait, position=position)
                return QueueOutcome("key", wait, position, reason=f"the caller pressed {key}",
                                    key=key, left_position=position)
        if status in _QUEUESTATUS:
            wait = self._ms_since(start)
            self._note("queue_left", queue=request.queue, outcome=_QUEUESTATUS[status],
                       wait_ms=wait)
            return QueueOutcome(_QUEUESTATUS[status], wait, position,
                                reason=f"QUEUESTATUS={status}")
        if not hook.fired and status in ("", "CONTINUE"):
            await self._answered_late(hook, start)
        if not hook.fired and status != "CONTINUE":
            raise ExternalError(f"Asterisk's queue {queue} did not take the call (Queue() "
                                f"returned with QUEUESTATUS={status or '(none)'}; is the queue "
                                "in queues.conf?)", service="asterisk")
        answered_at = hook.at or start
        wait = round((answered_at - start) / timedelta(milliseconds=1))
        talk = max(0, self._ms_since(answered_at))
        self._note("queue_left", queue=request.queue, outcome="answered", wait_ms=wait,
                   agent=hook.agent)
        ended_by = self._conversation_ended_by()
        self._note("conversation", party=hook.agent, talk_ms=talk, ended_by=ended_by)
        if ended_by == "caller":
            self._end("caller")
        return QueueOutcome("answered", wait, position,
                            Conversation(hook.agent, 0, talk, ended_by))

    async def _queue_key(self, queue: str) -> str | None:
        """The key a caller left Queue() with: app_queue went to KEY,1 of the
        queue's key context (valid_exit) and set no QUEUESTATUS."""
        if await self._variable("CONTEXT") != in_queue.keys_context(queue):
            return None
        key = await self._variable("EXTEN")
        return key if len(key) == 1 and key in "0123456789*#" else None

    def _conversation_ended_by(self) -> str:
        """Who ended a bridged conversation. Dial() and Queue() with the `c`
        option answer the same whoever hung up; the caller's hang-up is the
        AGI's HANGUP line, read while the application ran."""
        return "caller" if self.session.hung_up else "agent"

    async def transfer(self, target: DialTarget, *, mode: Literal["blind", "attended"],
                       ring_ms: int, caller_id: str | None = None,
                       announce: Sequence[Sound] = ()) -> TransferOutcome:
        self._enter("transfer")
        dial_options = await self._transfer_options(caller_id, announce)
        if mode == "blind":
            extension = self._extension(target)
            # the transfer context's Dial() reads its f()/A() from the caller's channel
            steps = [(f"SET VARIABLE {TRANSFER_DIAL_VARIABLE}", dial_options)] \
                if dial_options else []
            for verb, arg in (*steps, ("SET CONTEXT", names.TRANSFER_CONTEXT),
                              ("SET EXTENSION", extension), ("SET PRIORITY", "1")):
                reply = await self._cmd(verb, arg, timeout=QUICK_S)
                if reply.value == -1:
                    self._hung_up("the transfer")
            self._note("transfer", target=target.id, mode=mode, status="transferred",
                       extension=extension, caller_id=caller_id, options=dial_options)
            self._end("transfer")  # the dialplan carries on there when the AGI ends
            return TransferOutcome("transferred")
        interface, agent_id = self._interface(target)
        self._note("ring", targets=[target.id], via="transfer")
        options = (AGENT_TRANSFERS if agent_id else "") + dial_options
        options = f",{options}" if options else ""
        reply = await self._blocked("Dial", f"{interface},{_seconds(ring_ms)}{options}", None,
                                    self.settings.bridge_timeout_s)
        status = (await self._variable("DIALSTATUS")).upper()
        if status == "ANSWER":
            self._note("transfer", target=target.id, mode=mode, status="transferred")
            if not self.session.hung_up:
                # the called party ended the talk: Dial() gave -1, yet the caller's
                # channel is up, and an AGI ending without HANGUP would carry on at
                # the next priority, the fallback (seen on Asterisk 22.10.1:
                # captures/fastagi-queue-key-attended-transfer.txt)
                await self._hang_up_after_talk()
            self._end("transfer")
            return TransferOutcome("transferred")
        if reply.value == -1 or status == "CANCEL":
            self._hung_up("the transfer")
        outcome: Literal["no_answer", "failed"] = "no_answer" if status == "NOANSWER" \
            else "failed"
        self._note("transfer", target=target.id, mode=mode, status=outcome, dialstatus=status)
        return TransferOutcome(outcome, f"Dial() ended with DIALSTATUS={status or '(none)'}")

    async def _hang_up_after_talk(self) -> None:
        try:
            await self.session.command("HANGUP", timeout=QUICK_S)
        except AgiProtocolError as exc:  # the talk is over either way
            log.info("call %s: HANGUP got no reply (%s)", self.info.call_id, exc)

    async def _transfer_options(self, caller_id: str | None,
                                announce: Sequence[Sound]) -> str:
        """Dial()'s f() and A() for a transfer (dial_options.py). A() plays
        one file: the announcement is one prompt, its sound's file (a TTS
        rendering, a recorded prompt, one of Asterisk's own)."""
        if len(announce) > 1:
            raise ExternalError("Dial() plays one announcement file; this one has "
                                f"{len(announce)} sounds", service="asterisk")
        file = (await sound_file(announce[0], self.settings, self.tts, self.info.language)
                if announce else None)
        return self._safe(transfer_options, caller_id or "", file or "")

    def _handed_back_bridged(self, hook: _AnsweredHook, start: datetime, *,
                             queue: str | None = None, via: str | None = None,
                             target: str | None = None) -> None:
        """The call was handed back to the dialplan while Dial() or Queue()
        held it (`ccf serve` stopping). Asterisk keeps the caller there, so
        the flow learns no more: an answer the ccf-answered Gosub reported
        is a conversation ended by the hand-back, with the talk until now
        (raised as CallHandedBack with it); else the caller was still
        ringing or waiting, which the interpreter records as handed back."""
        if not hook.fired or hook.at is None:
            if queue is not None:
                self._note("queue_left", queue=queue, outcome="handed_back",
                           wait_ms=self._ms_since(start))
            return
        wait = max(0, round((hook.at - start) / timedelta(milliseconds=1)))
        talk = self._ms_since(hook.at)
        if queue is not None:
            self._note("queue_left", queue=queue, outcome="answered", wait_ms=wait,
                       agent=hook.agent)
        else:
            self._note(via or "dial", target=target, status="answered", ring_ms=wait)
        self._note("conversation", party=hook.agent, talk_ms=talk, ended_by="handed_back")
        raise CallHandedBack("the call was handed back to the dialplan during the "
                             "conversation", talk_ms=talk, wait_ms=wait)

    def _interface(self, target: DialTarget) -> tuple[str, str | None]:
        """The Dial() interface of a target, and the agent's id."""
        if target.kind == "agent":
            extension = self._extension(target)
            return self._safe(names.agent_interface, self.settings.agent_interface, target.id,
                              extension), target.id
        number = self._safe(names.diallable, target.id)
        return self.settings.number_interface.format(number=number), None

    def _extension(self, target: DialTarget) -> str:
        if target.kind != "agent":
            return self._safe(names.diallable, target.id)
        extension = target.extension
        if not extension:
            agent = self.agents(target.id)
            extension = agent.extension if agent is not None else ""
        if not extension:
            raise ExternalError(f"agent {target.id!r} has no extension to ring",
                                service="asterisk")
        return self._safe(names.diallable, extension)

    async def _answered_late(self, hook: _AnsweredHook, start: datetime) -> None:
        """Queue() connected an agent but the `ccf-answered` Gosub did not run
        (a dialplan without it): the member app_queue connected is in
        MEMBERNAME and the caller's wait in QEHOLDTIME (queues.conf
        `setinterfacevar` and `setqueueentryvar`, which the deployment
        writes). on_answer then runs after the conversation rather than
        before it, and the log says so."""
        member = await self._variable("MEMBERNAME")
        if not member:
            return
        held = _int(await self._variable("QEHOLDTIME"))
        log.warning("call %s: the ccf-answered Gosub did not run on %s's channel; "
                    "`on answered by agent` runs after the conversation (is the deployed "
                    "dialplan loaded?)", self.info.call_id, member)
        await hook(member)
        if held is not None:
            hook.at = start + timedelta(seconds=held)
        if hook.error is not None:
            raise hook.error

    def _gosub_call_id(self) -> str:
        call_id = self.info.call_id
        if not _CALL_ID.fullmatch(call_id):
            raise ExternalError(f"the call id {call_id!r} cannot be passed to the answered "
                                "Gosub", service="asterisk")
        return call_id


def _members_fit(request: QueueRequest) -> None:
    """app_queue rings a queue's members, whom ccf serve added by the queue's
    declared skills; it has no per-call choice of agents. A call asking for
    other skills (`queue support skills [...]`, computed ones) is refused
    rather than rung to agents it did not ask for."""
    declared = request.member_skills
    if declared is None or request.skills == declared:
        return
    raise ExternalError(
        f"Asterisk cannot choose the agents of queue {request.queue} per call: app_queue "
        f"rings its members, the agents with its declared skills ({_skills(declared)}), and "
        f"this call asks for {_skills(request.skills)}. Declare a queue with these skills and "
        "choose it as a value (`queue by_language[lang] ?? support`), or ring by skills with "
        "a routing `skills` line", service="asterisk")


def _skills(skills: dict[str, int]) -> str:
    if not skills:
        return "none"
    return ", ".join(f"{name} {level}+" if level else name for name, level in skills.items())


def _seconds(ms: int) -> str:
    """Seconds as Dial() reads them (sscanf %lf)."""
    return f"{max(ms, 0) / 1000:.3f}"


def _int(text: str) -> int | None:
    """A channel variable's number; None when it holds none a C int can
    (Asterisk's text: QEHOLDTIME=10**40 would overflow the clock)."""
    return c_number(text.strip())


def _noting_first(on_ring: OnRing, first: list[datetime], clock) -> OnRing:
    """on_ring, noting when the first member rang."""

    def ring(report):
        if not first:
            first.append(clock.now())
        return on_ring(report)

    return ring


def _message_language(request: QueueRequest) -> str:
    """The language the queue's messages speak in this call (the call's,
    else the flow's default: the variant the prompt gave), when it is a tag."""
    for message in request.messages:
        for sound in message.sounds:
            if sound.language and names.LANGUAGE_TAG.fullmatch(sound.language):
                return sound.language
    return ""
