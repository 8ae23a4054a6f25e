"""Call-backs: `ccf callback CALL --agent AGENT` rings the agent, then the customer.

Must not decide anything the plan does not say; docs/asterisk.md "Call-backs, in detail"
describes the plan, the run and the two originators (AMI, simulated).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.ami import OriginateResponses, originate, originate_reason
from ccdsl.runtime.asterisk.ami_protocol import AmiError, CentreCommandError
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.values import Record
from ccdsl.runtime.operations.agents_file import AgentSpec, agent_named
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_ids import base_of

TASK_TYPE = "callback_task"
AGENT_RING_MS = 30_000  # how long the agent's phone rings
CUSTOMER_RING_S = 60  # how long Dial() rings the customer


class CallbackError(CentreCommandError):
    """A call-back that cannot be planned or placed, with the reason.
    `unreachable`: Asterisk's AMI did not answer (`ccf callback` exits 4)."""


@dataclass(frozen=True)
class CallbackPlan:
    call_id: str
    agent: AgentSpec
    number: str  # the customer's number, diallable
    customer_id: str | None
    task: Record | None  # the CRM's callback_task for the call, if any
    mailbox: str | None  # the message the call left, if it left one
    voicemail_file: str | None
    notes: tuple[str, ...] = ()  # what the plan could not learn (a CRM that failed)


@dataclass(frozen=True)
class CallbackResult:
    status: str  # done | failed
    reason: str
    steps: tuple[tuple[int, str], ...] = ()  # (ms since the start, what happened)
    details: dict[str, Any] = field(default_factory=dict)  # ActionID, Uniqueid, channel...

    @property
    def ok(self) -> bool:
        return self.status == "done"


# -- the plan -----------------------------------------------------------------------------


async def make_plan(store: CallStore, call_id: str, agent_id: str,
                    agents: Sequence[AgentSpec], crm: Any = None,
                    number: str | None = None) -> CallbackPlan:
    """`number`: the one to call (an in-queue call-back's request names
    it); None: the CRM task's, else the caller's."""
    record = store.call(call_id)
    if record is None:
        raise CallbackError(f"no call or voicemail {call_id!r} in the call store {store.path} "
                            "(`ccf calls list` and `ccf voicemail list` show the ids)",
                            unknown=True)
    agent = agent_named(agents, agent_id, CallbackError)
    task, notes = None, []
    if crm is not None:
        try:
            task = await crm.find(TASK_TYPE, {"call": call_id})
        except ExternalError as exc:
            notes.append(f"the CRM's call-back task was not looked up: {exc}")
    phone = number or (task.fields.get("phone") if task is not None else None) \
        or record["caller"]
    if not phone:
        raise CallbackError(f"call {call_id} has no number to call back (the caller's number "
                            "was withheld and no call-back task names one)")
    try:
        number = names.diallable(str(phone))
    except names.UnsafeValue as exc:
        raise CallbackError(f"call {call_id}: {exc}") from None
    customer = record["customer_id"] or (task.fields.get("customer") if task else None)
    return CallbackPlan(call_id=call_id, agent=agent, number=number,
                        customer_id=None if customer is None else str(customer), task=task,
                        mailbox=record["voicemail_mailbox"],
                        voicemail_file=record["voicemail_file"], notes=tuple(notes))


# -- placing it ---------------------------------------------------------------------------


# what a Dial's DIALSTATUS says of the customer's line
DIAL_STATUS = {"NOANSWER": "did not answer", "BUSY": "was busy",
               "CHANUNAVAIL": "could not be rung", "CONGESTION": "was congested",
               "CANCEL": "was given up by the agent's line"}


