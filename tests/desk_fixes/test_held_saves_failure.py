"""A fault escaping the storing of a call's held wrap-ups is logged by ccf serve's loop, with its
type and words, rather than lost as 'Task exception was never retrieved'."""

from __future__ import annotations

import asyncio
import logging

from ccdsl.runtime.operations.held_wrapups import HeldSaves


class Faulty:
    """A wrap-up desk holding a save for call c1 whose storing fails."""

    telling: frozenset = frozenset()  # no CRM entry waiting to be told

    def holds(self, call_id: str) -> bool:
        return call_id == "c1"

    async def call_ended(self, call_id: str) -> None:
        raise RuntimeError(f"the store of {call_id} went away")

    def stop(self) -> None:
        pass


def test_a_failed_held_save_is_logged_with_its_reason(caplog) -> None:
    async def main() -> None:
        held = HeldSaves(Faulty())
        held.call_ended("c2")  # nothing held for it: no task
        assert not held.tasks
        held.call_ended("c1")
        await held.stop()

    with caplog.at_level(logging.ERROR, logger="ccdsl.serve"):
        asyncio.run(main())
    said = [r.getMessage() for r in caplog.records if r.name == "ccdsl.serve"]
    assert said == ["storing the held wrap-ups of a call failed: RuntimeError: the store of c1 "
                    "went away"]
