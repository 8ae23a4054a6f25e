"""app_queue as the test peer plays it: queues.conf settings, members, their pause and device state.

Each change sends the AMI events Asterisk 22.10.1 sends (queue_events.py) to the listeners. Must
not pass time nor speak AGI or AMI: a caller's Queue() is queue_call.py's, the wire the double's.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ccdsl.runtime.testing.peer.queue_events import (
    DEVICE_STATES,
    ChannelSnapshot,
    caller_event,
    member_blob,
)

# app_queue's defaults for a queue section that does not say (apps/app_queue.c init_queue)
DEFAULT_TIMEOUT_S = 15
DEFAULT_RETRY_S = 5
EMPTY_WORDS = ("penalty", "paused", "inuse", "ringing", "unavailable", "invalid", "unknown",
               "wrapup")
# strategies whose members app_queue keeps in a list (insertion order); the others in a
# 37-bucket hash container, iterated bucket by bucket (ao2_container_alloc_hash)
LISTED = ("linear", "rrordered")
MEMBER_BUCKETS = 37
QUEUE_BUCKETS = 53  # MAX_QUEUE_BUCKETS: the queues themselves, hashed by name

# the device states an empty rule can name (get_member_status); the others
# (NOT_INUSE, BUSY, RINGINUSE, ONHOLD) always count as there
_EMPTY_WORD = {0: "unknown", 2: "inuse", 4: "invalid", 5: "unavailable", 6: "ringing"}

Listener = Callable[[dict[str, object]], Awaitable[None] | None]


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class QueueConf:
    """A queues.conf section, as far as ringing goes (the keys ccf deploy writes)."""

    strategy: str = "ringall"
    timeout_s: int = DEFAULT_TIMEOUT_S  # how long each ring lasts; 0: until Queue()'s timeout
    retry_s: int = DEFAULT_RETRY_S  # the pause between two rounds of rings
    autopause: str = "no"  # no | yes (pause in this queue) | all (in every queue)
    ringinuse: bool = True
    joinempty: frozenset[str] = frozenset()  # device conditions that count as absent
    leavewhenempty: frozenset[str] = frozenset()
    timeoutpriority: str = "app"
    maxlen: int = 0
    setinterfacevar: bool = False
    setqueueentryvar: bool = False
    musicclass: str = ""
    # the caller's time in queue: a key of `context` leaves the queue (valid_exit);
    # periodic-announce files play in turn every periodic_s, at the head too with first_user
    context: str = ""
    periodic: tuple[str, ...] = ()
    periodic_s: int = 0
    first_user: bool = False


def _true(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


def _false(value: str) -> bool:
    return value.strip().lower() in ("no", "false", "n", "f", "0", "off")


def _empty_rule(value: str, joining: bool) -> frozenset[str]:
    """parse_empty_options: words, or loose / strict, or yes / no (whose
    meaning is turned round between joinempty and leavewhenempty)."""
    out: set[str] = set()
    for word in (w.strip().lower() for w in value.split(",")):
        if word in EMPTY_WORDS:
            out.add(word)
        elif word == "loose":
            out = {"penalty", "invalid"}
        elif word == "strict":
            out = {"penalty", "invalid", "paused", "unavailable"}
        elif (_false(word) and joining) or (_true(word) and not joining):
            out = {"penalty", "invalid", "paused"}
        elif _false(word) or _true(word):
            out = set()
    return frozenset(out)


def _atoi(value: str) -> int:
    match = re.match(r"\s*([+-]?\d+)", value)
    return int(match.group(1)) if match else 0


# queue_set_param, for the keys that change whom a caller rings and when
# (announcements and the like change nothing here): key -> (field, reader)
_PARAMS: dict[str, tuple[str, Callable[[str], object]]] = {
    "strategy": ("strategy", str.lower),
    "timeout": ("timeout_s", lambda v: max(_atoi(v), 0)),
    "retry": ("retry_s", lambda v: _atoi(v) if _atoi(v) > 0 else DEFAULT_RETRY_S),
    "autopause": ("autopause",
                  lambda v: "all" if v.lower() == "all" else ("yes" if _true(v) else "no")),
    "ringinuse": ("ringinuse", _true),
    "joinempty": ("joinempty", lambda v: _empty_rule(v, True)),
    "leavewhenempty": ("leavewhenempty", lambda v: _empty_rule(v, False)),
    "timeoutpriority": ("timeoutpriority", str.lower),
    "maxlen": ("maxlen", lambda v: max(_atoi(v), 0)),
    "setinterfacevar": ("setinterfacevar", _true),
    "setqueueentryvar": ("setqueueentryvar", _true),
    "musicclass": ("musicclass", str),
    "context": ("context", str),
    "periodic-announce": ("periodic", lambda v: tuple(f.strip() for f in v.split(",")
                                                      if f.strip())),
    "periodic-announce-frequency": ("periodic_s", lambda v: max(_atoi(v), 0)),
    "announce-to-first-user": ("first_user", _true),
}


def _conf_value(conf: QueueConf, key: str, value: str) -> QueueConf:
    """One `key = value` of a queue section on top of conf."""
    param = _PARAMS.get(key)
    if param is None:
        return conf
    field_name, read = param
    return replace(conf, **{field_name: read(value.strip())})


@dataclass
class Member:
    """One queue's member object (struct member): a member of two queues
    is two of them, with their own pause, calls and last call."""

    interface: str
    name: str = ""
    state_interface: str = ""
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    status: int = 1  # a DEVICE_STATES index: NOT_INUSE
    calls_taken: int = 0
    last_call: int = 0  # epoch seconds, 0: no call yet
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False  # connected by this queue, until the call ends
    dynamic: bool = True  # QueueAdd; False: a `member =>` line of queues.conf
    ringinuse: bool = True
    queuepos: int = 0  # its place when added: rrmemory goes round by it

    def __post_init__(self) -> None:
        self.name = self.name or self.interface
        self.state_interface = self.state_interface or self.interface


@dataclass
class Phone:
    """How a member's device behaves when app_queue rings it."""

    answer_after_ms: int | None = 2_000  # None: it rings out every time
    talk_ms: int = 60_000
    hangs_up: str = "agent"  # who ends the conversation: agent | caller