class CustomerDial:
    """The customer's leg of a call-back: the DialEnd or the Hangup of the
    agent's channel that runs Dial() (by its Uniqueid). On Asterisk 22 a
    Dial that cannot create the customer's channel sends no Dial event: the
    agent's channel only hangs up."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}  # Uniqueid -> DialStatus, or "hangup"
        self._changed = asyncio.Event()

    def on_event(self, message) -> None:
        uniqueid = message.get("Uniqueid")
        if not uniqueid:
            return
        if message.event == "DialEnd" and message.get("DialStatus"):
            self._seen[uniqueid] = message.get("DialStatus").upper()
        elif message.event == "Hangup":
            self._seen.setdefault(uniqueid, "hangup")
        else:
            return
        self._changed.set()

    async def outcome(self, uniqueid: str, wait_s: float) -> str | None:
        """ANSWER, another DIALSTATUS, "hangup", or None after wait_s."""
        async def seen() -> str:
            while uniqueid not in self._seen:
                self._changed.clear()
                await self._changed.wait()
            return self._seen[uniqueid]

        try:
            return await asyncio.wait_for(seen(), wait_s)
        except TimeoutError:
            return None


class AmiOriginator:
    """Places the call-back through Asterisk's AMI (module doc). `connect`
    gives a started runtime.asterisk.ami.AmiLink whose events go to the
    callback it is given; `release(link)` ends its use when the call-back's
    outcome is known (default: close it; ccf serve's console, on its live
    link, only stops listening)."""

    def __init__(self, connect: Callable[[Callable], Any], *, agent_interface: str,
                 outbound_interface: str, timeout_s: float = 5.0,
                 agent_ring_ms: int = AGENT_RING_MS,
                 release: Callable[[Any], Any] | None = None) -> None:
        self.connect = connect
        self.release = release
        self.agent_interface = agent_interface
        self.outbound_interface = outbound_interface
        self.timeout_s = timeout_s
        self.agent_ring_ms = agent_ring_ms

    def headers(self, plan: CallbackPlan, action_id: str) -> dict[str, Any]:
        """The Originate action's headers, in the order they are sent."""
        try:
            channel = names.agent_interface(self.agent_interface, plan.agent.id,
                                            plan.agent.extension)
        except names.UnsafeValue as exc:
            raise CallbackError(f"agent {plan.agent.id} cannot be rung: {exc}") from None
        customer = self.outbound_interface.format(number=plan.number)
        return {"ActionID": action_id, "Channel": channel, "Application": "Dial",
                "Data": f"{customer},{CUSTOMER_RING_S}",
                "CallerID": f"Call-back <{plan.number}>", "Timeout": self.agent_ring_ms,
                "Async": True, "Variable": f"CCF_CALLBACK={names.file_part(plan.call_id)}"}

    async def place(self, plan: CallbackPlan) -> CallbackResult:
        action_id = f"ccf-callback-{uuid.uuid4().hex[:12]}"
        headers = self.headers(plan, action_id)
        responses = OriginateResponses()
        customer = CustomerDial()
        started = time.monotonic()

        def on_event(message) -> None:
            responses.on_event(message)
            customer.on_event(message)

        def ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            link = await self.connect(on_event)
        except (AmiError, OSError, TimeoutError) as exc:
            raise CallbackError(f"cannot reach Asterisk's AMI: {exc or type(exc).__name__}; "
                                "nothing was placed", unreachable=True) from None
        steps = [(ms(), f"Originate {headers['Channel']} -> Dial({headers['Data']}), "
                        f"ActionID {action_id}")]
        wait_s = self.agent_ring_ms / 1000 + self.timeout_s
        dialled = None
        try:
            try:
                reply, response = await originate(link, responses, wait_s=wait_s, **headers)
            except AmiError as exc:
                raise CallbackError(f"the Originate was not sent: {exc}") from None
            answered_ms = ms()
            if response is not None and (response.get("Response") or "").lower() == "success":
                # the agent answered; Dial() now rings the customer on the agent's channel
                dialled = await customer.outcome(response.get("Uniqueid") or "",
                                                 CUSTOMER_RING_S + self.timeout_s)
            dialled_ms = ms()
        finally:
            try:
                done = link.close() if self.release is None else self.release(link)
                if done is not None:
                    await asyncio.wait_for(done, self.timeout_s)
            except (AmiError, OSError, TimeoutError):
                pass  # the outcome is known; a link that will not close changes nothing
        if not reply.ok:
            return CallbackResult("failed", f"Asterisk refused the Originate: "
                                  f"{reply.message or 'no reason given'}", tuple(steps),
                                  {"action_id": action_id})
        steps.append((answered_ms, f"Asterisk: {reply.message or 'queued'}; ringing agent "
                                   f"{plan.agent.id}"))
        if response is None:
            return CallbackResult("failed", f"no OriginateResponse from Asterisk within "
                                  f"{wait_s:g} s", tuple(steps), {"action_id": action_id})
        details = {"action_id": action_id, "channel": response.get("Channel"),
                   "uniqueid": response.get("Uniqueid"), "reason_code": response.get("Reason")}
        if (response.get("Response") or "").lower() == "success":
            steps.append((answered_ms, f"agent {plan.agent.id} answered; Asterisk dials "
                                       f"{plan.number}"))
            details["dial_status"] = dialled
            if dialled == "ANSWER":
                steps.append((dialled_ms, f"the customer at {plan.number} answered"))
                return CallbackResult("done", f"agent {plan.agent.id} reached the customer at "
                                      f"{plan.number}", tuple(steps), details)
            if dialled is None:
                why = f"gave no Dial outcome within {CUSTOMER_RING_S + self.timeout_s:g} s"
            elif dialled == "hangup":
                why = "could not be rung (the agent's line ended with no Dial)"
            else:
                why = DIAL_STATUS.get(dialled, f"was not reached (DIALSTATUS {dialled})")
            steps.append((dialled_ms, f"the customer at {plan.number} {why}"))
            return CallbackResult("failed", f"the customer at {plan.number} {why}",
                                  tuple(steps), details)
        code = _int(response.get("Reason"))
        steps.append((ms(), f"OriginateResponse: {response.get('Response')}, reason {code}"))
        return CallbackResult("failed", f"the agent's phone {originate_reason(response)} "
                              f"(OriginateResponse {response.get('Response')}, Reason {code})",
                              tuple(steps), details)


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


