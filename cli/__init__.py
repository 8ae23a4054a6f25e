"""The `ccf` command: one module per subcommand, rendering only."""
