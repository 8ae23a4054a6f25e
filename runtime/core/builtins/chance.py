"""`random.choose`: one item of a list at random, for A/B tests of prompts and the like.

Each call draws from a generator of its own, seeded once per call: with the
seed given (RuntimeConfig.random_seed: `ccf simulate --seed`, a test's
`call seed N`, 0 in tests that give none) the same flow makes the same choices;
without one (ccf serve) the seed is drawn from the system. Every choice is a
`random_choice` event with the seed and the draw's number, so a call's trace
says how to replay it and reports can compare the branches.
"""

from __future__ import annotations

import random
from typing import Any

from ccdsl.runtime.core.builtins.context import BuiltinContext
from ccdsl.runtime.core.builtins.external import summary
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import is_number, kind_of


def _generator(ctx: BuiltinContext) -> tuple[random.Random, int]:
    state = ctx.random_state
    if state is None:
        seed = ctx.services.config.random_seed
        if seed is None:
            seed = random.SystemRandom().randrange(1 << 31)
        state = ctx.random_state = [random.Random(seed), seed, 0]
    state[2] += 1
    return state[0], state[1]


def _weights(value: Any, n: int, loc: dict | None) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise FlowError(f"random.choose: `weights` must be a list of {n} numbers, one per "
                        "item", loc)
    if any(not is_number(w) or w < 0 for w in value) or not any(value):
        raise FlowError("random.choose: the weights must be numbers 0 or more, not all 0", loc)
    return [float(w) for w in value]


async def random_choose(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    items = a["items"]
    if not isinstance(items, (list, tuple)) or not items:
        what = "an empty list" if isinstance(items, (list, tuple)) else kind_of(items)
        raise FlowError(f"random.choose needs a list with at least one item, not {what}", loc)
    weights = _weights(a.get("weights"), len(items), loc)
    rng, seed = _generator(ctx)
    index = rng.choices(range(len(items)), weights=weights)[0]
    chosen = items[index]
    ctx.emit("random_choice", {"chosen": summary(chosen), "index": index,
                               "items": summary(list(items)), "seed": seed,
                               "draw": ctx.random_state[2]}, loc)
    return chosen


FUNCTIONS = {"random.choose": random_choose}
