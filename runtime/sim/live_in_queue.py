"""What a generated caller of the real-time simulated centre does while waiting in a queue:
after a message, now and then one of the queue's declared keys (the call-back key most).

Each caller draws from a generator of its own, seeded by the centre's seed and the call's
number, so a seed gives the same choices call by call. Must not run the wait (live_queue.py
plays the messages and takes the keys) nor know the console.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# docs/console.md "The simulated centre's callers": after each message of a queue
CALLBACK_SHARE = 0.3  # press the key whose block books a `callback`, when there is one
OTHER_KEY_SHARE = 0.05  # press one of the queue's other keys (a message, another step)
PRESS_AFTER_S = (1.0, 4.0)  # that long after the message ended, in the centre's seconds


@dataclass(frozen=True)
class QueueKeys:
    """A queue's declared keys, and those whose block books a call-back."""

    keys: tuple[str, ...]
    callback: tuple[str, ...]


def queue_keys(ir: Mapping[str, Any]) -> dict[str, QueueKeys]:
    """Each queue of a flow's IR that declares keys: its QueueKeys."""
    out: dict[str, QueueKeys] = {}
    for name, decl in (ir.get("queues") or {}).items():
        keys = (decl or {}).get("keys") or {}
        if keys:
            out[name] = QueueKeys(tuple(sorted(keys)),
                                  tuple(sorted(k for k, block in keys.items() if _books(block))))
    return out


def _books(node: Any) -> bool:
    """Whether a key's block (IR) books a call-back somewhere in it."""
    if isinstance(node, dict):
        return node.get("op") == "callback" or any(_books(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_books(v) for v in node)
    return False


def caller_rng(seed: int, call_number: int) -> random.Random:
    """The generator of one caller's choices in queues (a text seed is
    hashed the same way in every run)."""
    return random.Random(f"ccf-in-queue:{seed}:{call_number}")


class InQueueChoices:
    """One generated caller's choices after the messages it hears in queues."""

    def __init__(self, queues: Mapping[str, QueueKeys], rng: random.Random) -> None:
        self.queues = queues
        self.rng = rng

    def after_message(self, queue: str) -> tuple[str, float] | None:
        """The key the caller presses after a message of `queue`, and how
        many seconds after its end; None: the caller waits on."""
        keys = self.queues.get(queue)
        if keys is None:
            return None
        roll = self.rng.random()
        others = [k for k in keys.keys if k not in keys.callback]
        if keys.callback and roll < CALLBACK_SHARE:
            key = self.rng.choice(keys.callback)
        elif others and roll >= 1 - OTHER_KEY_SHARE:
            key = self.rng.choice(others)
        else:
            return None
        return key, self.rng.uniform(*PRESS_AFTER_S)
