"""Ops that bring people in: route, queue, transfer, three_way, and the agent-answered callback.

Decides nothing itself: runtime/core/routing.py decides, this module evaluates each rule
line and does what the decision says through the channel.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ccdsl.options import QUEUE_AUTOPAUSE, QUEUE_STRATEGIES
from ccdsl.runtime.core.builtins.external import crm_call
from ccdsl.runtime.core.call import (
    CallRuntime,
    FlowHangup,
    Frame,
    GotoStep,
    LeftFlow,
    OpFn,
    SubReturn,
    eval_in,
    text_value,
)
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import (
    Conversation,
    DialTarget,
    OnAnswer,
    QueueOutcome,
    QueueRequest,
    QueueRing,
)
from ccdsl.runtime.core.errors import (
    CallHandedBack,
    CallHungUp,
    ExternalError,
    FlowError,
    StepBudgetExceeded,
)
from ccdsl.runtime.core.evaluate import described, evaluate, is_number, kind_of, truthy
from ccdsl.runtime.core.ops import in_queue
from ccdsl.runtime.core.ops.media import ms_of, option, sounds_of
from ccdsl.runtime.core.ops.parties import after_party, party_callback
from ccdsl.runtime.core.queue_values import member_skills, queue_named, route_target, skills_option
from ccdsl.runtime.core.routing import AgentPool, Decision, RuleLine, decide
from ccdsl.runtime.core.values import Record, Ref, to_text

# the strategy of a queue whose IR has none (IR 1.0, before the `strategy`
# option): the longest idle agent first, the order runtime/core/routing.py uses too
IR_1_0_STRATEGY = "leastrecent"
# the autopause of a queue whose IR has none (before IR 1.3): app_queue's own default
IR_1_2_AUTOPAUSE = "no"


def agent_pool(rt: CallRuntime) -> AgentPool:
    """The centre's agents as the routing engine's pool: the centre itself
    or its `pool` when it keeps one, else a snapshot of its agents."""
    centre = rt.services.centre
    if isinstance(centre, AgentPool):
        return centre
    pool = getattr(centre, "pool", None)
    if isinstance(pool, AgentPool):
        return pool
    return AgentPool(centre.agents())


# -- agents answering ----------------------------------------------------------------


def answer_callback(rt: CallRuntime, via: str, offered_at: Any,
                    loc: dict | None, rings: QueueRings | None = None) -> OnAnswer:
    async def on_answer(agent_id: str) -> None:
        started = rings.answered(agent_id) if rings is not None else None
        since = offered_at if started is None else started
        ring_ms = int((rt.services.clock.now() - since) / timedelta(milliseconds=1))
        rt.talked_to_agent = True
        rt.agent = agent_id
        if via == "queue" and started is None:  # the line reported no ring of this agent
            rt.emit("agent_offered", {"agent": agent_id, "via": "queue", "queue": rt.queue},
                    loc)
        rt.emit("agent_answered", {"agent": agent_id, "ring_ms": ring_ms, "via": via}, loc)
        await run_answered_handler(rt, agent_id)
    return on_answer


class QueueRings:
    """The rings of queue members one queue wait reports (the line's
    OnRing): each ring that starts is an `agent_offered` (via queue), each
    that rings out an `agent_no_answer`, as a dial's ring is an offer. The
    answer closes the wait: a ring reported after it (an AMI event late
    behind the answer) is not a new offer."""

    def __init__(self, rt: CallRuntime, queue: str, loc: dict | None) -> None:
        self.rt = rt
        self.queue = queue
        self.loc = loc
        self.ringing: dict[str, Any] = {}  # agent -> when its ring started
        self.done = False

    def __call__(self, ring: QueueRing) -> None:
        if self.done or not ring.agent:
            return
        rt = self.rt
        if ring.status == "ringing":
            if ring.agent in self.ringing:
                return
            self.ringing[ring.agent] = rt.services.clock.now()
            rt.emit("agent_offered", {"agent": ring.agent, "via": "queue",
                                      "queue": self.queue}, self.loc)
        elif ring.status == "no_answer" and self.ringing.pop(ring.agent, None) is not None:
            rt.emit("agent_no_answer", {"agent": ring.agent, "via": "queue",
                                        "queue": self.queue, "ring_ms": ring.ring_ms},
                    self.loc)

    def answered(self, agent_id: str) -> Any:
        """The agent answered: when its reported ring started (None: no
        ring of it was reported); later reports are ignored."""
        self.done = True
        started = self.ringing.get(agent_id)
        self.ringing.clear()
        return started


async def run_answered_handler(rt: CallRuntime, agent_id: str) -> None:
    """`on answered by agent`, with `agent` bound. It runs while the agent's
    line is being connected, so it may not end or divert the call: a goto,
    hangup, transfer or return there is reported and ignored; a failure is
    reported and the conversation goes on. A caller hang-up propagates."""
    handler = rt.program.handler("answered_by_agent")
    if handler is None:
        return
    rt.answering_agent = agent_id
    rt.emit("handler_entered", {"handler": "answered_by_agent", "agent": agent_id},
            handler["loc"])
    try:
        # nested like a sub-flow: it runs inside a channel call, inside the
        # route or queue op, inside whatever sub-flows led there
        await rt.nested(rt.run_body(handler["body"], rt.call_frame))
    except StepBudgetExceeded:
        raise
    except (ExternalError, FlowError) as err:
        rt.emit_error(err, handled=False, handler="answered_by_agent")
    except (GotoStep, SubReturn, FlowHangup, LeftFlow) as signal:
        rt.emit("error", {"message": "`on answered by agent` cannot end or divert the call; "
                                     f"its {type(signal).__name__} was ignored",
                          "kind": "flow", "where": getattr(signal, "loc", None),
                          "handled": True, "handler": "answered_by_agent"},
                getattr(signal, "loc", None))
    finally:
        rt.answering_agent = None


def after_conversation(rt: CallRuntime, conversation: Conversation | None,
                       loc: dict | None) -> None:
    """Record a finished conversation; the caller hanging up during it ends
    the call, an agent's transfer takes it out of the flow."""
    if conversation is None:
        return
    rt.talk_ms += conversation.talk_ms
    form = rt.program.wrapup is not None and bool(conversation.agent)
    # `wrapup`: a form follows (wrapup_requested), so a desk knows at once
    # whether the agent wraps up or is free
    rt.emit("conversation_ended", {"agent": conversation.agent, "talk_ms": conversation.talk_ms,
                                   "ended_by": conversation.ended_by, "wrapup": form}, loc)
    if form:
        fields = [f["name"] for f in rt.program.wrapup["fields"]]
        # only the form's own fields: a desktop cannot add columns to the reports
        values = {k: v for k, v in (conversation.wrapup or {}).items() if k in fields}
        rt.wrapup = {"agent": conversation.agent, "fields": fields, "values": values or None}
        # `form`: the declared types too, so a wrap-up entered later (ccf wrapup,
        # the HTTP API) is checked against the flow's form without its source
        rt.emit("wrapup_requested", {"agent": conversation.agent, "fields": fields,
                                     "form": rt.program.wrapup["fields"]}, loc)
    if conversation.ended_by == "caller":
        raise CallHungUp("the caller hung up during the conversation")
    if conversation.ended_by == "transfer":
        rt.emit("transfer", {"target": conversation.agent, "kind": "agent", "mode": "blind",
                             "status": "transferred", "by": "agent"}, loc)
        raise LeftFlow()


