"""Run one call: `run_call(program, channel, services)`, from arrival to its call_ended event.

How a call ends is decided here, in one place (docs/runtime.md "How a call ends"); an
exception that is no failure of the flow still ends the call with a record. Must not
import the store, the simulator or Asterisk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from ccdsl.runtime.core.call import CallRuntime, FlowHangup, LeftFlow, SubReturn
from ccdsl.runtime.core.channel import Channel
from ccdsl.runtime.core.errors import (
    CallHandedBack,
    CallHungUp,
    ExternalError,
    FlowError,
    StepBudgetExceeded,
)
from ccdsl.runtime.core.ir import Program
from ccdsl.runtime.core.ops import agents, control, in_queue, loops, media, pausing
from ccdsl.runtime.core.recorded_call import log_recorded_call
from ccdsl.runtime.core.services import Services
from ccdsl.runtime.core.values import to_json

OPS = {**control.OPS, **media.OPS, **agents.OPS, **loops.OPS, **pausing.OPS,
       **in_queue.OPS}

# handed_back: the server gave the call back to the dialplan (`ccf serve`
# stopping); the caller did not hang up and Asterisk carries on with them
Outcome = Literal["hangup", "transfer", "voicemail", "error", "abandoned", "handed_back"]


@dataclass(frozen=True)
class CallResult:
    call_id: str
    outcome: Outcome
    hung_up_by: str | None  # caller | flow | agent, None for a transfer or a hand-back
    talked_to_agent: bool
    agent: str | None
    queue: str | None
    variables: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    duration_ms: int = 0
    error: str | None = None  # the failure that ended the call, if one did
    voicemail: str | None = None  # mailbox of a stored message


@dataclass
class _Ending:
    outcome: Outcome
    by: str | None
    error: str | None = None


def _error_signal(signal: Exception) -> FlowError:
    """A control signal where it cannot apply (`return` outside a sub)."""
    if isinstance(signal, SubReturn):
        return FlowError("`return` outside a sub-flow", signal.loc)
    return FlowError(f"unexpected {type(signal).__name__}")


async def _run_entry(rt: CallRuntime, entry: str) -> _Ending:
    handler = rt.program.handler(entry)
    if handler is not None:
        rt.emit("handler_entered", {"handler": entry}, handler["loc"])
        body = handler["body"]
    elif entry in rt.program.steps:
        body = rt.program.steps[entry]["body"]
        rt.enter_step(entry, rt.program.steps[entry]["loc"])
    else:
        raise FlowError(f"the flow has no `{entry}` handler or step to start from")
    try:
        await rt.run_from(body, rt.call_frame)
        return _Ending("hangup", "flow")  # fell off the end: the compiler's E201 prevents it
    except FlowHangup:
        return _Ending("hangup", "flow")
    except CallHandedBack:
        return _Ending("handed_back", None)
    except CallHungUp:
        return _Ending("hangup", "caller")
    except LeftFlow:
        return _Ending("transfer", None)
    except StepBudgetExceeded as err:
        rt.emit_error(err, handled=False)
        return _Ending("error", "flow", str(err))
    except (ExternalError, FlowError) as err:
        return await _run_error_handler(rt, err)
    except SubReturn as signal:
        return await _run_error_handler(rt, _error_signal(signal))


def _internal(rt: CallRuntime, err: Exception, *, handler: str | None = None) -> str:
    """Report an unexpected exception as an `error` event of kind internal,
    at the op that was running; the message for the call's record."""
    message = f"internal error: {type(err).__name__}: {err}"
    data = {"message": message, "kind": "internal", "where": rt.op_loc, "handled": False}
    if handler:
        data["handler"] = handler
    rt.emit("error", data, rt.op_loc)
    return message


async def _run_error_handler(rt: CallRuntime, err: Exception) -> _Ending:
    rt.emit_error(err, handled=False)
    handler = rt.program.handler("error")
    if handler is None:
        return _Ending("error", "flow", str(err))
    rt.emit("handler_entered", {"handler": "error"}, handler["loc"])
    try:
        await rt.run_from(handler["body"], rt.call_frame)
    except (FlowHangup, SubReturn):
        pass
    except CallHandedBack:
        return _Ending("handed_back", None, str(err))
    except CallHungUp:
        return _Ending("error", "caller", str(err))
    except LeftFlow:
        return _Ending("transfer", None, str(err))
    except (ExternalError, FlowError) as second:
        rt.emit_error(second, handled=False, handler="error")
    return _Ending("error", "flow", str(err))


