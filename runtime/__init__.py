"""The runtime: runs compiled flows (the IR), one coroutine per call, in floors.

core (interpreter, ops, builtins, CRM, routing) < operations (call store,
reports, wrap-up, ...) < sim and asterisk (side by side) < testing. A floor
imports only the floors below it and the language core; never the compiler.
"""