def handed_back_talking(rt: CallRuntime, back: CallHandedBack, loc: dict | None) -> None:
    """The call was handed back to the dialplan while its caller talked to
    an agent (`ccf serve` stopping): the conversation so far is recorded,
    ended by the hand-back (the talk goes on in Asterisk, unseen)."""
    if back.talk_ms is None:
        return
    rt.talk_ms += back.talk_ms
    rt.emit("conversation_ended", {"agent": rt.agent, "talk_ms": back.talk_ms,
                                   "ended_by": "handed_back"}, loc)


async def dial_agent(rt: CallRuntime, agent_id: str, extension: str | None,
                     ring_ms: int | None, via: str, loc: dict | None) -> bool:
    """Ring one agent; True when they answered (the conversation is over
    by the time this returns)."""
    offered_at = rt.services.clock.now()
    rt.emit("agent_offered", {"agent": agent_id, "via": "dial"}, loc)
    target = DialTarget("agent", agent_id, extension)
    try:
        outcome = await rt.line().dial(
            target, ring_ms=ring_ms or rt.services.config.default_ring_ms,
            on_answer=answer_callback(rt, via, offered_at, loc))
    except CallHandedBack as back:
        handed_back_talking(rt, back, loc)
        raise
    except CallHungUp:
        rt.abandoned = not rt.talked_to_agent
        raise
    if outcome.status != "answered":
        return False
    after_conversation(rt, outcome.conversation, loc)
    return True


