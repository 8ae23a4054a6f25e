"""One caller's Queue() at the test peer: its turn, rounds of rings, no-answers, answer, talk.

Follows apps/app_queue.c (queue_exec, try_calling, ring_one, wait_for_answer, rna) and the
captures ami-queue-*.txt. Must not pass time but through the QueueLine, nor keep anything from
one call to the next: the queues' state is the AppQueue's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.testing.peer.app_queue import AppQueue, Entry, Member, Queue
from ccdsl.runtime.testing.peer.queue_events import ChannelSnapshot, agent_event

RECHECK_MS = 1_000  # wait_our_turn looks again every second
# channel variables Queue() sets (or unsets on entry) on the caller's channel
VARIABLES = ("QUEUESTATUS", "QUEUEPOSITION", "ABANDONED", "MEMBERINTERFACE", "MEMBERNAME",
             "MEMBERCALLS", "MEMBERLASTCALL", "MEMBERPENALTY", "MEMBERDYNAMIC",
             "MEMBERREALTIME", "QEHOLDTIME", "QEORIGINALPOS")


class QueueLine(Protocol):
    """The caller's side of Queue(): its clock, the caller's hang-up, the
    member's leg."""

    def now(self) -> datetime: ...

    async def pass_ms(self, ms: int | None) -> None:
        """Let ms pass (None: for as long as the caller stays); CallHungUp
        when the caller hangs up meanwhile."""

    async def wait_digit(self, ms: int) -> str | None:
        """ast_waitfordigit: up to ms for a key, returned when pressed."""

    async def play(self, file: str) -> str | None:
        """play_file with AST_DIGIT_ANY: a key pressed stops it and is returned."""

    async def answered(self, member: Member, channel: ChannelSnapshot) -> None:
        """Queue()'s gosub on the member's channel, before the bridge."""

    def caller_ends(self) -> None:
        """The caller hangs up at the end of a conversation they end."""


@dataclass
class QueueResult:
    result: int  # what Queue() returns, EXEC's `200 result=`: -1 when the caller hung up
    variables: dict[str, str] = field(default_factory=dict)  # set on the caller's channel
    member: Member | None = None  # who took the call
    goto: tuple[str, str] | None = None  # a key exit: (context, key), where the channel is now


class _KeyExit(Exception):  # noqa: N818 - a signal: valid_exit went to context,key,1
    pass


@dataclass
class _Attempt:
    """struct callattempt: one member in one round."""

    member: Member
    metric: int
    still: bool = True  # may still be rung this round
    channel: ChannelSnapshot | None = None  # the member's channel once rung


class _LineClock:
    def __init__(self, line: QueueLine) -> None:
        self.line = line

    def now(self) -> datetime:
        return self.line.now()


async def run_queue(app: AppQueue, queue: str, caller: ChannelSnapshot, line: QueueLine, *,
                    timeout_s: int | None = None, prio: int = 0) -> QueueResult:
    """Queue(queue,,,,timeout_s) for the caller: QueueResult, or KeyError
    for a queue app_queue does not have. app_queue's time is the call's
    while it serves it (LastPause, LastCall, HoldTime), so the app's clock
    is the line's meanwhile."""
    saved, app.clock = app.clock, _LineClock(line)
    try:
        return await _Run(app, app.queues[queue], caller, line, timeout_s, prio).run()
    finally:
        app.clock = saved