@dataclass
class Entry:
    """A caller in a queue (struct queue_ent)."""

    caller: ChannelSnapshot
    prio: int
    pos: int
    opos: int
    start: datetime
    pending: bool = False  # ringing members now: not counted for the callers behind
    linpos: int = 0  # linear: where this caller's next round starts
    linwrapped: bool = False


def _member_hash(interface: str) -> int:
    """member_hash_fn: the first five characters from the slash on, six bits each."""
    start = interface.find("/")
    total = 0
    for i, ch in enumerate(interface[max(start, 0):][:5]):
        code = ord(ch)
        total += (0 if code < 32 else code - 64 if code > 96 else code - 32) << (i * 6)
    return total


def str_case_hash(text: str) -> int:
    """ast_str_case_hash (djb2 on the lower-cased bytes), as an ao2 hash."""
    value = 5381
    for byte in text.lower().encode("utf-8"):
        value = ((value * 33) ^ byte) & 0xFFFFFFFF
    return value & 0x7FFFFFFF


@dataclass
class Queue:
    name: str
    conf: QueueConf = field(default_factory=QueueConf)
    members: dict[str, Member] = field(default_factory=dict)  # by interface, insertion order
    callers: list[Entry] = field(default_factory=list)  # head first
    rrpos: int = 0
    wrapped: bool = False
    holdtime: int = 0  # running averages in seconds (recalc_holdtime, update_queue)
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0
    hashed: bool = True  # the member container's kind, fixed when the queue is made

    @property
    def strategy(self) -> str:
        return self.conf.strategy

    def member(self, interface: str) -> Member | None:
        """interface_exists: the member with this interface, case aside."""
        wanted = interface.lower()
        return next((m for m in self.members.values() if m.interface.lower() == wanted), None)

    def ordered(self) -> list[Member]:
        """The members in the order app_queue iterates them: hash buckets in
        turn for most strategies (so PJSIP/8003 after PJSIP/8001, whatever
        the order they were added), insertion order for linear."""
        members = list(self.members.values())
        if not self.hashed:
            return members
        return sorted(members, key=lambda m: abs(_member_hash(m.interface)) % MEMBER_BUCKETS)


