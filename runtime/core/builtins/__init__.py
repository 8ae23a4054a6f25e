"""The run-time side of the builtins registry (ccdsl/builtins.py)."""