async def _run_hangup_handler(rt: CallRuntime) -> None:
    """`on hangup`: after the call, with no line (channel ops raise
    CallHungUp, which ends the handler quietly) and a fresh step budget."""
    handler = rt.program.handler("hangup")
    if handler is None:
        return
    rt.line_closed = True
    rt.ops_run = 0
    rt.emit("handler_entered", {"handler": "hangup"}, handler["loc"])
    try:
        await rt.run_from(handler["body"], rt.call_frame)
    except (CallHungUp, FlowHangup, LeftFlow, SubReturn):
        pass
    except (ExternalError, FlowError) as err:
        rt.emit_error(err, handled=False, handler="hangup")
    except Exception as err:  # noqa: BLE001 - the call must still end with its record
        _internal(rt, err, handler="hangup")


async def _close_line(rt: CallRuntime, ending: _Ending) -> None:
    if ending.by == "caller" or ending.outcome in ("transfer", "handed_back"):
        return  # the line is gone, or the dialplan has the caller
    try:
        await rt.channel.hangup()
    except CallHungUp:
        pass  # the caller was already gone
    except Exception as err:  # noqa: BLE001 - a broken line still ends the call
        _internal(rt, err)


def _final_outcome(rt: CallRuntime, ending: _Ending) -> Outcome:
    if ending.outcome != "hangup":
        return ending.outcome
    if rt.abandoned and not rt.talked_to_agent:
        return "abandoned"
    if rt.voicemail is not None and not rt.talked_to_agent:
        return "voicemail"
    return "hangup"


async def run_call(program: Program, channel: Channel, services: Services, *,
                   entry: str = "start", flow_version: str | None = None) -> CallResult:
    """Run one call from `entry` (a handler, normally `start`, or a step) to
    its end. Never raises for what can happen on a call: hang-ups, failing
    services and runaway flows end in events and a CallResult. flow_version
    labels the call's record (`ccf serve`: the deployed version, `0001`);
    without it, the compiler that wrote the IR."""
    rt = CallRuntime(program, channel, services, OPS)
    info = channel.info
    rt.emit("call_started", {"caller": info.caller_number, "caller_name": info.caller_name,
                             "dialled": info.dialled, "flow": program.name,
                             "flow_version": flow_version or program.doc.get("compiler"),
                             "ir_version": program.doc.get("ir_version"),
                             "channel": info.channel, "language": rt.language})
    if rt.language_note:
        rt.emit("log", {"message": rt.language_note})
    try:
        ending = await _run_entry(rt, entry)
    except FlowError as err:  # no such entry handler or step
        rt.emit_error(err, handled=False)
        ending = _Ending("error", "flow", str(err))
    except Exception as err:  # noqa: BLE001 - never raise out of a call (see above)
        ending = _Ending("error", "flow", _internal(rt, err))
    await _close_line(rt, ending)
    rt.line_closed = True
    outcome = _final_outcome(rt, ending)
    by = ending.by or ("handed_back" if outcome == "handed_back" else "transfer")
    rt.emit("hangup", {"by": by, "step": rt.step})
    await _run_hangup_handler(rt)
    if rt.recording is not None:
        rt.emit("recording_stopped", {"file": rt.recording, "at_call_end": True})
        rt.recording = None
    await log_recorded_call(rt, outcome)
    duration_ms = max(0, int((services.clock.now() - info.started) / timedelta(milliseconds=1)))
    rt.emit("call_ended", {"outcome": outcome, "duration_ms": duration_ms,
                           "talked_to_agent": rt.talked_to_agent, "agent": rt.agent,
                           "queue": rt.queue, "queue_wait_ms": rt.queue_wait_ms,
                           "talk_ms": rt.talk_ms, "recordings": list(rt.recordings),
                           "voicemail": rt.voicemail, "error": ending.error})
    return CallResult(
        call_id=rt.call_id, outcome=outcome, hung_up_by=ending.by,
        talked_to_agent=rt.talked_to_agent, agent=rt.agent, queue=rt.queue,
        variables={k: to_json(v) for k, v in rt.variables.items()}, events=rt.seq,
        duration_ms=duration_ms, error=ending.error, voicemail=rt.voicemail)
