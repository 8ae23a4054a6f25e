"""How deep a flow's blocks and expressions may nest, how many rounds a loop makes, how
long a call waits: one number each, for the compiler, which refuses more in the text, and
for the runtime, which refuses more in the IR or the values it computes; part of the IR's
contract (docs/language.md, "Limits")."""

# Blocks (`if`, `elif`, `else`, `match` and `menu` arms, and `on error ->`
# actions, which can hold another) inside one step, handler or sub-flow.
# The deepest IR these two limits allow passes the IR's JSON Schema
# validation, which recurses most per level, with a quarter of Python's
# default recursion limit to spare (tests/test_compiler_limits.py).
MAX_BLOCK_DEPTH = 16
# Operations inside one expression: `a or b or c` is two, as each operator
# holds the chain before it.
MAX_EXPR_DEPTH = 32
# Rounds of one `repeat` or `for each`: more is a flow error at run time (and
# E508 for a literal count), before the step budget stops the whole call.
MAX_LOOP_ROUNDS = 1000
# The longest a call waits for anything (a key, a queue, a ring, a `wait`): Asterisk
# reads its timeouts (GET DATA, WAIT FOR DIGIT, RECORD FILE) as a C int of
# milliseconds, 24 days 20 hours. A literal over it is E505, a value computed
# over it a flow error.
MAX_WAIT_MS = 2**31 - 1
MAX_WAIT_WORDS = "24 days 20 hours"  # MAX_WAIT_MS as messages say it
