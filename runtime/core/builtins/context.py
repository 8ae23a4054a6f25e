"""What a builtin sees of its call (BuiltinContext), and the shape of an implementation.

Must not import the builtins themselves: they import it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from ccdsl.runtime.core.ir import Program
from ccdsl.runtime.core.services import Services
from ccdsl.runtime.core.values import Record


class BuiltinContext(Protocol):
    """What builtins need from the call (the interpreter's CallRuntime)."""

    services: Services
    program: Program
    # what the call's CRM operations found, for the end of the call
    # (runtime/operations/recordings.py): the first customer record, whether the
    # caller was looked up by number, the recordings crm.log_call carried
    crm_customer: Record | None
    crm_asked: bool
    crm_logged: set[str | None]
    language: str  # the call's language now
    random_state: list | None  # random.choose's [generator, seed, draws], made on first use

    def emit(self, kind: str, data: dict, loc: dict | None = None) -> None: ...

    def now(self) -> datetime: ...

    def caller_record(self) -> Record: ...

    def call_record(self) -> Record: ...

    def agent_record(self) -> Record | None: ...

    def call_log(self) -> dict[str, Any]: ...

    async def queue_skills(self, queue: str) -> dict[str, int]: ...


Impl = Callable[[BuiltinContext, dict[str, Any], "dict | None"], Awaitable[Any]]
