"""ccdsl: the language core shared by the compiler, the runtime and the CLI.

The core (the modules of this folder) must not import ccdsl.compiler,
ccdsl.runtime or ccdsl.cli: imports only go down the floors."""

__version__ = "0.1.0"