# -- queues ---------------------------------------------------------------------------


def _choice(values: dict, name: str, default: str, allowed, queue: str, decl: dict) -> str:
    """A queue option with fixed choices; an IR older than the option has
    none, which means `default`."""
    value = values.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise FlowError(f"queue {queue}: {name} {to_text(value)!r} is not one of "
                        + ", ".join(allowed), decl["loc"])
    return value


async def queue_request(rt: CallRuntime, queue: str, overrides: dict, frame: Frame,
                        loc: dict | None) -> QueueRequest:
    """The declared queue's options, each replaced by the op's or rule's
    when that one is not null."""
    decl = rt.program.queues.get(queue)
    if decl is None:
        raise FlowError(f"no queue named `{queue}`", loc)
    values: dict[str, Any] = {}
    for name in decl["options"]:
        values[name] = await option(rt, decl["options"], name, rt.call_frame, decl["loc"])
    for name, expr in overrides.items():
        if expr is not None:
            values[name] = await option(rt, overrides, name, frame, loc)
    priority = values.get("priority")
    if priority is not None and not is_number(priority):
        raise FlowError(f"a queue priority must be a number, not {kind_of(priority)}", loc)
    music = values.get("music")
    strategy = _choice(values, "strategy", IR_1_0_STRATEGY, QUEUE_STRATEGIES, queue, decl)
    autopause = _choice(values, "autopause", IR_1_2_AUTOPAUSE, QUEUE_AUTOPAUSE, queue, decl)
    return QueueRequest(
        queue=queue, priority=int(priority or 0),
        skills=skills_option(values.get("skills"), f"queue {queue}: the option `skills`", loc),
        max_wait_ms=ms_of(values.get("max_wait"), "max_wait", loc),
        music=None if music is None else to_text(music),
        announce_position_ms=ms_of(values.get("announce_position"), "announce_position", loc),
        strategy=strategy, ring_ms=ms_of(values.get("ring"), "ring", loc), autopause=autopause,
        member_skills=member_skills(rt.program, queue),
        **await in_queue.wait_settings(rt, decl, rt.call_frame))


async def wait_in_queue(rt: CallRuntime, request: QueueRequest, loc: dict | None) -> QueueOutcome:
    centre = rt.services.centre
    joined_at = rt.services.clock.now()
    rt.queue = request.queue
    rt.emit("queue_joined", {"queue": request.queue, "priority": request.priority,
                             "position": centre.queue_waiting(request.queue) + 1,
                             "skills": dict(request.skills), "max_wait_ms": request.max_wait_ms},
            loc, at=joined_at)  # one moment: the place a call-back keeps is this event's
    rt.queue_joined_at = joined_at  # call.queue_wait counts it while the caller waits
    try:
        rings = QueueRings(rt, request.queue, loc)
        outcome = await rt.line().enqueue(
            request, on_answer=answer_callback(rt, "queue", joined_at, loc, rings),
            on_ring=rings, **in_queue.announcing(rt, request, loc))
    except CallHandedBack as back:
        waited = int((rt.services.clock.now() - joined_at) / timedelta(milliseconds=1))
        if back.talk_ms is not None:  # an agent had answered: the visit was answered
            wait = back.wait_ms if back.wait_ms is not None else waited
            rt.queue_wait_ms += wait
            rt.emit("queue_left", {"queue": request.queue, "outcome": "answered",
                                   "wait_ms": wait, "agent": rt.agent}, loc)
            handed_back_talking(rt, back, loc)
        elif not rt.talked_to_agent:  # still waiting: the caller stays queued in Asterisk
            rt.queue_wait_ms += waited
            rt.emit("queue_left", {"queue": request.queue, "outcome": "handed_back",
                                   "wait_ms": waited}, loc)
        raise
    except CallHungUp:
        waited = int((rt.services.clock.now() - joined_at) / timedelta(milliseconds=1))
        if not rt.talked_to_agent:
            rt.abandoned = True
            rt.queue_wait_ms += waited
            rt.emit("queue_left", {"queue": request.queue, "outcome": "hangup",
                                   "wait_ms": waited}, loc)
        raise
    finally:
        rt.queue_joined_at = None
    rt.queue_wait_ms += outcome.wait_ms
    # stamped when the wait the line measured ended, so the visit's length in the
    # reports (left minus joined) and the stored wait_ms are one figure, however late
    # the line's replies came back (never after now: the line started at or after joined_at)
    left_at = min(joined_at + timedelta(milliseconds=outcome.wait_ms), rt.services.clock.now())
    rt.emit("queue_left", {"queue": request.queue, "outcome": outcome.status,
                           "wait_ms": outcome.wait_ms, "position": outcome.position,
                           "reason": outcome.reason}, loc, at=left_at)
    if outcome.status == "answered":
        after_conversation(rt, outcome.conversation, loc)
    elif outcome.status == "key":
        await in_queue.after_key(rt, request, outcome, joined_at, loc)
    return outcome


