"""Where the standard library's .ccf files are, and how the IR names them: what the compiler,
the trace and the flow-change check share. Imports nothing of the compiler or the runtime."""

from __future__ import annotations

# how the IR names a standard-library module's file (compiler/lower.py display_path):
# relative to the package, so never a user's path
STDLIB_PREFIX = "stdlib_flows/"


def stdlib_dir() -> str:
    """The standard library's folder (stdlib_flows/ of the installed package)."""
    from importlib import resources

    return str(resources.files("ccdsl.stdlib_flows"))
