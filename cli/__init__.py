"""The `ccf` command: one module per subcommand, reading options and printing;
the work is done below, in the compiler and the runtime."""