def _queue_name(value: Any, loc: dict | None) -> str:
    if isinstance(value, Ref) and value.kind == "queue":
        return value.name
    raise FlowError(f"a queue was expected, not {described(value)}", loc)


async def op_queue(rt: CallRuntime, op: dict, frame: Frame) -> None:
    queue = op.get("queue") or queue_named(await evaluate(op["value"], frame, op["loc"]),
                                           rt.program.queues, "`queue`", op["loc"])
    request = await queue_request(rt, queue, op["options"], frame, op["loc"])
    await wait_in_queue(rt, request, op["loc"])


# -- routing ---------------------------------------------------------------------------


async def _owner(rt: CallRuntime, value: Any, loc: dict | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, Record):
        raise FlowError(f"`owner of` needs a customer record, not {kind_of(value)}", loc)
    if value.get("owner"):
        return to_text(value.get("owner"))
    try:
        owner = await crm_call(rt, "owner", {"customer": value},
                               lambda: rt.services.crm.owner(value), loc)
    except ExternalError as err:
        # a CRM that fails here costs the caller this line, not the route
        rt.emit_error(err, handled=True, loc=loc)
        return None
    return None if owner is None else to_text(owner)


async def _last_agent(rt: CallRuntime, value: Any, within: Any, loc: dict | None) -> str | None:
    phone = value.get("number") if isinstance(value, Record) else value
    if phone is None:
        return None
    within_ms = ms_of(within, "within", loc, longest=None)
    try:
        since = rt.services.clock.now() - timedelta(milliseconds=within_ms) if within_ms else None
    except OverflowError:  # a look-back past the calendar's start: the caller's whole history
        since = None
    return rt.services.history.last_agent(to_text(phone), since=since)


async def rule_line(rt: CallRuntime, rule: dict, index: int, frame: Frame) -> RuleLine:
    """Evaluate one routing line into the routing engine's RuleLine."""
    loc, kind, options = rule["loc"], rule["kind"], rule["options"]
    if rule.get("when") is not None and not truthy(await evaluate(rule["when"], frame, loc),
                                                   loc, "a routing `when`"):
        return RuleLine(kind, applies=False, index=index)
    ring_ms = ms_of(await option(rt, options, "ring", frame, loc), "ring", loc)
    value = await evaluate(rule["target"], frame, loc)
    if kind == "owner":
        return RuleLine(kind, await _owner(rt, value, loc), ring_ms=ring_ms, index=index)
    if kind == "last_agent":
        within = await option(rt, options, "within", frame, loc)
        return RuleLine(kind, await _last_agent(rt, value, within, loc), ring_ms=ring_ms,
                        index=index)
    if kind == "agent":
        return RuleLine(kind, None if value is None else to_text(value), ring_ms=ring_ms,
                        index=index)
    if kind == "skills":
        return RuleLine(kind, skills=skills_option(value, "the routing line `skills`", loc),
                        ring_ms=ring_ms, index=index)
    if kind == "queue":
        priority = await option(rt, options, "priority", frame, loc)
        return RuleLine(kind, None if value is None else _queue_name(value, loc),
                        skills=skills_option(await option(rt, options, "skills", frame, loc),
                                             "the routing line `queue`: the option `skills`", loc),
                        priority=int(priority) if is_number(priority) else 0,
                        max_wait_ms=ms_of(await option(rt, options, "max_wait", frame, loc),
                                          "max_wait", loc), index=index)
    raise FlowError(f"unknown routing line kind `{kind}`", loc)


