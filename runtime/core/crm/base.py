"""The one CRM interface the builtins use. Every method may raise
ExternalError (the CRM is down, slow past its timeout, or refused).
Must not import an adapter: the adapters implement it.
"""

from __future__ import annotations

from typing import Any, Protocol

from ccdsl.runtime.core.values import Record


class CRM(Protocol):
    async def find_customer(self, phone: str) -> Record | None:
        """The customer whose phone number is this one (E.164), or None."""

    async def find(self, record_type: str, fields: dict[str, Any]) -> Record | None:
        """The first record of this type whose fields equal the given ones."""

    async def owner(self, record: Record) -> str | None:
        """The agent id of the record's account owner, or None."""

    async def create(self, record_type: str, fields: dict[str, Any]) -> Record: ...

    async def update(self, record: Record, fields: dict[str, Any]) -> Record: ...

    async def log_call(self, call: dict[str, Any]) -> None:
        """Attach a finished call (caller, agent, times, outcome, recording,
        wrap-up) to the customer's record."""

    async def close(self) -> None: ...
