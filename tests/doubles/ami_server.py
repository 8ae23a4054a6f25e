"""An AMI server that stands in for Asterisk in tests: the listener, the sessions and the dispatch.

It speaks the manager protocol as the captures show it (shared/asterisk-captures:
ami-actions.txt, ami-session.txt, ami-senddtmf.txt); replies not in the captures
are Asterisk 22.10.1's own texts, read in its source (texts only, no code).
The wire is ami_wire, the simulated Asterisk ami_state (its queues the app_queue
model of ccdsl.runtime.testing.peer, whose calls' channels ami_queue_calls
announces), the actions ami_actions, ami_queues and
ami_config; ami_thread runs a peer on a thread of its own, ami_sync keeps a
virtual-time Queue() in step with the AMI link reading its events.

Test controls besides the protocol: `emit`, `drop`, `set_device_state`,
`add_caller` / `remove_caller`, `add_queue`, `hangup`; `app_queue`, the queues,
members, pauses and phones (who answers) that a FastAGI peer's Queue() rings
(SimBackend(app_queue=peer.app_queue)); and what happened: `actions` (every
action received, in order), `configs`, `reloads`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

from ccdsl.runtime.testing.peer.app_queue import AppQueue
from doubles.ami_actions import Actions
from doubles.ami_config import ConfigActions, ConfigCategory, parse_config
from doubles.ami_control import ControlActions
from doubles.ami_queue_calls import QueueCallChannels
from doubles.ami_queues import QueueActions
from doubles.ami_state import PeerChannel
from doubles.ami_wire import (
    BANNER,
    END,
    Close,
    Request,
    Session,
    error,
    event_class,
    frame,
    parse_request,
)


class AmiPeer(Actions, QueueActions, ConfigActions, ControlActions, QueueCallChannels):
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
        # app_queue: what a queues.conf (load_conf, or Reload after UpdateConfig)
        # and QueueAdd set up; its events go out as this peer's, with the
        # call's channel and bridge events Asterisk sends around them
        # (ami_queue_calls)
        self.app_queue = AppQueue()
        # looked up at each event: a test may put its own emit in place
        self.app_queue.listeners.append(lambda event: self.on_app_queue(event))
        for queue in queues:
            self.app_queue.add_queue(queue)
        self.channels: dict[str, PeerChannel] = {}
        self.devices: dict[str, str] = {}  # device -> state name
        self.ringing = {}  # hand-made rings (AsteriskState.agent_called)
        self.globals: dict[str, str] = {}
        self.configs: dict[str, list[ConfigCategory]] = {
            name: parse_config(text) for name, text in (configs or {}).items()}
        self.reloads: list[str] = []  # "all", a module name, or "dialplan"
        self.processed_calls = 0
        # an originated Dial's outcome per dial string (first Data field):
        # ANSWER (the default), NOANSWER, BUSY... or CHANUNAVAIL, which, as on
        # Asterisk 22 with no such channel driver, gives no Dial events at all
        self.dial_status: dict[str, str] = {}
        # the console's call control (ami_control): bridged pairs, muted
        # channels, the attended-transfer key (None: features.conf has none)
        self.bridges: dict[str, str] = {}
        self.mixmonitor_mutes: dict[str, bool] = {}  # channel -> muted (MixMonitorMute)
        self.muted: dict[str, bool] = {}
        self.atxfer_code: str | None = "*2"
        # a queued call's channels (ami_queue_calls): the member channels
        # ringing per caller channel, and each bridged channel's bridge
        self.queue_rings: dict[str, list[str]] = {}
        self.bridge_ids: dict[str, str] = {}
        self._sessions: set[Session] = set()
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
        data = frame(*pairs)
        for session in list(self._sessions):
            if session.wants(klass):
                session.writer.write(data)

    # -- the protocol ------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(reader, writer)
        self._sessions.add(session)
        try:
            writer.write(BANNER)
            while True:
                try:
                    block = await reader.readuntil(END)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                request = parse_request(block[:-len(END)])
                self.actions.append(request.as_dict())
                try:
                    await self._handle(session, request)
                except Close:
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

    async def _handle(self, session: Session, request: Request) -> None:
        # main/manager.c process_message: missing Action first, then the
        # login check (Login, Logoff and Challenge pass), then the table
        action = request.get("Action")
        if not action:
            error(session, request, "Missing action in request")
            return
        name = action.lower()
        if not session.authenticated and name not in ("login", "logoff", "challenge"):
            error(session, request, "Permission denied")
            return
        handler = getattr(self, f"_action_{name}", None)
        if handler is None:
            error(session, request, f"Invalid/unknown command: {action}. "
                                          "Use Action: ListCommands to show available commands.")
            return
        result = handler(session, request)
        if asyncio.iscoroutine(result):
            await result
