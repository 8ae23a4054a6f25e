"""AsteriskControl: the console's CentreControl on ccf serve's live AMI link (queues, call control).

Every value reaching an AMI header or the dialplan is checked by names.py first. Must not
own agents' states (runtime/operations/agent_desk.py does) nor open AMI links of its own.
docs/asterisk.md "The console's call control" says what each action sends and why.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ccdsl.runtime.asterisk import dialplan, names
from ccdsl.runtime.asterisk.agi_media import SAFE_PATH
from ccdsl.runtime.asterisk.ami import (
    AmiLink,
    OriginateResponses,
    originate,
    originate_failure,
)
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage
from ccdsl.runtime.asterisk.callback import (
    AmiOriginator,
    CallbackError,
    make_plan,
    run_callback,
    server_of_call,
)
from ccdsl.runtime.asterisk.config import CentreConfig
from ccdsl.runtime.asterisk.console_agents import SkillsError, check_skills, save_skills
from ccdsl.runtime.asterisk.monitor import (
    CHANNEL_NAME,
    Mode,
    MonitorError,
    agent_interfaces,
    find_agent_leg,
    monitor_over,
    record_monitoring,
)
from ccdsl.runtime.asterisk.pause import pause_headers
from ccdsl.runtime.asterisk.tts import TtsError, TtsRenderer
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.operations.centre_control import (
    MONITOR_MODES,
    ControlError,
    Target,
    one_of,
)
from ccdsl.runtime.operations.store import CallStore

RING_S = 30  # how long a party added to a call rings
MAX_READ = 1000  # characters of a text read to the caller
_REASON = re.compile(r"[A-Za-z0-9 _.,:-]{1,60}")
# replies that mean "already as asked" (apps/app_queue.c)
_ALREADY_MEMBER = "Already there"
_NOT_MEMBER = "Not there"


async def _on(link: AmiLink, action: str, fine: tuple[str, ...],
              headers: dict[str, object]) -> AmiMessage:
    """One action on one link; an Error reply not in `fine` is a ControlError."""
    try:
        reply = await link.action(action, **headers)
    except AmiError as exc:
        raise ControlError(f"Asterisk did not answer {action}: {exc}", 503) from None
    if not reply.ok and not any(word in (reply.message or "") for word in fine):
        raise ControlError(f"Asterisk refused {action}: {reply.message or 'no reason'}")
    return reply


class AsteriskControl:
    """CentreControl on Asterisk (module doc).

    ami: ccf serve's logged-in link, or None while it is down.
    centre: the AmiCentre routing reads; changed at once by every action.
    queues: Asterisk queue name -> the skills its members need (StoreFlows.queues()).
    running: call id -> server.RunningCall, or None.
    crm: the centre's CRM for call-backs (None: the caller's number is rung).
    on_event must receive the link's events (OriginateResponse, DialEnd, Hangup).
    With several Asterisk servers (ami_union.py): `links()` is every link up by its
    server's name ("" for the single [ami]), where an agent's queue membership changes
    (ccf serve makes agents members on each) and a call-back rings its call's server, and
    `route(channel, call_id)` the link of the server that reported a channel of that call,
    where an action on it goes; both default to the one `ami` link.
    """

    mode = "asterisk"

    def __init__(self, config: CentreConfig, *, ami: Callable[[], AmiLink | None],
                 centre: AmiCentre, queues: Callable[[], dict[str, dict[str, int]]],
                 tts: TtsRenderer, store: CallStore, running: Callable[[str], object | None],
                 crm: Any = None, now: Callable[[], datetime] | None = None,
                 links: Callable[[], Mapping[str, AmiLink]] | None = None,
                 route: Callable[[str, str | None], AmiLink | None] | None = None) -> None:
        self.config = config
        self.ami = ami
        self.links = links or (lambda: {"": link} if (link := ami()) is not None else {})
        self.route = route or (lambda _channel, _call=None: ami())
        self.centre = centre
        self.queues = queues
        self.tts = tts
        self.store = store
        self.running = running
        self.crm = crm
        self.now = now or (lambda: datetime.now().astimezone())
        self._listeners: set[Callable[[AmiMessage], Any]] = set()
        # call id -> the hold music's Local channel, and the link of the server it plays on
        self._holds: dict[str, tuple[str, AmiLink]] = {}
        # device -> agent id, for finding a call's agent leg (the agents do not change)
        self._interfaces = agent_interfaces(centre.interface_template, config.agents.agents)

    def on_event(self, message: AmiMessage) -> None:
        """Every event of ccf serve's link (its on_event calls this)."""
        if self._listeners:  # mostly none: this runs for every AMI event
            for listener in list(self._listeners):
                listener(message)

    # -- the link and its replies -------------------------------------------------------

    def _link(self, channel: str | None = None, call: str | None = None) -> AmiLink:
        """The link an action goes through: the server of `channel` (of `call`) when given."""
        link = self.ami() if channel is None else self.route(channel, call)
        if link is None or not link.connected:
            raise ControlError("Asterisk is not reachable: ccf serve has no AMI link now "
                               "(it reconnects by itself; check [ami] in ccf.toml)", 503)
        return link

    def _callback_link(self, server: str | None) -> AmiLink:
        """A call-back's link: the server its call came in on, when that link is up; else
        the first up."""
        mine = self.links().get(server) if server else None
        return mine if mine is not None and mine.connected else self._link()

    async def _act(self, action: str, *fine: str, call: str | None = None,
                   link: AmiLink | None = None, **headers: object) -> AmiMessage:
        """One action, on `link`, else on the server of its Channel header (of the call
        `call`) if it has one; an Error reply not in `fine` is a ControlError."""
        channel = headers.get("Channel")
        return await _on(link or self._link(str(channel) if channel else None, call), action,
                         fine, headers)

    async def _act_everywhere(self, action: str, *fine: str,
                              **headers: object) -> list[AmiMessage]:
        """One action on every server's link (an agent's queue membership); the replies."""
        if not self.links():
            self._link()  # the ControlError saying no link is up
        return [await _on(link, action, fine, headers) for link in self.links().values()]

    async def _originate(self, what: str, ring_s: float, *, spied: str | None = None,
                         call: str | None = None, **headers: object) -> AmiMessage:
        """An async Originate and its OriginateResponse (answered); on the server of the
        channel `spied` of the call `call` (a ChanSpy reaches its own server's channels)."""
        link = self._link(spied, call)
        responses = OriginateResponses()
        self._listeners.add(responses.on_event)
        wait_s = ring_s + link.timeout
        try:
            reply, event = await originate(
                link, responses, wait_s=wait_s,
                ActionID=f"ccf-console-{secrets.token_hex(4)}", **headers, Async="true")
        except AmiError as exc:
            raise ControlError(f"Asterisk did not answer the Originate to {what}: {exc}",
                               503) from None
        finally:
            self._listeners.discard(responses.on_event)
        problem = originate_failure(reply, event, wait_s, refused=f"Asterisk refused to {what}",
                                    silent=f"Asterisk did not say whether it could {what}",
                                    failed=f"could not {what}")
        if problem is not None:
            raise ControlError(problem)
        return event

    # -- agents --------------------------------------------------------------------------

    def _agent(self, agent_id: str) -> tuple[Agent, str]:
        agent = self.centre.agent(agent_id) if isinstance(agent_id, str) else None
        if agent is None:
            raise ControlError(f"no agent {agent_id!r} in the agents file", 404)
        try:
            return agent, names.agent_interface(self.centre.interface_template, agent.id,
                                                agent.extension)
        except names.UnsafeValue as exc:
            raise ControlError(f"agent {agent_id} cannot be reached on Asterisk: {exc}", 400) \
                from None

    async def _add(self, agent: Agent, interface: str, queue: str) -> None:
        await self._act_everywhere("QueueAdd", _ALREADY_MEMBER, Queue=queue,
                                   Interface=interface, MemberName=agent.id,
                                   StateInterface=interface, Paused="false")

    async def _remove(self, interface: str, queue: str) -> None:
        replies = await self._act_everywhere("QueueRemove", _NOT_MEMBER, "No such queue",
                                             "not dynamic", Queue=queue, Interface=interface)
        if any("not dynamic" in (reply.message or "") for reply in replies):
            raise ControlError(f"{interface} is a static member of {queue} (a `member =>` "
                               "line in queues.conf): Asterisk only removes members added "
                               "through AMI")

    async def agent_login(self, agent: str) -> None:
        found, interface = self._agent(agent)
        fits = [q for q, skills in self.queues().items() if found.has_skills(dict(skills))]
        for queue in fits:
            await self._add(found, interface, queue)
        self.centre.note_login(found.id, fits)

    async def agent_logout(self, agent: str) -> None:
        found, interface = self._agent(agent)
        for queue in sorted(set(self.queues()) | set(self.centre.member_queues(found.id))):
            await self._remove(interface, queue)
        self.centre.note_logout(found.id)

    async def agent_pause(self, agent: str, paused: bool, reason: str | None) -> None:
        found, interface = self._agent(agent)
        if paused and reason and not _REASON.fullmatch(reason):
            raise ControlError(f"the pause reason {reason!r} may only use letters, "
                               "digits, spaces and _ . , : - (at most 60)", 400)
        replies = await self._act_everywhere("QueuePause", "Interface not found",
                                             **pause_headers(interface, paused, reason=reason))
        if not any(reply.ok for reply in replies):
            raise ControlError(f"agent {found.id} ({interface}) is a member of no queue on "
                               "Asterisk: log in first")
        self.centre.note_paused(found.id, paused)

    async def set_skills(self, agent: str, skills: dict[str, int]) -> None:
        found, interface = self._agent(agent)
        try:
            levels = check_skills(skills)
        except SkillsError as exc:
            raise ControlError(str(exc), 400) from None
        path = self.config.agents.file
        if not path:
            raise ControlError("ccf.toml names no agents file ([agents] file): the skills "
                               "cannot be saved")
        try:
            save_skills(path, found.id, levels)
        except SkillsError as exc:
            raise ControlError(str(exc)) from None
        self.centre.note_skills(found.id, levels)
        if not self.centre.is_logged_in(found.id):
            return
        for queue, needed in self.queues().items():
            member = all(levels.get(s, -1) >= level for s, level in needed.items())
            if member:
                await self._add(found, interface, queue)
            else:
                await self._remove(interface, queue)
            self.centre.note_member(found.id, queue, member)

    # -- a call's channels -----------------------------------------------------------------

    def _caller(self, call_id: str) -> str:
        if not isinstance(call_id, str) or not names.CALL_ID.fullmatch(call_id):
            raise ControlError(f"{call_id!r} is not a call id", 400)
        call = self.running(call_id)
        if call is None:
            raise ControlError(f"no call {call_id} running on ccf serve: it has ended or the "
                               "id is wrong", 404)
        channel = getattr(getattr(call, "info", None), "channel", None) or ""
        if not CHANNEL_NAME.fullmatch(channel):
            raise ControlError(f"call {call_id} has no channel name AMI can take "
                               f"({channel!r})", 400)
        return channel

    def _agent_leg(self, call_id: str, *, needed: str | None = None) -> str | None:
        """The agent's channel of the call (monitor.find_agent_leg over the
        AMI mirror's channels); None, or a ControlError saying `needed`."""
        try:
            return find_agent_leg(self.centre.channels.values(), call_id,
                                  self._interfaces).channel
        except MonitorError as exc:
            if needed is None:
                return None
            raise ControlError(f"cannot {needed}: {exc}") from None

    async def hangup(self, call_id: str) -> None:
        caller = self._caller(call_id)
        leg = self._agent_leg(call_id)
        await self._act("Hangup", "No such channel", call=call_id, Channel=caller)
        if leg is not None:
            await self._act("Hangup", "No such channel", call=call_id, Channel=leg)

    async def hold(self, call_id: str, on: bool) -> None:
        """Hold keeps the conversation's bridge (and the flow's AGI): both
        sides muted (MuteAudio), music whispered to the caller by ChanSpy w
        from a Local channel in ccf-console-hold; resuming undoes both."""
        caller = self._caller(call_id)
        leg = self._agent_leg(call_id, needed="hold the call")
        if on == (call_id in self._holds):
            return
        state = "on" if on else "off"
        if on:
            await self._act("MuteAudio", call=call_id, Channel=caller, Direction="in", State=state)
            await self._act("MuteAudio", call=call_id, Channel=leg, Direction="in", State=state)
            event = await self._originate(
                "play the hold music", 5, spied=caller, call=call_id,
                Channel=f"Local/s@{dialplan.CONSOLE_HOLD}",
                Application="ChanSpy", Data=f"{caller},qw", CallerID="Hold <hold>")
            self._holds[call_id] = (event.get("Channel") or "", self._link(caller, call_id))
            return
        music, where = self._holds.pop(call_id)
        if music:  # its Local name may be another server's too: ended where it was made
            await self._act("Hangup", "No such channel", link=where, Channel=music)
        await self._act("MuteAudio", call=call_id, Channel=caller, Direction="in", State=state)
        await self._act("MuteAudio", call=call_id, Channel=leg, Direction="in", State=state)

    def _destination(self, target: Target, *, attended: bool) -> tuple[str, str]:
        """(context, exten) a transfer goes to."""
        if target.kind == "agent":
            agent, _ = self._agent(target.value)
            return dialplan.CONSOLE_AGENT, self._digits(agent.extension)
        if target.kind == "queue":
            if attended:
                raise ControlError("an attended transfer goes to an agent or a number; "
                                   "transfer to a queue blind", 400)
            queue = names.queue_name(target.value)
            if queue not in self.queues():
                raise ControlError(f"no queue {target.value!r} in the deployed flows", 404)
            return dialplan.CONSOLE_QUEUE, queue
        if target.kind == "number":
            number = self._digits(target.value)
            if attended and number.startswith("+"):
                # Atxfer keys the extension in as DTMF, which has no `+`
                raise ControlError("an attended transfer dials the number as keys: give it "
                                   "without the +, as the trunk dials it", 400)
            return names.TRANSFER_CONTEXT, number
        raise ControlError(f"{target.kind!r} is not a kind of target", 400)

    @staticmethod
    def _digits(value: str) -> str:
        try:
            return names.diallable(value)
        except names.UnsafeValue as exc:
            raise ControlError(str(exc), 400) from None

    async def transfer(self, call_id: str, target: Target, mode: str) -> None:
        if mode not in ("blind", "attended"):
            raise ControlError(f"{mode!r} is not a transfer: blind or attended", 400)
        caller = self._caller(call_id)
        context, exten = self._destination(target, attended=mode == "attended")
        if mode == "attended":
            leg = self._agent_leg(call_id, needed="transfer attended")
            reply = await self._act("Atxfer", "No attended transfer feature code",
                                    call=call_id, Channel=leg, Exten=exten, Context=context)
            if not reply.ok:
                raise ControlError("Asterisk has no attended-transfer key: set `atxfer => *2` "
                                   "under [featuremap] in features.conf")
            return
        leg = self._agent_leg(call_id)
        if leg is not None:  # the agent's side transfers: the caller goes, the agent is free
            await self._act("BlindTransfer", call=call_id, Channel=leg, Exten=exten,
                            Context=context)
        else:  # still in the flow or a queue: the caller's channel moves
            await self._act("Redirect", call=call_id, Channel=caller, Exten=exten,
                            Context=context, Priority=1)

    async def add_party(self, call_id: str, target: Target) -> None:
        caller = self._caller(call_id)
        self._agent_leg(call_id, needed="add a party")
        if target.kind == "agent":
            _, device = self._agent(target.value)
        elif target.kind == "number":
            device = self.config.outbound_interface.format(number=self._digits(target.value))
        else:
            raise ControlError("a queue cannot join a call: add an agent or a number", 400)
        await self._originate(f"ring {device}", RING_S, spied=caller, call=call_id, Channel=device,
                              Application="ChanSpy",
                              Data=f"{caller},qB", CallerID=f"Conference <{call_id}>",
                              Timeout=RING_S * 1000)

    async def read_to_caller(self, call_id: str, text: str, language: str) -> None:
        caller = self._caller(call_id)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_READ:
            raise ControlError(f"the text to read must have 1 to {MAX_READ} characters", 400)
        if not isinstance(language, str) or not names.LANGUAGE_TAG.fullmatch(language):
            raise ControlError(f"{language!r} is not a language tag such as zh-CN", 400)
        try:
            file = await self.tts.render(text, language)
        except TtsError as exc:
            raise ControlError(f"the text could not be spoken: {exc}", 503) from None
        if not SAFE_PATH.fullmatch(file):
            raise ControlError(f"the speech file {file!r} has characters Playback cannot "
                               "take ([paths] tts_cache)", 400)
        await self._originate("read the text into the call", 5, spied=caller, call=call_id,
                              Channel=f"Local/s@{dialplan.CONSOLE_READ}",
                              Application="ChanSpy", Data=f"{caller},qB",
                              CallerID="Read <read>",
                              Variable=f"{dialplan.READ_FILE_VAR}={file}")

    # -- what ccf monitor and ccf callback do -----------------------------------------------

    async def monitor(self, call_id: str, supervisor: str, mode: str) -> dict[str, Any]:
        caller = self._caller(call_id)
        one_of(mode, MONITOR_MODES, "monitor mode")
        link = self._link(caller, call_id)
        responses = OriginateResponses()
        self._listeners.add(responses.on_event)
        try:
            session = await monitor_over(link, responses, self.centre.channels.values(), call_id,
                                         str(supervisor), Mode(mode),
                                         interface=self.centre.interface_template,
                                         agents=self.config.agents.agents)
        except MonitorError as exc:
            raise ControlError(str(exc)) from None
        except AmiError as exc:
            raise ControlError(f"Asterisk did not answer: {exc}", 503) from None
        finally:
            self._listeners.discard(responses.on_event)
        record_monitoring(self.store, session, self.now())
        return session.to_json()

    async def callback(self, voicemail_call_id: str, agent: str,
                       number: str | None = None) -> dict[str, Any]:
        # a read of the call store (a PostgreSQL round trip): off the event loop
        came_in_on = await asyncio.to_thread(server_of_call, self.store, voicemail_call_id)
        self._callback_link(came_in_on)
        try:
            plan = await make_plan(self.store, voicemail_call_id, agent,
                                   self.config.agents.agents, self.crm, number=number)
        except CallbackError as exc:
            raise ControlError(str(exc), 404) from None
        mine: list[Callable] = []

        async def connect(on_event: Callable) -> AmiLink:
            link = self._callback_link(came_in_on)
            mine.append(on_event)
            self._listeners.add(on_event)
            return link

        def release(_link: AmiLink) -> None:
            for listener in mine:
                self._listeners.discard(listener)

        originator = AmiOriginator(connect, agent_interface=self.config.agents.interface,
                                   outbound_interface=self.config.outbound_interface,
                                   timeout_s=self.config.ami.timeout_s, release=release)
        try:
            outcome = await run_callback(plan, originator, self.store, self.crm, now=self.now)
        except CallbackError as exc:
            raise ControlError(str(exc), 503) from None
        result = outcome.result
        # dial_status only once the agent answered (what the customer's line
        # did): the in-queue dialler tells the two sides' failures by it
        extra = {k: result.details[k] for k in ("dial_status", "uniqueid")
                 if k in result.details}
        return {"call_id": plan.call_id, "agent": plan.agent.id, "number": plan.number,
                "status": result.status, "reason": result.reason,
                "steps": [text for _, text in result.steps], "task": outcome.task_update,
                **extra}