class SimOriginator:
    """The call-back in the simulator, on a virtual clock (module doc)."""

    def __init__(self, clock, *, customer_answer_ms: int | None = 5000,
                 agent_ring_ms: int = AGENT_RING_MS,
                 customer_ring_ms: int = CUSTOMER_RING_S * 1000) -> None:
        self.clock = clock
        self.customer_answer_ms = customer_answer_ms
        self.agent_ring_ms = agent_ring_ms
        self.customer_ring_ms = customer_ring_ms

    async def place(self, plan: CallbackPlan) -> CallbackResult:
        start = self.clock.now()
        agent = plan.agent
        steps: list[tuple[int, str]] = []

        def at() -> int:
            return int((self.clock.now() - start).total_seconds() * 1000)

        def failed(reason: str, **details: Any) -> CallbackResult:
            steps.append((at(), f"call-back failed: {reason}"))
            return CallbackResult("failed", reason, tuple(steps),
                                  {"simulated": True, **details})

        if agent.state in ("logged_off", "paused", "busy"):
            state = "offline" if agent.state == "logged_off" else agent.state
            return failed(f"agent {agent.id} is {state}")
        steps.append((at(), f"rings agent {agent.id}"
                            + (f" (extension {agent.extension})" if agent.extension else "")))
        answer = agent.answer_after_ms
        if answer is None or answer >= self.agent_ring_ms:
            await self.clock.sleep(self.agent_ring_ms)
            return failed(f"agent {agent.id} did not answer within "
                          f"{self.agent_ring_ms / 1000:g}s")
        await self.clock.sleep(answer)
        steps.append((at(), f"agent {agent.id} answers"))
        steps.append((at(), f"dials the customer at {plan.number}"))
        customer = self.customer_answer_ms
        if customer is None or customer >= self.customer_ring_ms:
            await self.clock.sleep(self.customer_ring_ms)
            # as Asterisk's Dial says it once the agent answered
            return failed(f"the customer at {plan.number} did not answer within "
                          f"{self.customer_ring_ms / 1000:g}s", dial_status="NOANSWER")
        await self.clock.sleep(customer)
        steps.append((at(), f"the customer answers: agent {agent.id} is talking to "
                            f"{plan.number}"))
        return CallbackResult("done", f"agent {agent.id} reached the customer at "
                              f"{plan.number}", tuple(steps),
                              {"simulated": True, "dial_status": "ANSWER"})