class _Run:
    def __init__(self, app: AppQueue, queue: Queue, caller: ChannelSnapshot, line: QueueLine,
                 timeout_s: int | None, prio: int) -> None:
        self.app = app
        self.q = queue
        self.caller = caller
        self.line = line
        self.prio = prio
        self.start = line.now()
        self.expire = None if timeout_s is None else self.start + timedelta(seconds=timeout_s)
        self.out = QueueResult(0)
        self.entry: Entry | None = None
        self.last_periodic = self.start  # qe.last_periodic_announce_time: the join
        self.turn = 0  # qe.last_periodic_announce_sound

    async def run(self) -> QueueResult:
        app, q = self.app, self.q
        if q.conf.joinempty and app.empty(q, q.conf.joinempty):
            return self._status("JOINEMPTY")  # join_queue refused: no event, no position
        if q.conf.maxlen and len(q.callers) >= q.conf.maxlen:
            return self._status("FULL")
        self.entry = app.join(q.name, self.caller, self.prio)
        await app.settle()
        try:
            reason = await self._stay()
        except _KeyExit:
            # EXITWITHKEY: the caller leaves; Queue() returns 0 and sets no
            # QUEUESTATUS (reason stays QUEUE_UNKNOWN), the channel at key,1
            self._leave()
            await app.settle()
            return self.out
        except CallHungUp:
            # the caller hung up waiting or ringing (a hang-up while talking is
            # the conversation's end): abandoned, then out of the queue
            self.out.result = -1
            app.abandon(q.name, self.entry)
            self.out.variables["ABANDONED"] = "TRUE"
            self._leave()
            await app.settle()
            return self.out
        self._leave()
        await app.settle()
        return self._status(reason)

    def _status(self, reason: str) -> QueueResult:
        self.out.variables["QUEUESTATUS"] = reason
        return self.out

    def _expired(self) -> bool:
        return self.expire is not None and self.line.now() >= self.expire

    def _leave(self) -> None:
        assert self.entry is not None
        if self.app.leave(self.q.name, self.entry):
            self.out.variables["QUEUEPOSITION"] = str(self.entry.pos)

    def _abandon(self) -> None:
        assert self.entry is not None
        self.app.abandon(self.q.name, self.entry)
        self.out.variables["ABANDONED"] = "TRUE"

    # -- queue_exec's loops ---------------------------------------------------------

    async def _stay(self) -> str:
        """The caller's turn, then rounds of rings with `retry` between them,
        until someone answers, the timeout passes or the queue empties."""
        q = self.q
        while True:
            if await self._wait_turn():
                return "LEAVEEMPTY"
            while True:
                if self._expired():
                    self._abandon()
                    return "TIMEOUT"
                if q.conf.first_user:  # makeannouncement: announce-to-first-user
                    await self._periodic()
                if await self._try_calling():
                    return "CONTINUE"  # the `c` option: Queue() returns after the talk
                if q.conf.leavewhenempty and self.app.empty(q, q.conf.leavewhenempty):
                    self._abandon()
                    return "LEAVEEMPTY"
                if self._expired():
                    self._abandon()
                    return "TIMEOUT"
                await self._wait(q.conf.retry_s * 1000)  # wait_a_bit
                if not self._our_turn():
                    break

    async def _wait_turn(self) -> bool:
        """wait_our_turn: True when the caller leaves because the queue is
        empty; a timeout is the head loop's to notice."""
        q = self.q
        while not self._our_turn():
            if self._expired():
                return False
            if q.conf.leavewhenempty and self.app.empty(q, q.conf.leavewhenempty):
                self._abandon()
                return True
            await self._periodic()
            await self._wait(RECHECK_MS)
            if self._expired():
                return False
        return False

    # -- the caller's time in queue (say_periodic_announcement, valid_exit) --------------

    async def _periodic(self) -> None:
        """The next periodic announcement once its frequency has passed since
        the last one began (the first: since the join)."""
        conf, now = self.q.conf, self.line.now()
        if not conf.periodic_s or not conf.periodic:
            return
        if (now - self.last_periodic).total_seconds() < conf.periodic_s:
            return
        if self.turn >= len(conf.periodic):
            self.turn = 0
        key = await self.line.play(conf.periodic[self.turn])
        self.last_periodic = now
        self.turn += 1
        self._exit_on(key)

    async def _wait(self, ms: int) -> None:
        """ast_waitfordigit's loop: with a context, a key may leave the queue."""
        if not self.q.conf.context:
            await self.line.pass_ms(ms)
            return
        self._exit_on(await self.line.wait_digit(ms))

    def _exit_on(self, key: str | None) -> None:
        """valid_exit: a key that is an extension of the queue's context."""
        context = self.q.conf.context
        if key and context and key in self.app.contexts.get(context, ()):
            self.out.goto = (context, key)
            raise _KeyExit(key)

    def _our_turn(self) -> bool:
        """is_our_turn: within as many callers from the head (those ringing
        aside) as members are free; without autofill, or for ringall, the
        head only, and only with one free member."""
        app, q = self.app, self.q
        free = sum(1 for m in q.ordered() if app.available(m))
        if free and (not app.autofill or q.strategy == "ringall"):
            free = 1
        ahead = 0
        for entry in q.callers:
            if entry is self.entry:
                return ahead < free and (app.autofill or entry.pos == 1)
            if ahead >= free:
                return False
            if not entry.pending:
                ahead += 1
        return False

    # -- one round (try_calling) -------------------------------------------------------

    async def _try_calling(self) -> bool:
        """Ring the members the strategy picks; True when one answered (and
        the conversation is over)."""
        app, q, entry = self.app, self.q, self.entry
        assert entry is not None
        if self._expired():
            return False
        outgoing: list[_Attempt] = []
        for pos, member in enumerate(q.ordered()):
            # the list is built backwards: among equal metrics the member
            # iterated last is rung first (the captures' `never`)
            outgoing.insert(0, _Attempt(member, self._metric(member, pos)))
        ring_ms = self._ring_ms()
        entry.pending = True
        try:
            self._ring_one(outgoing)
            await app.settle()
            winner, rang_ms = await self._wait_for_answer(outgoing, ring_ms)
        finally:
            # hangupcalls, and the next round's start (a hang-up included)
            entry.pending = False
            for attempt in outgoing:
                if attempt.channel is not None:
                    app.pending.discard(attempt.member.interface.lower())
            if q.strategy in ("rrmemory", "rrordered"):
                self._store_next(outgoing, rr=True)
            elif q.strategy == "linear":
                self._store_next(outgoing, rr=False)
        if winner is None:
            return False
        await self._connect(winner, rang_ms)
        return True

    def _ring_ms(self) -> int | None:
        """How long this round rings: the queue's `timeout`, or with
        timeoutpriority app Queue()'s own timeout when it comes sooner;
        None: until someone answers."""
        now, timeout = self.line.now(), self.q.conf.timeout_s
        left = None if self.expire is None else \
            max(round((self.expire - now).total_seconds() * 1000), 0)
        if self.q.conf.timeoutpriority == "conf":
            return 0 if left == 0 else (timeout * 1000 if timeout else None)
        if left is not None and (not timeout or left <= timeout * 1000):
            return left
        return timeout * 1000 if timeout else None

    def _metric(self, member: Member, pos: int) -> int:
        """calc_metric: lower rings first; penalties count a million."""
        q, entry, strategy = self.q, self.entry, self.q.strategy
        assert entry is not None
        penalty = member.penalty * 1_000_000
        if strategy == "linear":
            if pos < entry.linpos:
                return 1000 + pos + penalty
            entry.linwrapped = entry.linwrapped or pos > entry.linpos
            return pos + penalty
        if strategy in ("rrmemory", "rrordered"):
            if member.queuepos < q.rrpos:
                return 1000 + member.queuepos + penalty
            q.wrapped = q.wrapped or member.queuepos > q.rrpos
            return member.queuepos + penalty
        if strategy == "random":
            return self.app.rng.randrange(1000) + penalty
        if strategy == "wrandom":
            return self.app.rng.randrange((1 + member.penalty) * 1000)
        if strategy == "fewestcalls":
            return member.calls_taken + penalty
        if strategy == "leastrecent":
            if not member.last_call:
                return penalty
            return 1_000_000 - (self.app.epoch() - member.last_call) + penalty
        return penalty  # ringall: everyone alike

    def _ring_one(self, outgoing: list[_Attempt]) -> None:
        """The best metric rings (ringall: every member sharing it); a member
        who cannot be rung is passed over for the next best."""
        while True:
            best = _best(outgoing)
            if best is None:
                return
            if self.q.strategy == "ringall":
                rang = False
                for attempt in outgoing:
                    if attempt.still and attempt.channel is None \
                            and attempt.metric <= best.metric:
                        rang = self._ring_entry(attempt) or rang
            else:
                rang = self._ring_entry(best)
            if rang or self._expired():
                return

    def _ring_entry(self, attempt: _Attempt) -> bool:
        app, member = self.app, attempt.member
        if not app.can_ring(member):
            attempt.still = False  # paused, on a call, logged off, rung by another caller
            return False
        attempt.channel = app.new_channel(member.interface, self.caller)
        if not member.ringinuse:
            app.pending.add(member.interface.lower())
        app.emit(agent_event("AgentCalled", self.caller, attempt.channel, self.q.name, member))
        return True

    async def _wait_for_answer(self, outgoing: list[_Attempt],
                               ring_ms: int | None) -> tuple[_Attempt | None, int]:
        """The rung members ring until one answers (the first by its phone's
        answer time) or ring_ms passes: then each rings out (rna), in the
        order they were rung. CallHungUp when the caller hangs up first:
        the rings are cancelled, with no event of their own."""
        ringing = [a for a in outgoing if a.still and a.channel is not None]
        if not ringing:
            return None, 0  # nobody could be rung: no time passes
        answers = []
        for place, attempt in enumerate(ringing):
            after = self.app.phone(attempt.member).answer_after_ms
            if after is not None and (ring_ms is None or after <= ring_ms):
                answers.append((after, place, attempt))
        if answers:
            after, _, winner = min(answers, key=lambda a: (a[0], a[1]))
            await self.line.pass_ms(after)
            return winner, after
        await self.line.pass_ms(ring_ms)
        for attempt in ringing:
            self._rna(attempt, ring_ms or 0)
        await self.app.settle()
        return None, 0

    def _rna(self, attempt: _Attempt, ring_ms: int) -> None:
        """AgentRingNoAnswer, then autopause: in this queue (yes) or in every
        queue the member is in (all), reason Auto-Pause."""
        app, q, member = self.app, self.q, attempt.member
        assert attempt.channel is not None
        app.emit(agent_event("AgentRingNoAnswer", self.caller, attempt.channel, q.name, member,
                             RingTime=ring_ms))
        app.pending.discard(member.interface.lower())
        if q.conf.autopause in ("yes", "all"):
            app.pause(member.interface, True, q.name if q.conf.autopause == "yes" else "",
                      "Auto-Pause")

    def _store_next(self, outgoing: list[_Attempt], *, rr: bool) -> None:
        """store_next_rr / store_next_lin: the next round starts at the best
        member not rung in this one."""
        q, entry = self.q, self.entry
        assert entry is not None
        best = _best(outgoing)
        if rr:
            q.rrpos = best.metric % 1000 if best else (0 if q.wrapped else q.rrpos + 1)
            q.wrapped = False
        else:
            entry.linpos = best.metric % 1000 if best else \
                (0 if entry.linwrapped else entry.linpos + 1)
            entry.linwrapped = False

    # -- the answer and the conversation -------------------------------------------

    async def _connect(self, winner: _Attempt, rang_ms: int) -> None:
        """The member answered: out of the queue, the gosub on the member's
        channel, AgentConnect and the member in use; the talk; then
        AgentComplete, the member's call counted, the member free."""
        app, q, line, member = self.app, self.q, self.line, winner.member
        channel = winner.channel
        assert channel is not None and self.entry is not None
        held = self._seconds_since(self.start)
        q.holdtime = (q.holdtime * 3 + held) >> 2  # recalc_holdtime
        self.out.member = member
        if q.conf.setinterfacevar:
            self.out.variables.update(
                MEMBERINTERFACE=member.interface, MEMBERNAME=member.name,
                MEMBERCALLS=str(member.calls_taken), MEMBERLASTCALL=str(member.last_call),
                MEMBERPENALTY=str(member.penalty), MEMBERDYNAMIC=str(int(member.dynamic)),
                MEMBERREALTIME="0")
        if q.conf.setqueueentryvar:
            self.out.variables.update(QEHOLDTIME=str(held), QEORIGINALPOS=str(self.entry.opos))
        self._leave()
        await app.settle()
        await line.answered(member, channel)
        held = self._seconds_since(self.start)
        channel.state = 6
        app.emit(agent_event("AgentConnect", self.caller, channel, q.name, member,
                             HoldTime=held, RingTime=rang_ms // 1000))
        member.in_call = True
        app.set_device(member.state_interface, "INUSE")
        await app.settle()
        talk_start = line.now()
        phone = app.phone(member)
        reason = "agent"
        try:
            await line.pass_ms(phone.talk_ms)
            if phone.hangs_up == "caller":
                line.caller_ends()
                reason = "caller"
        except CallHungUp:
            reason = "caller"
        app.emit(agent_event("AgentComplete", self.caller, channel, q.name, member,
                             HoldTime=held, TalkTime=self._seconds_since(talk_start),
                             Reason=reason))
        # update_queue: this queue's member counts the call, the queue its talk time
        talked = self._seconds_since(talk_start)
        member.in_call = False
        member.calls_taken += 1
        member.last_call = app.epoch()
        q.completed += 1
        q.talktime = talked if q.completed == 1 else (q.talktime * 3 + talked) >> 2
        app.set_device(member.state_interface, "NOT_INUSE")
        await app.settle()

    def _seconds_since(self, moment: datetime) -> int:
        return int((self.line.now() - moment).total_seconds())


def _best(outgoing: list[_Attempt]) -> _Attempt | None:
    """find_best: the first not yet rung, still possible, of lowest metric."""
    best = None
    for attempt in outgoing:
        if attempt.still and attempt.channel is None and (best is None
                                                          or attempt.metric < best.metric):
            best = attempt
    return best
