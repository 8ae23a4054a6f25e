"""The run-time side of the builtins registry (ccdsl/builtins.py).

Must not import the interpreter or the ops: they import it.
"""
