"""How deep a flow's blocks and expressions may nest: one number each, for
the compiler, which refuses more (compiler/limits.py), and for the runtime,
which refuses an IR that nests deeper (runtime/core/ir_depth.py); part of the
IR's contract (docs/language.md, "Limits")."""

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