def _decision_event(rt: CallRuntime, routing: str, line: RuleLine, decision: Decision,
                    outcome: str, reason: str, loc: dict | None) -> None:
    rt.emit("routing_decision", {"routing": routing, "rule": line.index, "kind": line.kind,
                                 "outcome": outcome, "reason": reason,
                                 "agent": decision.agent, "queue": decision.queue}, loc)


async def try_rule(rt: CallRuntime, name: str, frame: Frame, loc: dict | None) -> list | None:
    """Try routing rule `name`'s lines in order until one takes the call;
    return its `otherwise` ops (None when it has none) for route_rule to
    run, the caller being still in the flow (a hang-up raises instead)."""
    rule = rt.program.routing.get(name)
    if rule is None:
        raise FlowError(f"no routing rule named `{name}`", loc)
    rung: set[str] = set()
    centre = rt.services.centre
    for index, raw in enumerate(rule["rules"]):
        line = await rule_line(rt, raw, index, frame)
        decision = decide(line, agent_pool(rt), exclude=rung, waiting=centre.queue_waiting)
        _decision_event(rt, name, line, decision, decision.action, decision.reason, raw["loc"])
        if decision.action == "skip":
            continue
        if decision.action == "dial":
            assert decision.agent is not None  # decide() names the agent of every dial
            if await dial_agent(rt, decision.agent, decision.extension, decision.ring_ms,
                                "route", raw["loc"]):
                break
            rung.add(decision.agent)
            _decision_event(rt, name, line, decision, "no_answer",
                            f"{decision.agent} did not answer", raw["loc"])
            continue
        overrides = {k: raw["options"].get(k) for k in ("priority", "skills", "max_wait")}
        request = await queue_request(rt, decision.queue or "", overrides, frame, raw["loc"])
        outcome = await wait_in_queue(rt, request, raw["loc"])
        if outcome.status == "answered":
            break
        _decision_event(rt, name, line, decision, outcome.status,
                        f"queue {decision.queue}: {outcome.status}"
                        + (f" ({outcome.reason})" if outcome.reason else ""), raw["loc"])
    return rule.get("otherwise")


def _tail_route(ops: list) -> dict | None:
    """The `route` to a routing rule that ends `ops`, if one does: nothing
    is left to run after it but what comes after the ops themselves."""
    if not ops:
        return None
    last = ops[-1]
    return last if last["op"] == "route" and last["target"].get("kind") == "routing" else None


async def route_rule(rt: CallRuntime, name: str, frame: Frame, loc: dict | None) -> None:
    """`route R`: try R's lines; then, if the caller is still in the flow,
    run R's `otherwise` (when it has one).

    An `otherwise` (or an `on error ->` of a route in one) that ends by
    routing to another rule is followed in this loop rather than by
    recursion, however long the chain of rules; `links` holds the routes
    followed, outermost first, so a failure goes to the innermost one with
    an `on error`, as run_body would have sent it."""
    outer = rt.op_loc
    links: list[dict] = []  # the tail routes followed, whose rules are running
    ops: list | None = None  # what to run next, when not a rule
    try:
        while True:
            try:
                if ops is None:
                    ops = await try_rule(rt, name, frame, loc)
                    if ops is None:
                        break
                tail = _tail_route(ops)
                if tail is None:
                    await rt.run_body(ops, frame)
                    break
                if len(ops) > 1:
                    await rt.run_body(ops[:-1], frame)
                rt.count_op(tail["loc"])
                rt.op_loc = tail["loc"]
                links.append(tail)
                name, loc, ops = tail["target"]["ref"], tail["loc"], None
            except StepBudgetExceeded:
                raise
            except (ExternalError, FlowError) as err:
                if links and not getattr(err, "loc", None):
                    err.loc = links[-1]["loc"]  # the innermost op that failed
                while links and links[-1].get("on_error") is None:
                    links.pop()
                if not links:
                    raise  # the first route's own op handles it (run_body)
                link = links.pop()
                rt.op_loc = link["loc"]
                rt.emit_error(err, handled=True, loc=link["loc"])
                ops = link["on_error"]
    except (GotoStep, SubReturn, FlowHangup, LeftFlow, CallHungUp, ExternalError, FlowError):
        rt.op_loc = outer
        raise
    rt.op_loc = outer


