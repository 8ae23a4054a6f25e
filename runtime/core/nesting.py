"""How deep a call's evaluations may nest, and how nested ones stay off Python's stack.

Must not run ops or evaluate anything: call.py hands it the coroutines and names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

# Sub-flow calls active at once, recursion included: far beyond what people
# write (examples/iws nests two), so reaching it means a sub-flow
# that calls itself without end. Only memory bounds it, not the stack
# (below), so it is a limit for people, not for Python.
MAX_SUB_DEPTH = 100

# How many of the names of a too-deep chain the message shows at each end.
_SHOWN = 3


async def on_own_stack(work: Coroutine[Any, Any, Any]) -> Any:
    """Await `work` as a task of its own. The task starts from the event
    loop on a fresh Python stack while this coroutine waits suspended (a
    suspended coroutine holds no stack), so a chain of nested evaluations
    (constants defined by constants, sub-flows calling sub-flows) costs the
    stack of one link, not of the chain. Its result, its exception and a
    cancellation of the waiting task all pass through the await."""
    return await asyncio.get_running_loop().create_task(work)


def too_many_subs(active: list[str], name: str) -> str:
    """The message of a sub-flow call that would pass MAX_SUB_DEPTH: the
    limit, the sub-flow called, and the chain of calls that led there."""
    chain = [*active, name]
    hint = " (a sub-flow that calls itself without end?)" if len(set(chain)) < len(chain) else ""
    return (f"calling `{name}` would make {len(chain)} sub-flow calls active at once; "
            f"at most {MAX_SUB_DEPTH} may be{hint}: {_chain(chain)}")


def constant_cycle(evaluating: list[str], name: str) -> str:
    """The message of a constant asked for while it is being evaluated."""
    chain = [*evaluating[evaluating.index(name):], name]
    return f"the constant `{name}` is defined in terms of itself: {_chain(chain)}"


def _chain(names: list[str]) -> str:
    """`a` -> `b` -> `c`, its middle left out when long."""
    shown = names if len(names) <= 2 * _SHOWN else \
        [*names[:_SHOWN], "...", *names[-_SHOWN:]]
    return " -> ".join(s if s == "..." else f"`{s}`" for s in shown)