class AppQueue:
    """The queues of one simulated Asterisk, and who answers when rung.

    What a test sets: `queues` (load_conf, add_queue, add_member, pause,
    set_device), `phones` (by member name or interface; `default_phone`
    for the rest), `autofill` ([general] autofill; off unless said).
    What it gives: every event to each of `listeners`; a listener's
    awaitable is awaited at the next `settle()`."""

    def __init__(self, *, clock=None, autofill: bool = False, seed: int = 0,
                 first_channel: int = 0x0F) -> None:
        self.queues: dict[str, Queue] = {}
        self.contexts: dict[str, frozenset[str]] = {}  # the dialplan's: context -> extensions
        self.phones: dict[str, Phone] = {}
        self.default_phone = Phone()
        self.listeners: list[Listener] = []
        self.clock = clock or _Clock()
        self.autofill = autofill
        self.rng = random.Random(seed)  # the random strategy's ast_random
        self.pending: set[str] = set()  # interfaces being rung (pending_members)
        self._waiting: list[Awaitable[None]] = []
        self._uniqueids = itertools.count(100)
        self._sequence = itertools.count(first_channel)  # the members' channels' numbers

    def epoch(self) -> int:
        return int(self.clock.now().timestamp())

    # -- events -----------------------------------------------------------

    def emit(self, event: dict[str, object]) -> None:
        for listener in list(self.listeners):
            waiting = listener(event)
            if waiting is not None:
                self._waiting.append(waiting)

    async def settle(self) -> None:
        """Wait for what the listeners asked to be waited for (a ring
        reported to the flow, the AMI double's events read by ccf serve)."""
        while self._waiting:
            await self._waiting.pop(0)

    # -- queues -------------------------------------------------------------

    def add_queue(self, name: str, strategy: str | None = None,
                  conf: QueueConf | None = None) -> Queue:
        queue = self.queues.get(name)
        conf = conf or (queue.conf if queue else QueueConf())
        if strategy is not None:
            conf = replace(conf, strategy=strategy)
        if queue is None:
            queue = self.queues[name] = Queue(name, conf, hashed=conf.strategy not in LISTED)
        elif conf.strategy in LISTED and queue.hashed:
            # reload_queue_members: "Changing to the linear strategy currently
            # requires asterisk to be restarted", and the old one stays
            conf = replace(conf, strategy=queue.conf.strategy)
        queue.conf = conf
        return queue

    def in_order(self) -> list[Queue]:
        """The queues in the order app_queue iterates them (a pause in every
        queue, a device's new state): by their name's hash bucket."""
        return sorted(self.queues.values(),
                      key=lambda q: str_case_hash(q.name) % QUEUE_BUCKETS)

    def load_conf(self, text: str) -> list[str]:
        """Apply a queues.conf text as `reload app_queue.so` does: each
        section sets its queue's parameters from app_queue's defaults, its
        `member =>` lines are its static members (one still listed keeps its
        pause, calls and place; one no longer listed goes; QueueAdd's stay).
        No events: Asterisk sends none for a reload. The sections' names."""
        sections: dict[str, tuple[QueueConf, list[str]]] = {}
        current: str | None = None
        for raw in text.splitlines():
            line = raw.split(";", 1)[0].strip()
            if line.startswith("[") and "]" in line:
                current = line[1:line.index("]")].strip()
                if current != "general":
                    sections[current] = (QueueConf(), [])
                continue
            key, sep, value = line.partition("=")
            key, value = key.strip().lower(), value.lstrip(">").strip()
            if not sep or current is None:
                continue
            if current == "general":
                if key == "autofill":
                    self.autofill = _true(value)
                continue
            conf, members = sections[current]
            if key == "member":
                members.append(value)
            else:
                sections[current] = (_conf_value(conf, key, value), members)
        for name, (conf, lines) in sections.items():
            queue = self.add_queue(name, conf=conf)
            listed = [self._static_member(queue, line) for line in lines]
            keep = {m.interface.lower() for m in listed}
            for interface, member in list(queue.members.items()):
                if not member.dynamic and interface.lower() not in keep:
                    del queue.members[interface]
        return list(sections)

    def _static_member(self, queue: Queue, line: str) -> Member:
        """reload_single_member: interface,penalty,membername,state_interface,ringinuse."""
        parts = [p.strip() for p in line.split(",")]
        parts += [""] * (5 - len(parts))
        interface, penalty, name, state, ringinuse = parts[:5]
        old = queue.member(interface)
        member = Member(interface, name, state,
                        penalty=max(_atoi(penalty), 0),
                        dynamic=False, login_time=self.epoch(),
                        ringinuse=_true(ringinuse) if ringinuse else queue.conf.ringinuse,
                        queuepos=len(queue.members))
        if old is not None:
            for kept in ("paused", "paused_reason", "last_pause", "calls_taken", "last_call",
                         "queuepos", "status", "login_time", "in_call"):
                setattr(member, kept, getattr(old, kept))
            del queue.members[old.interface]
        queue.members[interface] = member
        return member

    # -- members -----------------------------------------------------------------

    def phone(self, member: Member) -> Phone:
        return self.phones.get(member.name) or self.phones.get(member.interface) \
            or self.default_phone

    def memberships(self, interface: str) -> list[tuple[Queue, Member]]:
        out = []
        for queue in self.in_order():
            member = queue.member(interface)
            if member is not None:
                out.append((queue, member))
        return out

    def add_member(self, queue: str, interface: str, name: str = "", state_interface: str = "",
                   *, penalty: int = 0, paused: bool = False, reason: str = "",
                   status: int | None = None) -> Member | None:
        """QueueAdd (add_to_queue): a dynamic member and QueueMemberAdded;
        None when the interface is there already. KeyError: no such queue."""
        q = self.queues[queue]
        if q.member(interface) is not None:
            return None
        state = state_interface or interface
        if status is None:  # the device's state as another queue last saw it
            seen = [m.status for _, m in self.memberships(interface) if m.state_interface == state]
            status = seen[0] if seen else 1
        member = Member(interface, name, state, penalty=penalty, paused=paused,
                        paused_reason=reason if paused else "", status=status,
                        last_pause=self.epoch() if paused else 0, login_time=self.epoch(),
                        ringinuse=q.conf.ringinuse, queuepos=len(q.members))
        q.members[interface] = member
        self.emit(member_blob("QueueMemberAdded", q.name, member))
        return member

    def remove_member(self, queue: str, interface: str) -> Member | None:
        q = self.queues[queue]
        member = q.member(interface)
        if member is None:
            return None
        del q.members[member.interface]
        for other in q.members.values():  # queue_member_follower_removal
            if other.queuepos > member.queuepos:
                other.queuepos -= 1
        self.emit(member_blob("QueueMemberRemoved", q.name, member))
        return member

    def pause(self, interface: str, paused: bool, queue: str = "", reason: str = "") -> int:
        """set_member_paused: in one queue or (no queue) in every queue the
        interface is in, one QueueMemberPause each, already paused or not;
        an unpause keeps LastPause. How many queues it was done in."""
        found = 0
        for q, member in self.memberships(interface):
            if queue and q.name != queue:
                continue
            found += 1
            member.paused = paused
            if paused:
                member.last_pause = self.epoch()
            member.paused_reason = reason
            self.emit(member_blob("QueueMemberPause", q.name, member))
            if not paused:
                member.paused_reason = ""
        return found

    def set_device(self, device: str, state: str | int) -> None:
        """A device changes state: QueueMemberStatus for each member whose
        state interface it is and whose status changes (update_status)."""
        status = state if isinstance(state, int) else DEVICE_STATES.index(state.upper())
        for queue in self.in_order():
            for member in queue.ordered():
                if member.state_interface.lower() == device.lower() and member.status != status:
                    member.status = status
                    self.pending.discard(member.interface.lower())
                    self.emit(member_blob("QueueMemberStatus", queue.name, member))

    # -- callers (join_queue, leave_queue, record_abandoned) ---------------------------

    def join(self, queue: str, caller: ChannelSnapshot, prio: int = 0) -> Entry:
        """A caller enters: after every caller of its priority or higher,
        QueueCallerJoin with its Position and the queue's Count."""
        q = self.queues[queue]
        at = next((i for i, e in enumerate(q.callers) if prio > e.prio), len(q.callers))
        entry = Entry(caller, prio, at + 1, at + 1, self.clock.now())
        q.callers.insert(at, entry)
        for pos, other in enumerate(q.callers, 1):
            other.pos = pos
        self.emit(caller_event("QueueCallerJoin", caller, q.name, Position=entry.pos,
                               Count=len(q.callers)))
        return entry

    def leave(self, queue: str, entry: Entry) -> bool:
        """The caller leaves (answered, gave up, timed out): QueueCallerLeave
        with the place it left from; the callers behind move up. False when
        it had left already."""
        q = self.queues[queue]
        if entry not in q.callers:
            return False
        q.callers.remove(entry)
        self.emit(caller_event("QueueCallerLeave", entry.caller, q.name, Position=entry.pos,
                               Count=len(q.callers)))
        for pos, other in enumerate(q.callers, 1):
            other.pos = pos
        return True

    def abandon(self, queue: str, entry: Entry) -> None:
        """record_abandoned (a hang-up, a timeout, leavewhenempty): QueueCallerAbandon."""
        q = self.queues[queue]
        q.abandoned += 1
        held = int((self.clock.now() - entry.start).total_seconds())
        self.emit(caller_event("QueueCallerAbandon", entry.caller, q.name, Position=entry.pos,
                               OriginalPosition=entry.opos, HoldTime=held))

    # -- who is there (get_member_status, is_member_available, can_ring_entry) ---------

    def empty(self, queue: Queue, conditions: frozenset[str]) -> bool:
        """Whether no member is present under the joinempty/leavewhenempty rule."""
        for member in queue.ordered():
            if _EMPTY_WORD.get(member.status) in conditions:
                continue
            if member.paused and "paused" in conditions:
                continue
            return False
        return True

    def available(self, member: Member) -> bool:
        if member.status in (4, 5):  # INVALID, UNAVAILABLE
            return False
        if member.status not in (0, 1) and not member.ringinuse:
            return False
        return not member.paused

    def can_ring(self, member: Member) -> bool:
        if member.paused:
            return False
        if not member.ringinuse and member.status not in (0, 1):
            return False
        # another caller rings this member now (pending_members)
        return member.ringinuse or member.interface.lower() not in self.pending

    def new_channel(self, interface: str, caller: ChannelSnapshot) -> ChannelSnapshot:
        """The channel app_queue requests to ring a member: named after the
        interface plus a sequence, Down, the caller's Linkedid and caller
        id; a Local channel's context is its own, and the exten the caller's."""
        seq = next(self._sequence)
        name = f"{interface}-{seq:08x};1" if interface.startswith("Local/") \
            else f"{interface}-{seq:08x}"
        context = interface.partition("@")[2] if interface.startswith("Local/") else "default"
        return ChannelSnapshot(name, self.new_uniqueid(), caller.linkedid, context=context,
                               exten=caller.exten, priority=1, state=0,
                               caller_num=caller.caller_num, caller_name=caller.caller_name,
                               connected_num=caller.caller_num,
                               connected_name=caller.caller_name, language=caller.language)

    def new_uniqueid(self) -> str:
        return f"{self.epoch()}.{next(self._uniqueids)}"