# -- which Asterisk server places it (several [[asterisk]] servers) ----------------------


def server_of_call(store: Any, call_id: str) -> str | None:
    """The [[asterisk]] server the call came in on, as the AMI events ccf serve kept for it
    say (centre_events data `ccf_server`); None when none were kept (one server, or a store
    that cannot be queried)."""
    query = getattr(store, "query", None)
    if query is None:
        return None
    rows = query("SELECT data FROM centre_events WHERE call_id = ? AND source = 'ami' "
                 "ORDER BY id LIMIT 50", (base_of(call_id),))
    for row in rows:
        try:
            server = json.loads(row["data"]).get("ccf_server")
        except (ValueError, AttributeError):
            continue
        if server:
            return str(server)
    return None


def servers_in_turn(servers: Sequence[Any], first: str | None) -> list[Any]:
    """The servers a call-back tries, in order: the one the call came in on, then the
    others in the config's order (the first that logs in places it)."""
    return sorted(servers, key=lambda s: s.name != first) if first else list(servers)


async def connect_first(servers: Sequence[Any], on_event: Callable, chosen: list[str]) -> Any:
    """A started AMI link (events of class call: OriginateResponse) to the first of the
    servers that logs in; its label appended to `chosen`. AmiError naming each server's
    reason when none does."""
    from ccdsl.runtime.asterisk.ami import AmiLink

    failures = []
    for server in servers:
        ami = server.ami
        link = AmiLink(ami.host, ami.port, ami.user, ami.secret, on_event=on_event,
                       timeout=ami.timeout_s, ping_interval=None, events="call")
        try:
            await asyncio.wait_for(link.start(), ami.timeout_s * 2)
        except (AmiError, OSError, TimeoutError) as exc:
            await _close_quietly(link)
            if len(servers) == 1:
                raise
            failures.append(f"{server.label}: {str(exc) or type(exc).__name__}")
            continue
        except BaseException:
            await _close_quietly(link)
            raise
        chosen.append(server.label)
        return link
    raise AmiError("; ".join(failures))


async def _close_quietly(link: Any) -> None:
    try:
        await asyncio.wait_for(link.close(), 5)
    except Exception:  # closing after a failure: nothing more to report
        pass


# -- the whole call-back ------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackOutcome:
    plan: CallbackPlan
    result: CallbackResult
    task_update: str | None  # what happened to the CRM task (None: there is none)


async def run_callback(plan: CallbackPlan, originator: Any, store: CallStore, crm: Any = None,
                       *, now: Callable[[], datetime] | None = None,
                       source: str = "ccf") -> CallbackOutcome:
    """Place the call-back, record it in the call store and update the
    CRM's task. CallbackError when it could not be placed at all (nothing
    is recorded then)."""
    result = await originator.place(plan)
    moment = (now or (lambda: datetime.now().astimezone()))()
    data = {"agent": plan.agent.id, "number": plan.number, "customer": plan.customer_id,
            "status": result.status, "reason": result.reason,
            "task": None if plan.task is None else plan.task.id, **result.details}
    store.record_centre_event(source, "callback", data, moment, call_id=plan.call_id)
    store.flush()
    update = None
    if plan.task is not None and source == "sim":
        update = f"CRM task {plan.task.id} left as it is (a simulated call-back rang no one)"
    elif plan.task is not None and crm is not None:
        try:
            await crm.update(plan.task, {"status": result.status,
                                         "called_back_by": plan.agent.id,
                                         "called_back_at": moment})
            update = f"CRM task {plan.task.id}: status {result.status}"
        except ExternalError as exc:
            update = f"CRM task {plan.task.id} not updated: {exc}"
    return CallbackOutcome(plan, result, update)
