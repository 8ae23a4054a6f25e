"""The ccdsl compiler: parse -> AST -> resolve -> check -> lower to IR."""
