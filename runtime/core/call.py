"""The state of one call (CallRuntime) and the ops that need no channel beyond answer.

Control leaves a body by the signal exceptions below; failures go to an op's
`on_error` or the `error` handler. Must not import the interpreter or the ops package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ccdsl.runtime.core.builtins import implementations as builtins_impl
from ccdsl.runtime.core.channel import Channel
from ccdsl.runtime.core.errors import CallHungUp, ExternalError, FlowError, StepBudgetExceeded
from ccdsl.runtime.core.evaluate import described, evaluate
from ccdsl.runtime.core.events import Event, new_event, set_fields
from ccdsl.runtime.core.ir import Program
from ccdsl.runtime.core.nesting import (
    MAX_SUB_DEPTH,
    constant_cycle,
    on_own_stack,
    too_many_subs,
)
from ccdsl.runtime.core.services import Services
from ccdsl.runtime.core.values import Duration, Record

OpFn = Callable[["CallRuntime", dict, "Frame"], Awaitable[None]]

_UNSET = object()  # a constant not evaluated yet (null is a value)


class GotoStep(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, step: str, loc: dict | None) -> None:
        super().__init__(step)
        self.step = step
        self.loc = loc


class SubReturn(Exception):  # noqa: N818
    def __init__(self, value: Any, loc: dict | None) -> None:
        super().__init__("return")
        self.value = value
        self.loc = loc


class FlowHangup(Exception):  # noqa: N818
    """The flow ran `hangup`."""


class LeftFlow(Exception):  # noqa: N818
    """The call left the flow: a transfer succeeded."""


class Frame:
    """A scope: the call's variables, or one sub-flow's (or prompt's) locals.
    It is the expression evaluator's context."""

    __slots__ = ("rt", "vars", "sub")

    def __init__(self, rt: CallRuntime, variables: dict[str, Any], sub: str | None = None):
        self.rt = rt
        self.vars = variables
        self.sub = sub

    def get_var(self, name: str) -> Any:
        return self.vars.get(name)

    def set_var(self, name: str, value: Any) -> None:
        self.vars[name] = value

    # these hand back the awaitable of the call runtime's own method rather
    # than awaiting it in a coroutine of their own: one layer less per call

    def constant(self, name: str) -> Awaitable[Any]:
        return self.rt.constant(name)

    def builtin_value(self, name: str, loc: dict | None) -> Any:
        return builtins_impl.value_of(self.rt, name, loc)

    def call_builtin(self, name: str, args: list, kwargs: dict,
                     loc: dict | None) -> Awaitable[Any]:
        return builtins_impl.call(self.rt, name, args, kwargs, loc)

    def call_sub(self, name: str, args: list, kwargs: dict, loc: dict | None) -> Awaitable[Any]:
        return self.rt.call_sub(name, args, kwargs, loc)


class CallRuntime:
    """One call: its state, its event stream, and the executor of op bodies."""

    def __init__(self, program: Program, channel: Channel, services: Services,
                 ops: dict[str, OpFn]) -> None:
        self.program = program
        self.channel = channel
        self.services = services
        self.ops = ops
        self.info = channel.info
        self.call_id = self.info.call_id
        self.variables: dict[str, Any] = {}
        self.call_frame = Frame(self, self.variables)
        self.language, self.language_note = starting_language(program, self.info.language)
        self.answered = False
        self.talked_to_agent = False
        self.agent: str | None = None  # the last agent who answered
        self.answering_agent: str | None = None  # bound inside `on answered by agent`
        self.queue: str | None = None  # the last queue joined
        self.queue_wait_ms = 0  # the waits of queue visits that ended
        self.queue_joined_at: datetime | None = None  # the queue visit going on
        self.talk_ms = 0
        self.recording: str | None = None
        self.paused_at: datetime | None = None  # when `pause recording` silenced it
        self.recordings: list[str] = []
        self.crm_customer: Record | None = None  # the first customer record the CRM returned
        self.crm_asked = False  # the caller was looked up by number
        self.crm_logged: set[str | None] = set()  # recordings crm.log_call carried
        self.voicemail: str | None = None  # mailbox of the last stored message
        self.voicemail_stored = False  # whether the last `voicemail` stored one
        self.abandoned = False  # hung up while waiting for an agent
        self.line_closed = False  # the caller is gone: no more channel calls
        self.step: str | None = None
        self.op_loc: dict | None = None  # the op being run: where an internal failure points
        self.wrapup: dict[str, Any] | None = None  # the form: {"agent", "fields", "values"}
        self.seq = 0
        self.ops_run = 0
        # read on every op and every event: looked up once per call
        self.step_budget = services.config.step_budget
        # a sink that only watches for steps on its way to another (the
        # simulator's StepWatch) offers `watching`, its step callback and that
        # sink: the runtime calls the one on entering a step and emits to the
        # other, one call less on every event
        watching = getattr(services.sink, "watching", None)
        self._on_step, sink = watching if watching is not None else (None, services.sink)
        self._sink_emit = sink.emit
        self._clock_now = services.clock.now
        self.subs: list[str] = []  # the sub-flow calls active, outermost first
        self.nesting = 0  # sub-flow calls, constants and `on answered by agent` running
        self.loops = 0  # `repeat` and `for each` rounds running: where `break` may stand
        self.random_state: list | None = None  # random.choose's generator (builtins/chance.py)
        self.key_visit: Any = None  # while a queue key's block runs: its visit (ops/in_queue.py)
        self._constants: dict[str, Any] = {}
        self._evaluating: list[str] = []  # constants being evaluated, outermost first
        tz = services.config.timezone
        self._zone = ZoneInfo(tz) if tz else None

    # -- events ------------------------------------------------------------------

    def emit(self, kind: str, data: dict, loc: dict | None = None,
             at: datetime | None = None) -> None:
        """Emit an event stamped now, or at `at` for what began earlier (a
        prompt is stamped when its playback started)."""
        self.seq += 1
        event = new_event(Event)  # Event(...) without its __init__ (see events.py)
        set_fields(event, {"call_id": self.call_id, "seq": self.seq,
                           "at": self._clock_now() if at is None else at, "kind": kind,
                           "data": {} if data is None else data, "loc": loc})
        self._sink_emit(event)

    def enter_step(self, step: str, loc: dict | None) -> None:
        """The flow is in `step` now: a step_entered event (and the step
        watcher told, before the sink has it, as StepWatch.emit does)."""
        self.step = step
        if self._on_step is not None:
            self._on_step(step)
        self.emit("step_entered", {"step": step}, loc)

    def emit_error(self, err: Exception, *, handled: bool, loc: dict | None = None,
                   handler: str | None = None) -> None:
        where = getattr(err, "loc", None) or loc
        kind = ("step_budget" if isinstance(err, StepBudgetExceeded)
                else "external" if isinstance(err, ExternalError) else "flow")
        data = {"message": str(err), "kind": kind, "where": where, "handled": handled}
        if isinstance(err, ExternalError):
            data["service"] = err.service
            data["timed_out"] = err.timed_out
        if handler:
            data["handler"] = handler
        self.emit("error", data, where)

    # -- the line ----------------------------------------------------------------

    def line(self) -> Channel:
        """The channel, unless the caller is gone: then CallHungUp, so a
        handler that runs after the call cannot talk to nobody."""
        if self.line_closed:
            raise CallHungUp("the call has ended")
        return self.channel

    # -- facts for builtins ----------------------------------------------------------

    def now(self) -> datetime:
        now = self.services.clock.now()
        return now.astimezone(self._zone) if self._zone else now

    def caller_record(self) -> Record:
        return Record("caller", {"number": self.info.caller_number,
                                 "name": self.info.caller_name or None,
                                 "dialled": self.info.dialled, "language": self.language})

    def _agent_value(self, agent_id: str | None) -> Record | None:
        if agent_id is None:
            return None
        agent = self.services.centre.agent(agent_id)
        if agent is None:
            return Record("agent", {"id": agent_id, "name": agent_id})
        return builtins_impl.agent_record(agent)

    def call_record(self) -> Record:
        return Record("call", {"id": self.call_id, "language": self.language,
                               "start": self.info.started,
                               "talked_to_agent": self.talked_to_agent,
                               "agent": self._agent_value(self.agent),
                               "queue_wait": Duration(self.queue_wait_so_far()),
                               "voicemail_stored": self.voicemail_stored})

    def queue_wait_so_far(self) -> int:
        """The ms waited in queues, the visit going on included: an agent's answer runs the
        `on answered by agent` handler before the visit ends."""
        joined = self.queue_joined_at
        if joined is None:
            return self.queue_wait_ms
        waited = (self.services.clock.now() - joined) // timedelta(milliseconds=1)
        return self.queue_wait_ms + max(0, waited)

    def agent_record(self) -> Record | None:
        return self._agent_value(self.answering_agent)

    def call_log(self) -> dict[str, Any]:
        """The call as `crm.log_call` gives it to the CRM (docs/crm.md): the
        last recording's file, and the wrap-up values when the agent has
        entered them."""
        entry = {"call_id": self.call_id, "caller": self.info.caller_number,
                 "dialled": self.info.dialled, "agent": self.agent,
                 "started": self.info.started, "ended": self.now(), "talk_ms": self.talk_ms,
                 "recording": self.recordings[-1] if self.recordings else None}
        if self.wrapup is not None and self.wrapup["values"]:
            entry["wrapup"] = dict(self.wrapup["values"])
        return entry

    async def queue_skills(self, queue: str) -> dict[str, int]:
        decl = self.program.queues.get(queue)
        if decl is None:
            raise FlowError(f"no queue named `{queue}`")
        expr = decl["options"].get("skills")
        if expr is None:
            return {}
        return builtins_impl.skills_dict(await evaluate(expr, self.call_frame, decl["loc"]),
                                         decl["loc"])

    # -- values ------------------------------------------------------------------

    async def constant(self, name: str) -> Any:
        """A constant's value, evaluated on first use in the call (a constant
        may call a sub-flow or read `caller`, so it is per call)."""
        value = self._constants.get(name, _UNSET)
        if value is not _UNSET:
            return value
        decl = self.program.constants.get(name)
        if decl is None:
            raise FlowError(f"no constant named `{name}`")
        if name in self._evaluating:
            # the compiler lets a cycle through (it may never be evaluated);
            # evaluated, it is a flow error where it closes, not a recursion
            outer = self.program.constants.get(self._evaluating[-1])
            raise FlowError(constant_cycle(self._evaluating, name),
                            outer["loc"] if outer else decl["loc"])
        self._evaluating.append(name)
        try:
            # constants see only literals and other constants; one defined by
            # another is evaluated nested, off the stack of the first
            value = await self.nested(evaluate(decl["value"], Frame(self, {}), decl["loc"]))
        finally:
            self._evaluating.pop()
        self._constants[name] = value
        return value

    async def call_sub(self, name: str, args: list, kwargs: dict, loc: dict | None) -> Any:
        sub = self.program.subs.get(name)
        if sub is None:
            raise FlowError(f"no sub-flow named `{name}`", loc)
        params = sub["params"]
        if len(args) > len(params):
            raise FlowError(f"`{name}` takes {len(params)} argument(s), got {len(args)}", loc)
        local = dict.fromkeys(sub["locals"])
        local.update(zip(params, args, strict=False))
        for key, value in kwargs.items():
            if key not in params:
                raise FlowError(f"`{name}` has no parameter `{key}`", loc)
            local[key] = value
        if len(self.subs) >= MAX_SUB_DEPTH:
            raise FlowError(too_many_subs(self.subs, name), loc)
        self.subs.append(name)
        try:
            await self.nested(self.run_body(sub["body"], Frame(self, local, sub=name)))
        except SubReturn as ret:
            return ret.value
        finally:
            self.subs.pop()
        return None

    async def nested(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Await `work` (a sub-flow's body, a constant's value, `on answered
        by agent`) nested inside what runs now: in place when nothing else
        is nested, else on a stack of its own (nesting.on_own_stack). So
        the Python stack of a call holds at most two levels of the flow
        (its handler or step and one nested level), each bounded by the
        compiler's nesting limits, however deep sub-flows and constants
        nest; docs/runtime.md, "Limits"."""
        self.nesting += 1
        try:
            if self.nesting == 1:
                return await work
            return await on_own_stack(work)
        finally:
            self.nesting -= 1

    # -- running ops -------------------------------------------------------------

    def budget_exceeded(self, loc: dict | None) -> StepBudgetExceeded:
        budget = self.services.config.step_budget
        return StepBudgetExceeded(
            f"the call ran more than {budget} operations (the step budget): the flow "
            "seems to loop without waiting for the caller", loc)

    def count_op(self, loc: dict | None) -> None:
        """Count one op run outside run_body (a `route` followed in a chain
        of routing rules) against the step budget, as run_body counts its own."""
        self.ops_run += 1
        if self.ops_run > self.step_budget:
            raise self.budget_exceeded(loc)

    async def run_body(self, ops: list[dict], frame: Frame) -> None:
        """Run ops in order. Each op is run here, in the loop, rather than
        by a coroutine of its own: one coroutine less per op run."""
        handlers = self.ops
        for op in ops:
            loc = op["loc"]
            self.ops_run += 1  # every op counts against the step budget
            if self.ops_run > self.step_budget:
                raise self.budget_exceeded(loc)
            # restored only when the op ends by itself or by a known signal or
            # failure, so after an unexpected exception it names the op that raised
            outer, self.op_loc = self.op_loc, loc
            fn = handlers.get(op["op"])
            if fn is None:
                raise FlowError(f"this runtime does not know the op `{op['op']}`", loc)
            try:
                await fn(self, op, frame)
            except StepBudgetExceeded:
                raise
            except (ExternalError, FlowError) as err:
                if not getattr(err, "loc", None):
                    err.loc = loc  # the innermost op that failed
                on_error = op.get("on_error")
                if on_error is None:
                    raise
                self.emit_error(err, handled=True, loc=loc)
                await self.run_body(on_error, frame)
            except (GotoStep, SubReturn, FlowHangup, LeftFlow, CallHungUp):
                self.op_loc = outer
                raise
            self.op_loc = outer

    async def run_from(self, ops: list[dict], frame: Frame) -> None:
        """Run a handler's body, following `goto`s from step to step (a loop,
        not recursion, so a long call does not grow the stack)."""
        while True:
            try:
                await self.run_body(ops, frame)
                return
            except GotoStep as jump:
                step = self.program.steps.get(jump.step)
                if step is None:
                    raise FlowError(f"no step named `{jump.step}`", jump.loc) from None
                self.enter_step(jump.step, step["loc"])
                ops, frame = step["body"], self.call_frame


def starting_language(program: Program, asked: str | None) -> tuple[str, str | None]:
    """The language a call starts in: the line's (CallInfo.language, a
    test's `call language`) when the flow has it, else the flow's default;
    with a note saying why the line's language was not used."""
    default = program.default_language
    if not asked:
        return default, None
    for language in program.languages:  # BCP 47 tags are case-insensitive
        if language.lower() == asked.lower():
            return language, None
    have = ", ".join(program.languages) or "none"
    return default, (f"the call asked for language {asked}, which the flow does not have "
                     f"(it has {have}): starting in {default}")


def eval_in(rt: CallRuntime, expr: dict, frame: Frame, op: dict) -> Awaitable[Any]:
    """The value of an op's expression (awaited by the caller)."""
    return evaluate(expr, frame, op["loc"])


def text_value(value: Any, what: str, loc: dict | None) -> str:
    if not isinstance(value, str) or not value:
        raise FlowError(f"{what} must be a non-empty text, not {described(value)}", loc)
    return value