async def op_route(rt: CallRuntime, op: dict, frame: Frame) -> None:
    target = op["target"]
    if "ref" not in target:  # a routing rule or queue computed at run time
        ref = route_target(await evaluate(target, frame, op["loc"]), rt.program, op["loc"])
        target = {"ref": ref.name, "kind": ref.kind}
    if target["kind"] == "routing":
        await route_rule(rt, target["ref"], frame, op["loc"])
        return
    request = await queue_request(rt, target["ref"], op["options"], frame, op["loc"])
    await wait_in_queue(rt, request, op["loc"])


# -- transfer and three-way -----------------------------------------------------------


def _dial_target(rt: CallRuntime, kind: str, value: Any, loc: dict | None) -> DialTarget:
    ident = text_value(value, f"the {kind} to call", loc)
    if kind == "agent":
        agent: Agent | None = rt.services.centre.agent(ident)
        if agent is None:
            raise ExternalError(f"there is no agent `{ident}` in the centre", service="centre")
        return DialTarget("agent", ident, agent.extension or None)
    return DialTarget("number", ident)


async def op_transfer(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc, options = op["loc"], op["options"]
    ring_ms = ms_of(await option(rt, options, "timeout", frame, loc), "timeout", loc)
    caller_id = await option(rt, options, "caller_id", frame, loc)
    value = await eval_in(rt, op["target"], frame, op)
    data: dict[str, Any] = {"kind": op["kind"], "mode": op["mode"],
                            "caller_id": None if caller_id is None else to_text(caller_id)}
    if op["kind"] == "queue":
        queue = _queue_name(value, loc)
        outcome = await wait_in_queue(rt, await queue_request(rt, queue, {}, frame, loc), loc)
        status = "transferred" if outcome.status == "answered" else "failed"
        rt.emit("transfer", {**data, "target": queue, "status": status,
                             "reason": outcome.reason or outcome.status}, loc)
        if status != "transferred":
            raise ExternalError(f"queue {queue} did not take the call ({outcome.status})",
                                service="switch")
        raise LeftFlow()
    target = _dial_target(rt, op["kind"], value, loc)
    announce: list = []
    if options.get("announce") is not None:
        announce, _ = await sounds_of(rt, options["announce"], frame, loc)
        data["announce"] = [s.text for s in announce]
    # the party called sees caller_id and hears the announcement before the caller
    result = await rt.line().transfer(target, mode=op["mode"],
                                      ring_ms=ring_ms or rt.services.config.default_ring_ms,
                                      caller_id=data["caller_id"], announce=announce)
    rt.emit("transfer", {**data, "target": target.id, "status": result.status,
                         "reason": result.reason}, loc)
    if result.status != "transferred":
        raise ExternalError(f"the transfer to {target.id} failed: {result.status}"
                            + (f" ({result.reason})" if result.reason else ""), service="switch")
    raise LeftFlow()


async def op_three_way(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc, options = op["loc"], op["options"]
    ring_ms = ms_of(await option(rt, options, "timeout", frame, loc), "timeout", loc)
    target = _dial_target(rt, op["kind"], await eval_in(rt, op["target"], frame, op), loc)
    caller_id = await option(rt, options, "caller_id", frame, loc)
    caller_id = None if caller_id is None else to_text(caller_id)
    offered_at = rt.services.clock.now()
    # a number is an outside party (a courier), never an agent: parties.py
    on_answer = (answer_callback(rt, "three_way", offered_at, loc) if target.kind == "agent"
                 else party_callback(rt, target.id, "three_way", offered_at, loc))
    outcome = await rt.line().three_way(target,
                                        ring_ms=ring_ms or rt.services.config.default_ring_ms,
                                        on_answer=on_answer, caller_id=caller_id)
    rt.emit("three_way", {"target": target.id, "kind": op["kind"], "status": outcome.status,
                          "reason": outcome.reason, "caller_id": caller_id}, loc)
    if outcome.status != "answered":
        raise ExternalError(f"the three-way call to {target.id} was not answered: "
                            f"{outcome.status}", service="switch")
    if target.kind == "agent":
        after_conversation(rt, outcome.conversation, loc)
    else:
        after_party(rt, target.id, outcome.conversation, loc)


OPS: dict[str, OpFn] = {
    "route": op_route,
    "queue": op_queue,
    "transfer": op_transfer,
    "three_way": op_three_way,
}
