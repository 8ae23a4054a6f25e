"""An AMI server that stands in for Asterisk in tests: it speaks the
manager protocol exactly as the captures show (shared/asterisk-captures:
ami-actions.txt, ami-session.txt, ami-senddtmf.txt) and answers from a small
model of queues, channels, device states and config files.

Reply texts not in the captures are Asterisk 22.10.1's own, read in its
source (github asterisk/asterisk, tag 22.10.1); each handler names the file
its shapes come from. Only the texts are taken, not code.

Test controls besides the protocol: `emit` (an event to every logged-in
connection whose event mask takes it), `drop` (cut every connection),
`set_device_state`, `add_caller` / `remove_caller`, `add_queue`; and what
happened: `actions` (every action received, in order), `configs` (the
config files UpdateConfig wrote), `reloads`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ccdsl.runtime.asterisk.ami_protocol import fold_headers

END = b"\r\n\r\n"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
ALL_CLASSES = ("system", "call", "log", "verbose", "command", "agent", "user", "config",
               "dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc",
               "test", "security", "message")

# Asterisk's device states (include/asterisk/devicestate.h), by number as
# QueueMember's Status gives them
DEVICE_STATES = ("UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE",
                 "RINGING", "RINGINUSE", "ONHOLD")

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


def _true(value: str) -> bool:
    """Asterisk's ast_true."""
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


@dataclass
class PeerMember:
    interface: str
    name: str
    state_interface: str
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    status: int = 1  # a DEVICE_STATES index
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = field(default_factory=lambda: int(time.time()))
    in_call: int = 0
    membership: str = "dynamic"


@dataclass
class PeerCaller:
    channel: str
    uniqueid: str
    caller_num: str
    caller_name: str
    joined: float
    priority: int = 0


@dataclass
class PeerQueue:
    name: str
    strategy: str = "ringall"
    members: dict[str, PeerMember] = field(default_factory=dict)  # by interface
    callers: list[PeerCaller] = field(default_factory=list)
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0


@dataclass
class PeerChannel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    priority: int = 1
    state: int = 6  # Up
    caller_num: str = "<unknown>"
    caller_name: str = "<unknown>"
    application: str = ""
    data: str = ""
    partner: str | None = None  # the other half of a Local channel
    device: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)


@dataclass
class ConfigCategory:
    name: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (variable, value) in order


_STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}


class _Request:
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
class _Session:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    username: str = ""
    authenticated: bool = False
    events: frozenset[str] = frozenset()

    def wants(self, klass: str) -> bool:
        return self.authenticated and klass in self.events


class _Close(Exception):
    """The handler answered and the connection ends (Logoff, failed login)."""


