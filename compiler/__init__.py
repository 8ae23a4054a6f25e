"""The ccdsl compiler: parse -> AST -> resolve -> check -> lower to IR.

Imports the language core (ccdsl/*.py) only, never ccdsl.runtime or ccdsl.cli."""
