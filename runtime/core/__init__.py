"""The interpreter core: call state, the interpreter, ops, builtins, CRM, routing, hours.

Imports the language core (ccdsl) only: no store, no simulator, no Asterisk.
"""