def _message(*pairs: tuple[str, object]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode("utf-8")


class AmiPeer:
    def __init__(self, users: dict[str, str] | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, auth_failure_delay: float = 1.0,
                 dialplan: dict[str, set[str]] | None = None,
                 configs: dict[str, str] | None = None,
                 queues: tuple[str, ...] = ()) -> None:
        self.users = dict(users or {"ccf": "secret"})
        self.host = host
        self.port = port
        # Asterisk answers a wrong secret after about 1 s (captures, conn A)
        self.auth_failure_delay = auth_failure_delay
        # context -> extensions that exist, for Originate to Local/X@ctx
        # (None: every Local destination exists)
        self.dialplan = dialplan
        self.actions: list[dict[str, str | list[str]]] = []
        self.queues: dict[str, PeerQueue] = {q: PeerQueue(q) for q in queues}
        self.channels: dict[str, PeerChannel] = {}
        self.devices: dict[str, str] = {}  # device -> state name
        self.globals: dict[str, str] = {}
        self.configs: dict[str, list[ConfigCategory]] = {
            name: parse_config(text) for name, text in (configs or {}).items()}
        self.reloads: list[str] = []  # "all", a module name, or "dialplan"
        self.processed_calls = 0
        self._sessions: set[_Session] = set()
        self._server: asyncio.Server | None = None
        self._started = time.localtime()
        self._ids = itertools.count(1)
        self._local_ids = itertools.count(0x0B)

    # -- life cycle -------------------------------------------------------

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            session.writer.close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    def drop(self) -> None:
        """Cut every connection at once, as a crash or a network fault would."""
        for session in list(self._sessions):
            session.writer.transport.abort()
        self._sessions.clear()

    @property
    def logged_in(self) -> int:
        return sum(1 for s in self._sessions if s.authenticated)

    # -- events -------------------------------------------------------------

    def emit(self, event: dict[str, object]) -> None:
        """Send an event to every logged-in connection whose mask takes its
        class (from its Privilege header, else from the event's name; a
        Privilege header `<class>,all` is added when missing)."""
        pairs = [(k, str(v)) for k, v in event.items()]
        name = str(event.get("Event", ""))
        privilege = str(event.get("Privilege", ""))
        klass = privilege.split(",")[0].lower() if privilege else event_class(name)
        if not privilege:
            pairs.insert(1, ("Privilege", f"{klass},all"))
        data = _message(*pairs)
        for session in list(self._sessions):
            if session.wants(klass):
                session.writer.write(data)

    # -- model controls for tests -----------------------------------------

    def add_queue(self, name: str, strategy: str = "ringall") -> PeerQueue:
        return self.queues.setdefault(name, PeerQueue(name, strategy))

    def set_device_state(self, device: str, state: str) -> None:
        """A device changes state: DeviceStateChange, and QueueMemberStatus
        for every member whose state interface it is (app_queue does)."""
        state = state.upper()
        self.devices[device] = state
        self.emit({"Event": "DeviceStateChange", "Device": device, "State": state})
        for queue in self.queues.values():
            for member in queue.members.values():
                if member.state_interface == device:
                    member.status = DEVICE_STATES.index(state)
                    self.emit(self._member_event("QueueMemberStatus", queue, member))

    def add_caller(self, queue: str, caller_num: str = "+8613800000001",
                   caller_name: str = "Caller", priority: int = 0) -> str:
        """A call joins a queue (QueueCallerJoin); its channel name."""
        q = self.queues[queue]
        chan = self._new_channel("Local/s@ivr", "ivr", "s", caller_num, caller_name)
        q.callers.append(PeerCaller(chan.name, chan.uniqueid, caller_num, caller_name,
                                    time.monotonic(), priority))
        self.emit({"Event": "QueueCallerJoin", **self._channel_fields(chan),
                   "Queue": queue, "Position": len(q.callers), "Count": len(q.callers)})
        return chan.name

    def remove_caller(self, queue: str, channel: str) -> None:
        q = self.queues[queue]
        for pos, caller in enumerate(q.callers, 1):
            if caller.channel == channel:
                del q.callers[pos - 1]
                fields = self._channel_fields(self.channels[channel]) \
                    if channel in self.channels else {"Channel": channel}
                self.emit({"Event": "QueueCallerLeave", **fields, "Queue": queue,
                           "Position": pos, "Count": len(q.callers)})
                return
        raise KeyError(f"{channel} is not waiting in {queue}")

    def config_text(self, filename: str) -> str:
        """A config file as Asterisk would save it: `[category]` then
        `variable = value` lines."""
        out = []
        for category in self.configs[filename]:
            out.append(f"[{category.name}]")
            out.extend(f"{var} = {value}" for var, value in category.lines)
            out.append("")
        return "\n".join(out)

    # -- the protocol ------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(reader, writer)
        self._sessions.add(session)
        try:
            writer.write(BANNER)
            while True:
                try:
                    block = await reader.readuntil(END)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                request = _parse(block[:-len(END)])
                self.actions.append(request.as_dict())
                try:
                    await self._handle(session, request)
                except _Close:
                    await writer.drain()
                    return
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            self._sessions.discard(session)
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _reply(self, session: _Session, request: _Request, response: str,
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
        session.writer.write(_message(*pairs))

    def _error(self, session: _Session, request: _Request, message: str) -> None:
        self._reply(session, request, "Error", message)

    async def _handle(self, session: _Session, request: _Request) -> None:
        # main/manager.c process_message: missing Action first, then the
        # login check (Login, Logoff and Challenge pass), then the table
        action = request.get("Action")
        if not action:
            self._error(session, request, "Missing action in request")
            return
        name = action.lower()
        if not session.authenticated and name not in ("login", "logoff", "challenge"):
            self._error(session, request, "Permission denied")
            return
        handler = getattr(self, f"_action_{name}", None)
        if handler is None:
            self._error(session, request, f"Invalid/unknown command: {action}. "
                                          "Use Action: ListCommands to show available commands.")
            return
        result = handler(session, request)
        if asyncio.iscoroutine(result):
            await result

    # -- session actions (main/manager.c) ---------------------------------

    async def _action_login(self, session: _Session, request: _Request) -> None:
        user = request.get("Username")
        if user not in self.users or self.users[user] != request.get("Secret"):
            await asyncio.sleep(self.auth_failure_delay)
            self._error(session, request, "Authentication failed")
            raise _Close
        session.authenticated = True
        session.username = user
        session.events = _event_mask(request.get("Events"))
        self._reply(session, request, "Success", "Authentication accepted")
        if session.wants("system"):
            session.writer.write(_message(
                ("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", 246),
                ("LastReload", 246), ("Status", "Fully Booted")))
        if session.wants("security"):
            host, port = session.writer.get_extra_info("peername")[:2]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
            session.writer.write(_message(
                ("Event", "SuccessfulAuth"), ("Privilege", "security,all"), ("EventTV", stamp),
                ("Severity", "Informational"), ("Service", "AMI"), ("EventVersion", 1),
                ("AccountID", user), ("SessionID", f"0x{id(session):x}"),
                ("LocalAddress", f"IPV4/TCP/{self.host}/{self.port}"),
                ("RemoteAddress", f"IPV4/TCP/{host}/{port}"), ("UsingPassword", 0),
                ("SessionTV", stamp)))

    def _action_logoff(self, session: _Session, request: _Request) -> None:
        self._reply(session, request, "Goodbye", "Thanks for all the fish.")
        raise _Close

    def _action_challenge(self, session: _Session, request: _Request) -> None:
        self._reply(session, request, "Success", None,
                    ("Challenge", random.randint(100_000_000, 999_999_999)))

    def _action_ping(self, session: _Session, request: _Request) -> None:
        self._reply(session, request, "Success", None, ("Ping", "Pong"),
                    ("Timestamp", f"{time.time():.6f}"))

    def _action_corestatus(self, session: _Session, request: _Request) -> None:
        date = time.strftime("%Y-%m-%d", self._started)
        clock = time.strftime("%H:%M:%S", self._started)
        self._reply(session, request, "Success", None, ("CoreStartupDate", date),
                    ("CoreStartupTime", clock), ("CoreReloadDate", date),
                    ("CoreReloadTime", clock), ("CoreCurrentCalls", self._calls()),
                    ("CoreProcessedCalls", self.processed_calls))

    def _action_coresettings(self, session: _Session, request: _Request) -> None:
        self._reply(session, request, "Success", None, ("AMIversion", "11.0.0"),
                    ("AsteriskVersion", "22.10.1"), ("SystemName", ""), ("CoreMaxCalls", 0),
                    ("CoreMaxLoadAvg", "0.000000"), ("CoreRunUser", ""), ("CoreRunGroup", ""),
                    ("CoreMaxFilehandles", 0), ("CoreRealTimeEnabled", "No"),
                    ("CoreCDRenabled", "Yes"), ("CoreHTTPenabled", "No"),
                    ("SoundsSearchCustomDir", "No"))

    def _action_events(self, session: _Session, request: _Request) -> None:
        # main/manager.c action_events: "Events: On" / "Events: Off"
        session.events = _event_mask(request.get("EventMask"))
        self._reply(session, request, "Success", None,
                    ("Events", "On" if session.events else "Off"))

    # -- queues (apps/app_queue.c) -----------------------------------------

    def _action_queuestatus(self, session: _Session, request: _Request) -> None:
        items: list[bytes] = []
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        wanted, member_filter = request.get("Queue"), request.get("Member")
        now = time.monotonic()
        for queue in self.queues.values():
            if wanted and queue.name != wanted:
                continue
            items.append(_message(
                ("Event", "QueueParams"), ("Queue", queue.name), ("Max", 0),
                ("Strategy", queue.strategy), ("Calls", len(queue.callers)),
                ("Holdtime", queue.holdtime), ("TalkTime", queue.talktime),
                ("Completed", queue.completed), ("Abandoned", queue.abandoned),
                ("ServiceLevel", 0), ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"),
                ("Weight", 0), *tail))
            for m in queue.members.values():
                if member_filter and member_filter not in (m.name, m.interface):
                    continue
                items.append(_message(
                    ("Event", "QueueMember"), ("Queue", queue.name), ("Name", m.name),
                    ("Location", m.interface), ("StateInterface", m.state_interface),
                    ("Membership", m.membership), ("Penalty", m.penalty),
                    ("CallsTaken", m.calls_taken), ("LastCall", m.last_call),
                    ("LastPause", m.last_pause), ("LoginTime", m.login_time),
                    ("InCall", m.in_call), ("Status", m.status), ("Paused", int(m.paused)),
                    ("PausedReason", m.paused_reason), ("Wrapuptime", 0), *tail))
            for pos, c in enumerate(queue.callers, 1):
                items.append(_message(
                    ("Event", "QueueEntry"), ("Queue", queue.name), ("Position", pos),
                    ("Channel", c.channel), ("Uniqueid", c.uniqueid),
                    ("CallerIDNum", c.caller_num), ("CallerIDName", c.caller_name),
                    ("ConnectedLineNum", "unknown"), ("ConnectedLineName", "unknown"),
                    ("Wait", int(now - c.joined)), ("Priority", c.priority), *tail))
        self._list(session, request, "Queue status will follow", "QueueStatusComplete", items)

    def _action_queuesummary(self, session: _Session, request: _Request) -> None:
        items: list[bytes] = []
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        wanted = request.get("Queue")
        now = time.monotonic()
        for queue in self.queues.values():
            if wanted and queue.name != wanted:
                continue
            # app_queue manager_queues_summary: logged in = not UNAVAILABLE or
            # INVALID; available = NOT_INUSE or UNKNOWN and not paused
            logged = [m for m in queue.members.values() if m.status not in (4, 5)]
            available = [m for m in logged if m.status in (0, 1) and not m.paused]
            longest = max((int(now - c.joined) for c in queue.callers), default=0)
            items.append(_message(
                ("Event", "QueueSummary"), ("Queue", queue.name), ("LoggedIn", len(logged)),
                ("Available", len(available)), ("Callers", len(queue.callers)),
                ("HoldTime", queue.holdtime), ("TalkTime", queue.talktime),
                ("LongestHoldTime", longest), *tail))
        self._list(session, request, "Queue summary will follow", "QueueSummaryComplete", items)

    def _action_queueadd(self, session: _Session, request: _Request) -> None:
        queue_name, interface = request.get("Queue"), request.get("Interface")
        if not queue_name:
            self._error(session, request, "'Queue' not specified.")
            return
        if not interface:
            self._error(session, request, "'Interface' not specified.")
            return
        queue = self.queues.get(queue_name)
        if queue is None:
            self._error(session, request, "Unable to add interface to queue: No such queue")
            return
        if interface in queue.members:
            self._error(session, request, "Unable to add interface: Already there")
            return
        paused = _true(request.get("Paused"))
        state_interface = request.get("StateInterface") or interface
        device = self.devices.get(state_interface, "NOT_INUSE")
        member = PeerMember(
            interface, request.get("MemberName") or interface, state_interface,
            penalty=int(request.get("Penalty") or 0), paused=paused,
            paused_reason=request.get("Reason") if paused else "",
            status=DEVICE_STATES.index(device),
            last_pause=int(time.time()) if paused else 0)
        queue.members[interface] = member
        self._reply(session, request, "Success", "Added interface to queue")
        self.emit(self._member_event("QueueMemberAdded", queue, member))

    def _action_queueremove(self, session: _Session, request: _Request) -> None:
        queue_name, interface = request.get("Queue"), request.get("Interface")
        if not queue_name or not interface:
            self._error(session, request, "Need 'Queue' and 'Interface' parameters.")
            return
        queue = self.queues.get(queue_name)
        if queue is None:
            self._error(session, request, "Unable to remove interface from queue: No such queue")
            return
        member = queue.members.pop(interface, None)
        if member is None:
            self._error(session, request, "Unable to remove interface: Not there")
            return
        self._reply(session, request, "Success", "Removed interface from queue")
        self.emit(self._member_event("QueueMemberRemoved", queue, member))

    def _action_queuepause(self, session: _Session, request: _Request) -> None:
        interface, paused_text = request.get("Interface"), request.get("Paused")
        if not interface or not paused_text:
            self._error(session, request, "Need 'Interface' and 'Paused' parameters.")
            return
        paused = _true(paused_text)
        wanted = request.get("Queue")
        found = [(q, q.members[interface]) for q in self.queues.values()
                 if (not wanted or q.name == wanted) and interface in q.members]
        if not found:
            self._error(session, request, "Interface not found")
            return
        self._reply(session, request, "Success",
                    "Interface paused successfully" if paused
                    else "Interface unpaused successfully")
        for queue, member in found:
            member.paused = paused
            member.paused_reason = request.get("Reason") if paused else ""
            member.last_pause = int(time.time())
            self.emit(self._member_event("QueueMemberPause", queue, member))

    def _member_event(self, name: str, queue: PeerQueue, m: PeerMember) -> dict[str, object]:
        # queue_member_blob_create (apps/app_queue.c), in its order
        return {"Event": name, "Privilege": "agent,all", "Queue": queue.name,
                "MemberName": m.name, "Interface": m.interface,
                "StateInterface": m.state_interface, "Membership": m.membership,
                "Penalty": m.penalty, "CallsTaken": m.calls_taken, "LastCall": m.last_call,
                "LastPause": m.last_pause, "LoginTime": m.login_time, "InCall": m.in_call,
                "Status": m.status, "Paused": int(m.paused), "PausedReason": m.paused_reason,
                "Ringinuse": 1, "Wrapuptime": 0}

    def _action_devicestatelist(self, session: _Session, request: _Request) -> None:
        # res/res_manager_devicestate.c action_devicestatelist
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        items = [_message(("Event", "DeviceStateChange"), *tail, ("Device", device),
                          ("State", state)) for device, state in self.devices.items()]
        self._list(session, request, "Device State Changes will follow",
                   "DeviceStateListComplete", items)

    def _list(self, session: _Session, request: _Request, message: str, complete: str,
              items: list[bytes], *extra: tuple[str, object]) -> None:
        """astman_send_listack, the items, astman_send_list_complete_*."""
        self._reply(session, request, "Success", None, ("EventList", "start"),
                    ("Message", message))
        for item in items:
            session.writer.write(item)
        pairs: list[tuple[str, object]] = [("Event", complete)]
        if request.get("ActionID"):
            pairs.append(("ActionID", request.get("ActionID")))
        pairs += [("EventList", "Complete"), ("ListItems", len(items)), *extra]
        session.writer.write(_message(*pairs))

    # -- channels (main/manager.c) -----------------------------------------

    def _calls(self) -> int:
        return len({c.linkedid for c in self.channels.values()})

    def _channel_fields(self, chan: PeerChannel) -> dict[str, object]:
        return {"Channel": chan.name, "ChannelState": chan.state,
                "ChannelStateDesc": _STATE_DESC.get(chan.state, "Unknown"),
                "CallerIDNum": chan.caller_num, "CallerIDName": chan.caller_name,
                "ConnectedLineNum": chan.caller_num, "ConnectedLineName": chan.caller_name,
                "Language": "en", "AccountCode": "", "Context": chan.context,
                "Exten": chan.exten, "Priority": chan.priority, "Uniqueid": chan.uniqueid,
                "Linkedid": chan.linkedid}

    def _new_uniqueid(self) -> str:
        return f"{int(time.time())}.{next(self._ids)}"

    def _new_channel(self, device: str, context: str, exten: str, caller_num: str,
                     caller_name: str) -> PeerChannel:
        uid = self._new_uniqueid()
        chan = PeerChannel(f"{device}-{next(self._local_ids):08x}", uid, uid, context, exten,
                           caller_num=caller_num, caller_name=caller_name, device=device)
        self.channels[chan.name] = chan
        return chan

    def _action_coreshowchannels(self, session: _Session, request: _Request) -> None:
        action_id = request.get("ActionID")
        head = [("ActionID", action_id)] if action_id else []
        now = time.monotonic()
        items = []
        for chan in self.channels.values():
            fields = self._channel_fields(chan)
            seconds = int(now - chan.created)
            items.append(_message(
                ("Event", "CoreShowChannel"), *head, *fields.items(),
                ("Application", chan.application), ("ApplicationData", chan.data),
                ("Duration", time.strftime("%H:%M:%S", time.gmtime(seconds))),
                ("BridgeId", "")))
        self._list(session, request, "Channels will follow", "CoreShowChannelsComplete", items)

    def _action_status(self, session: _Session, request: _Request) -> None:
        wanted = request.get("Channel")
        if wanted and wanted not in self.channels:
            self._error(session, request, "No such channel")
            return
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        now = time.monotonic()
        items = []
        for chan in self.channels.values():
            if wanted and chan.name != wanted:
                continue
            items.append(_message(
                ("Event", "Status"), ("Privilege", "Call"), *self._channel_fields(chan).items(),
                ("Type", chan.name.split("/")[0]), ("DNID", ""),
                ("EffectiveConnectedLineNum", chan.caller_num),
                ("EffectiveConnectedLineName", chan.caller_name), ("TimeToHangup", 0),
                ("BridgeID", ""), ("Application", chan.application), ("Data", chan.data),
                ("Nativeformats", "(slin)"), ("Readformat", "slin"), ("Readtrans", ""),
                ("Writeformat", "slin"), ("Writetrans", ""), ("Callgroup", 0),
                ("Pickupgroup", 0), ("Seconds", int(now - chan.created)), *tail))
        self._list(session, request, "Channel status will follow", "StatusComplete", items,
                   ("Items", len(items)))

    def _variable_target(self, session: _Session, request: _Request):
        """Getvar/Setvar's checks, in manager.c's order: the variable named,
        then the channel (when one is named) existing. (ok, channel or None)."""
        if not request.get("Variable"):
            self._error(session, request, "No variable specified")
            return False, None
        name = request.get("Channel")
        chan = self.channels.get(name) if name else None
        if name and chan is None:
            self._error(session, request, "No such channel")
            return False, None
        return True, chan

    def _action_getvar(self, session: _Session, request: _Request) -> None:
        ok, chan = self._variable_target(session, request)
        if not ok:
            return
        variable = request.get("Variable")
        if chan is not None:
            functions = {"CALLERID(num)": chan.caller_num, "CALLERID(name)": chan.caller_name,
                         "CHANNEL(name)": chan.name, "UNIQUEID": chan.uniqueid}
            value = functions.get(variable, chan.variables.get(variable, ""))
        else:
            value = self.globals.get(variable, "")
        self._reply(session, request, "Success", None, ("Variable", variable), ("Value", value))

    def _action_setvar(self, session: _Session, request: _Request) -> None:
        ok, chan = self._variable_target(session, request)
        if not ok:
            return
        variable = request.get("Variable")
        if chan is not None:
            chan.variables[variable] = request.get("Value")
        else:
            self.globals[variable] = request.get("Value")
        self._reply(session, request, "Success", "Variable Set")

    async def _action_originate(self, session: _Session, request: _Request) -> None:
        target = request.get("Channel")
        if not target:
            self._error(session, request, "Channel not specified")
            return
        caller_name, caller_num = _callerid(request.get("CallerID"))
        ok = self._reachable(target)
        asynchronous = _true(request.get("Async"))
        if asynchronous:
            self._reply(session, request, "Success", "Originate successfully queued")
            await asyncio.sleep(0)
        chan = self._originate(request, target, caller_num, caller_name) if ok else None
        if not asynchronous:
            if chan is None:
                self._error(session, request, "Originate failed")
            else:
                self._reply(session, request, "Success", "Originate successfully queued")
            return
        # main/manager.c fast_originate: the OriginateResponse event
        app = request.get("Application")
        fields: dict[str, object] = {"Event": "OriginateResponse", "Privilege": "call,all"}
        if request.get("ActionID"):
            fields["ActionID"] = request.get("ActionID")
        fields["Response"] = "Success" if chan else "Failure"
        fields["Channel"] = chan.name if chan else target
        if app:
            fields["Application"], fields["Data"] = app, request.get("Data")
        else:
            fields["Context"], fields["Exten"] = request.get("Context"), request.get("Exten")
        fields["Reason"] = 4 if chan else 0
        fields["Uniqueid"] = chan.uniqueid if chan else "<unknown>"
        fields["CallerIDNum"] = caller_num or "<unknown>"
        fields["CallerIDName"] = caller_name or "<unknown>"
        self.emit(fields)

    def _reachable(self, target: str) -> bool:
        if target.startswith("Local/"):
            exten, _, context = target[len("Local/"):].partition("@")
            return self.dialplan is None or exten in self.dialplan.get(context, set())
        return self.devices.get(target, "NOT_INUSE") not in ("UNAVAILABLE", "INVALID")

    def _originate(self, request: _Request, target: str, caller_num: str,
                   caller_name: str) -> PeerChannel:
        """The channels an answered Originate leaves: a Local pair (;1 runs
        the application, ;2 the dialplan) or one channel."""
        self.processed_calls += 1
        num, name = caller_num or "<unknown>", caller_name or "<unknown>"
        if target.startswith("Local/"):
            exten, _, context = target[len("Local/"):].partition("@")
            base = f"{target}-{next(self._local_ids):08x}"
            one_id, two_id = self._new_uniqueid(), self._new_uniqueid()
            one = PeerChannel(f"{base};1", one_id, one_id, context, exten, caller_num=num,
                              caller_name=name, partner=f"{base};2", device=target)
            two = PeerChannel(f"{base};2", two_id, one_id, context, exten, caller_num=num,
                              caller_name=name, partner=f"{base};1", device=target)
            made = [one, two]
        else:
            one = self._new_channel(target, request.get("Context") or "default",
                                    request.get("Exten") or "s", num, name)
            made = [one]
        one.application, one.data = request.get("Application"), request.get("Data")
        for assignment in _all(request, "Variable"):
            var, _, value = assignment.partition("=")
            one.variables[var] = value
        for chan in made:
            self.channels[chan.name] = chan
            self.emit({"Event": "Newchannel", **self._channel_fields(chan)})
        self.devices[target] = "INUSE"
        self.emit({"Event": "DeviceStateChange", "Device": target, "State": "INUSE"})
        return one

    def _action_redirect(self, session: _Session, request: _Request) -> None:
        name = request.get("Channel")
        if not name:
            self._error(session, request, "Channel not specified")
            return
        if not request.get("Exten"):
            self._error(session, request, "Exten not specified")
            return
        chan = self.channels.get(name)
        if chan is None:
            self._error(session, request, f"Channel does not exist: {name}")
            return
        chan.context = request.get("Context") or chan.context
        chan.exten = request.get("Exten")
        chan.priority = int(request.get("Priority") or 1)
        self._reply(session, request, "Success", "Redirect successful")

    def _action_hangup(self, session: _Session, request: _Request) -> None:
        name = request.get("Channel")
        if not name:
            self._error(session, request, "No channel specified")
            return
        chan = self.channels.get(name)
        if chan is None:
            self._error(session, request, "No such channel")
            return
        self._reply(session, request, "Success", "Channel Hungup")
        cause = request.get("Cause") or "16"
        self.hangup(chan.name, int(cause) if cause.isdigit() else 16)

    def hangup(self, name: str, cause: int = 16) -> None:
        """A channel (and its Local partner) hangs up: Hangup events and,
        when the device has no channel left, DeviceStateChange NOT_INUSE."""
        chan = self.channels.pop(name)
        gone = [chan]
        if chan.partner and chan.partner in self.channels:
            gone.append(self.channels.pop(chan.partner))
        text = "Normal Clearing" if cause == 16 else "Unknown"
        for c in gone:
            for queue in self.queues.values():
                queue.callers = [x for x in queue.callers if x.channel != c.name]
            self.emit({"Event": "Hangup", **self._channel_fields(c), "Cause": cause,
                       "Cause-txt": text})
        if not any(c.device == chan.device for c in self.channels.values()):
            self.devices[chan.device] = "NOT_INUSE"
            self.emit({"Event": "DeviceStateChange", "Device": chan.device,
                       "State": "NOT_INUSE"})

    def _action_playdtmf(self, session: _Session, request: _Request) -> None:
        # apps/app_senddtmf.c manager_play_dtmf
        chan = self.channels.get(request.get("Channel"))
        if chan is None:
            self._error(session, request, "Channel not found")
            return
        digit = request.get("Digit")
        if not digit:
            self._error(session, request, "No digit specified")
            return
        self._reply(session, request, "Success", "DTMF successfully queued")
        # the digit shows up on the other half of a Local pair, as received
        target = self.channels.get(chan.partner or "", chan)
        fields = self._channel_fields(target)
        self.emit({"Event": "DTMFBegin", **fields, "Digit": digit[0], "Direction": "Received"})
        self.emit({"Event": "DTMFEnd", **fields, "Digit": digit[0],
                   "DurationMs": request.get("Duration") or 100, "Direction": "Received"})

    def _action_userevent(self, session: _Session, request: _Request) -> None:
        # main/manager.c action_userevent: every header but Action and
        # UserEvent goes into the event, ActionID included
        self._reply(session, request, "Success", "Event Sent")
        fields: dict[str, object] = {"Event": "UserEvent", "Privilege": "user,all",
                                     "UserEvent": request.get("UserEvent")}
        for key, value in request.pairs:
            if key.lower() not in ("action", "userevent"):
                fields[key] = value
        self.emit(fields)

    # -- CLI (main/manager.c action_command) ------------------------------

    def _action_command(self, session: _Session, request: _Request) -> None:
        cli = " ".join(request.get("Command").split())
        if not cli:
            self._error(session, request, "No command provided")
            return
        lines = self._cli(cli)
        if lines is None:
            words = cli.split()
            # main/cli.c: "No such command '%s' (type 'core show help %s' for
            # other possible commands)"; Asterisk names the words up to the
            # first one no command starts with; two words is what it named
            # in the captures, an approximation of its full command table
            hint = " ".join(words[:2])
            self._reply(session, request, "Error", "Command output follows",
                        ("Output", f"No such command '{cli}' (type 'core show help {hint}' "
                                   "for other possible commands)"))
            return
        self._reply(session, request, "Success", "Command output follows",
                    *[("Output", line) for line in lines])

    def _cli(self, cli: str) -> list[str] | None:
        if cli == "core show version":
            return ["Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on "
                    "2026-11-26 00:19:46 UTC"]
        if cli == "core show channels":
            head = (f"{'Channel':<64} {'Location':<32} {'State':<7} "
                    f"{'Application(Data)':<30}")
            rows = [f"{c.name[:64]:<64} {f'{c.exten}@{c.context}:{c.priority}'[:32]:<32} "
                    f"{_STATE_DESC.get(c.state, 'Unknown')[:7]:<7} "
                    f"{f'{c.application}({c.data})'[:30]:<30}" for c in self.channels.values()]
            calls = self._calls()
            return [head, *rows, f"{len(self.channels)} active channels",
                    f"{calls} active call{'' if calls == 1 else 's'}",
                    f"{self.processed_calls} calls processed"]
        if cli == "dialplan reload":
            # pbx/pbx_config.c handle_cli_dialplan_reload: "Dialplan reloaded.\n"
            self.reloads.append("dialplan")
            return ["Dialplan reloaded."]
        return None

    def _action_reload(self, session: _Session, request: _Request) -> None:
        # main/manager.c action_reload: "Module Reloaded" on success
        self.reloads.append(request.get("Module") or "all")
        self._reply(session, request, "Success", "Module Reloaded")

    # -- config files (main/manager.c) -------------------------------------

    def _action_createconfig(self, session: _Session, request: _Request) -> None:
        # action_createconfig: "New configuration file created successfully";
        # an existing file is an error with strerror(EEXIST)
        name = request.get("Filename").strip()
        if not name:
            self._error(session, request, "Filename not specified")
            return
        if name in self.configs:
            self._error(session, request, "File exists")
            return
        self.configs[name] = []
        self._reply(session, request, "Success", "New configuration file created successfully")

    def _action_getconfig(self, session: _Session, request: _Request) -> None:
        # action_getconfig: astman_start_ack, then Category-NNNNNN and
        # Line-NNNNNN-NNNNNN: var=value per category
        name = request.get("Filename")
        if not name:
            self._error(session, request, "Filename not specified")
            return
        if name not in self.configs:
            self._error(session, request, "Config file not found")
            return
        pairs: list[tuple[str, object]] = []
        wanted = request.get("Category")
        shown = [c for c in self.configs[name] if not wanted or c.name == wanted]
        for n, category in enumerate(shown):
            pairs.append((f"Category-{n:06d}", category.name))
            for k, (var, value) in enumerate(category.lines):
                pairs.append((f"Line-{n:06d}-{k:06d}", f"{var}={value}"))
        self._reply(session, request, "Success", None, *pairs)

    def _action_updateconfig(self, session: _Session, request: _Request) -> None:
        # action_updateconfig and handle_updates: the numbered actions run in
        # order on a copy; the first failure answers with its message and
        # nothing is saved; success is astman_send_ack with no Message
        source, dest = request.get("SrcFilename"), request.get("DstFilename")
        if not source or not dest:
            self._error(session, request, "Filename not specified")
            return
        if source not in self.configs:
            self._error(session, request, "Config file not found")
            return
        config = [ConfigCategory(c.name, list(c.lines)) for c in self.configs[source]]
        problem = _apply_updates(config, request)
        if problem:
            self._error(session, request, problem)
            return
        self.configs[dest] = config
        self._reply(session, request, "Success")
        reload = request.get("Reload")
        if reload and _true(reload):
            self.reloads.append("all")
        elif reload and reload.strip().lower() not in ("no", "false", "n", "f", "0", "off"):
            self.reloads.append(reload)


def _apply_updates(config: list[ConfigCategory], request: _Request) -> str | None:
    """handle_updates (main/manager.c): Action-NNNNNN with Cat-, Var-,
    Value-, Match- of the same number, from 000000 until one is missing.
    The error texts are action_updateconfig's."""
    for n in range(100_000):
        action = request.get(f"Action-{n:06d}").lower()
        if not action:
            return None
        cat = request.get(f"Cat-{n:06d}")
        if not cat:
            return "Category not specified"
        var, value = request.get(f"Var-{n:06d}"), request.get(f"Value-{n:06d}")
        if value.startswith(">"):  # object (=>) assignment
            value = value[1:]
        found = [c for c in config if c.name == cat]
        if action == "newcat":
            if found:
                return "Create category did not complete successfully"
            config.append(ConfigCategory(cat))
        elif action == "delcat":
            if not found:
                return "Given category does not exist"
            config[:] = [c for c in config if c.name != cat]
        elif action == "emptycat":
            if not found:
                return "Given category does not exist"
            for c in found:
                c.lines.clear()
        elif action == "append":
            if not var:
                return "Problem with category, value, or line (if required)"
            if not found:
                return "Given category does not exist"
            for c in found:
                c.lines.append((var, value))
        elif action == "update":
            if not var:
                return "Problem with category, value, or line (if required)"
            if not found:
                return "Given category does not exist"
            done = False
            for c in found:
                for i, (name, _) in enumerate(c.lines):
                    if name == var:
                        c.lines[i] = (var, value)
                        done = True
            if not done:
                return "Update did not complete successfully"
        elif action == "delete":
            if not var:
                return "Problem with category, value, or line (if required)"
            if not found:
                return "Given category does not exist"
            before = sum(len(c.lines) for c in found)
            for c in found:
                c.lines = [(k, v) for k, v in c.lines if k != var]
            if sum(len(c.lines) for c in found) == before:
                return "Update did not complete successfully"
        else:
            return "Unknown action command"
    return None


def parse_config(text: str) -> list[ConfigCategory]:
    """`[category]` and `var = value` / `var => value` lines; `;` comments."""
    out: list[ConfigCategory] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and "]" in line:
            out.append(ConfigCategory(line[1:line.index("]")]))
            continue
        var, sep, value = line.partition("=")
        if not sep or not out:
            continue
        out[-1].lines.append((var.strip(), value.lstrip(">").strip()))
    return out


def _parse(block: bytes) -> _Request:
    pairs = []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon and name:
            pairs.append((name.strip(), value.strip()))
    return _Request(pairs)


def _all(request: _Request, name: str) -> list[str]:
    return [v for k, v in request.pairs if k.lower() == name.lower()]


def _event_mask(text: str) -> frozenset[str]:
    """Login's Events header (main/manager.c set_eventmask): absent or on
    = every class, off = none, else the named classes."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if not words or words == ["on"] or "all" in words:
        return frozenset(ALL_CLASSES)
    if words == ["off"]:
        return frozenset()
    return frozenset(words)


def _callerid(text: str) -> tuple[str, str]:
    """`Bob <+8613900000002>` -> ("Bob", "+8613900000002")."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, num = text[:-1].partition("<")
        return name.strip().strip('"'), num.strip()
    return "", text


@contextlib.contextmanager
def peer_in_thread(peer: AmiPeer | None = None) -> Iterator[AmiPeer]:
    """Run the peer on an event loop of its own thread, for code that runs
    its own `asyncio.run` (an in-process `ccf deploy`, `ccf monitor`, `ccf
    callback` in a test): started on entry, stopped on exit."""
    peer = peer or AmiPeer(auth_failure_delay=0.01)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ami-peer", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(peer.start(), loop).result(5)
        yield peer
    finally:
        asyncio.run_coroutine_threadsafe(peer.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
