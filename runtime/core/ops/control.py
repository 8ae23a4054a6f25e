"""The ops that need no channel beyond answer: variables, control flow, conditions, logging.

Never imports the Channel.
"""

from __future__ import annotations

from ccdsl.runtime.core.builtins.external import summary
from ccdsl.runtime.core.call import (
    CallRuntime,
    FlowHangup,
    Frame,
    GotoStep,
    OpFn,
    SubReturn,
    eval_in,
    text_value,
)
from ccdsl.runtime.core.evaluate import NOT_LEAF, equal, evaluate, truthy, value_of_leaf
from ccdsl.runtime.core.values import to_json, to_text


async def op_answer(rt: CallRuntime, op: dict, frame: Frame) -> None:
    if not rt.answered:
        await rt.line().answer()
        rt.answered = True
        rt.emit("answered", {}, op["loc"])


async def op_hangup(rt: CallRuntime, op: dict, frame: Frame) -> None:
    raise FlowHangup()


async def op_goto(rt: CallRuntime, op: dict, frame: Frame) -> None:
    raise GotoStep(op["step"], op["loc"])


async def op_return(rt: CallRuntime, op: dict, frame: Frame) -> None:
    value = None if op.get("value") is None else await eval_in(rt, op["value"], frame, op)
    raise SubReturn(value, op["loc"])


async def op_assign(rt: CallRuntime, op: dict, frame: Frame) -> None:
    value = value_of_leaf(op["value"], frame)
    if value is NOT_LEAF:
        value = await evaluate(op["value"], frame, op["loc"])
    frame.set_var(op["name"], value)
    rt.emit("variable_set", {"name": op["name"], "value": summary(value)},
            op["loc"])


async def op_eval(rt: CallRuntime, op: dict, frame: Frame) -> None:
    await eval_in(rt, op["expr"], frame, op)


async def op_log(rt: CallRuntime, op: dict, frame: Frame) -> None:
    rt.emit("log", {"message": to_text(await eval_in(rt, op["value"], frame, op))}, op["loc"])


async def op_set_language(rt: CallRuntime, op: dict, frame: Frame) -> None:
    language = text_value(await eval_in(rt, op["value"], frame, op), "a language", op["loc"])
    previous, rt.language = rt.language, language
    rt.emit("language_set", {"language": language, "previous": previous}, op["loc"])


async def op_if(rt: CallRuntime, op: dict, frame: Frame) -> None:
    for branch in op["branches"]:
        test = value_of_leaf(branch["test"], frame)
        if test is NOT_LEAF:
            test = await evaluate(branch["test"], frame, op["loc"])
        if truthy(test, op["loc"]):
            await rt.run_body(branch["body"], frame)
            return
    if op.get("orelse") is not None:
        await rt.run_body(op["orelse"], frame)


async def op_match(rt: CallRuntime, op: dict, frame: Frame) -> None:
    subject = await eval_in(rt, op["subject"], frame, op)
    for arm in op["arms"]:
        for pattern in arm["patterns"]:
            value = value_of_leaf(pattern, frame)  # patterns are mostly literals
            if value is NOT_LEAF:
                value = await evaluate(pattern, frame, arm["loc"])
            if equal(subject, value):
                await rt.run_body(arm["body"], frame)
                return
    if op.get("orelse") is not None:
        await rt.run_body(op["orelse"], frame)


async def op_screen_pop(rt: CallRuntime, op: dict, frame: Frame) -> None:
    items = [to_json(await eval_in(rt, item, frame, op)) for item in op["items"]]
    rt.emit("screen_pop", {"agent": rt.answering_agent or rt.agent, "data": items}, op["loc"])


OPS: dict[str, OpFn] = {
    "answer": op_answer,
    "hangup": op_hangup,
    "goto": op_goto,
    "return": op_return,
    "assign": op_assign,
    "eval": op_eval,
    "log": op_log,
    "set_language": op_set_language,
    "if": op_if,
    "match": op_match,
    "screen_pop": op_screen_pop,
}
