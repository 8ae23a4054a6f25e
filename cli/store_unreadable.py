"""A call store that failed a read in the middle of a command, said as the console says it.

Only the words and the exit status: must not open or read a store itself.
"""

from __future__ import annotations

import typer

from ccdsl.cli.common import fail
from ccdsl.cli.exit_codes import PROBLEMS, UNREACHABLE, USAGE


def unreadable(exc: BaseException) -> typer.Exit | None:
    """The exit for a store's operational error no command caught (None: not the store's,
    so a bug after all): one that needs mending, its reason and "must be mended first"
    (USAGE: a store the command cannot use); a server that did not answer, "try again"
    (UNREACHABLE); another that may pass (a lock held past the wait), "try again"
    (PROBLEMS). Why here: every command reads the store somewhere, and a server lost or a
    table dropped mid-command is an outage or a configuration to mend, not a bug."""
    from ccdsl.runtime.operations.database import Unreachable
    from ccdsl.runtime.operations.store_errors import MEND, fault, passing, reason_of
    from ccdsl.terminal_text import visible

    if fault(exc):
        return fail(f"the call store cannot be read ({visible(reason_of(exc))}); {MEND}", USAGE)
    if not passing(exc):
        return None
    code = UNREACHABLE if isinstance(exc, Unreachable) else PROBLEMS
    return fail(f"the call store cannot be read now ({visible(reason_of(exc))}); "
                "try again shortly", code)
