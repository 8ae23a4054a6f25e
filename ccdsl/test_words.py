"""The fixed words of test blocks that both the compiler (to check them) and the
test runner (to judge them) know: the call outcomes, the ways a route chooses, the
agent states a test sets and the seeds a call may have.

Data, and the one rule of a seed; imports nothing.
"""

# the call outcomes the call store keeps (calls.outcome), and `answered`: an agent
# talked to the caller, as the reports count "Answered by an agent"
OUTCOMES = ("answered", "hangup", "transfer", "voicemail", "error", "abandoned")

# what `by WORD` after `expect routed to X` may say: the kind of routing-rule line
# that chose X (the `routing_decision` event's kind), or `queue`: a queue rang X
ROUTE_WAYS = ("owner", "last_agent", "agent", "skills", "queue")

# what `agent NAME state "WORD"` may say (runtime/operations/agents_file.py's AGENT_STATES
# says what each means in the simulator)
AGENT_STATE_WORDS = ("available", "busy", "ringing", "paused", "offline", "logged_off",
                     "logged off", "ringing-no-answer", "no_answer")

# a call's `seed` is a whole number from 0 up to but not including this (the simulator's
# random numbers take no larger one)
SEED_LIMIT = 1 << 63
SEED_RULE = "a call's seed is a whole number 0 or more, below 2**63"


def whole_seed(value: object) -> int | None:
    """The seed a number (as the interpreter reads the literal: an int, or a float when
    written with a point) gives a call; None when it gives none (SEED_RULE says why)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))
                                     or not value.is_integer()):
        return None
    return int(value) if 0 <= value < SEED_LIMIT else None
