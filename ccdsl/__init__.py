"""ccdsl: the language core shared by the compiler, the runtime and the CLI."""

__version__ = "0.1.0"
