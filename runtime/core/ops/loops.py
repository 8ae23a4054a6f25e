"""The loop ops: `repeat` (a body N times), `for_each` (once per item of a list) and `break`.

Each round counts against the step budget like an op, and a loop runs at most
MAX_LOOP_ROUNDS rounds (ccdsl/limits.py). Never imports the Channel.
"""

from __future__ import annotations

from ccdsl.limits import MAX_LOOP_ROUNDS
from ccdsl.runtime.core.builtins.external import summary
from ccdsl.runtime.core.call import CallRuntime, Frame, OpFn, eval_in
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import described


class LoopBreak(Exception):  # noqa: N818 - a signal, not an error
    """`break`: leave the innermost loop."""


async def _rounds(rt: CallRuntime, op: dict, frame: Frame, items: list, name: str | None) -> None:
    rt.loops += 1
    try:
        for item in items:
            rt.count_op(op["loc"])  # a round with an empty body still costs
            if name is not None:
                frame.set_var(name, item)
                rt.emit("variable_set", {"name": name, "value": summary(item)}, op["loc"])
            await rt.run_body(op["body"], frame)
    except LoopBreak:
        pass
    finally:
        rt.loops -= 1


async def op_repeat(rt: CallRuntime, op: dict, frame: Frame) -> None:
    times = await eval_in(rt, op["times"], frame, op)
    if isinstance(times, bool) or not isinstance(times, (int, float)) or times != int(times) \
            or not 0 <= times <= MAX_LOOP_ROUNDS:
        raise FlowError(f"`repeat` runs a whole number of times from 0 to {MAX_LOOP_ROUNDS}, "
                        f"not {described(times)}", op["loc"])
    await _rounds(rt, op, frame, [None] * int(times), None)


async def op_for_each(rt: CallRuntime, op: dict, frame: Frame) -> None:
    items = await eval_in(rt, op["items"], frame, op)
    if not isinstance(items, (list, tuple)):
        raise FlowError(f"`for each` goes through a list, not {described(items)}", op["loc"])
    if len(items) > MAX_LOOP_ROUNDS:
        raise FlowError(f"`for each` over a list of {len(items)} items: a loop runs at most "
                        f"{MAX_LOOP_ROUNDS} rounds", op["loc"])
    # a copy: the body may change the variable that holds the list
    await _rounds(rt, op, frame, list(items), op["name"])


async def op_break(rt: CallRuntime, op: dict, frame: Frame) -> None:
    if rt.loops <= 0:  # the compiler's E311; an IR written by hand may still try
        raise FlowError("`break` outside a loop", op["loc"])
    raise LoopBreak()


OPS: dict[str, OpFn] = {
    "repeat": op_repeat,
    "for_each": op_for_each,
    "break": op_break,
}
