"""At ccf serve's stop, a CRM entry handed on by a held save's last try (its values stored, its
call's record not read yet: WrapupDesk.telling) is waited for too, not left to be cancelled with
the loop: the stop waits for what the tries it waits for start."""

from __future__ import annotations

import asyncio

from ccdsl.runtime.operations.held_wrapups import HeldSaves


class HandsOn:
    """A wrap-up desk holding a save for call c1 whose last try, at the stop, stores the
    values and hands the CRM's entry to a task of its own (as WrapupDesk._tell_later)."""

    def __init__(self) -> None:
        self.telling: set[asyncio.Task] = set()
        self.stopped = asyncio.Event()
        self.told: list[str] = []

    def holds(self, call_id: str) -> bool:
        return call_id == "c1"

    async def call_ended(self, call_id: str) -> None:
        await self.stopped.wait()  # retrying until the stop: tried once more then

        async def tell() -> None:
            for _ in range(5):  # the record read, the CRM told, the note written
                await asyncio.sleep(0)
            self.told.append(call_id)

        task = asyncio.get_running_loop().create_task(tell())
        self.telling.add(task)
        task.add_done_callback(self.telling.discard)

    def stop(self) -> None:
        self.stopped.set()


def test_a_crm_entry_handed_on_at_the_stop_is_waited_for() -> None:
    async def main() -> list[str]:
        desk = HandsOn()
        held = HeldSaves(desk)
        held.call_ended("c1")
        await held.stop()
        return desk.told

    assert asyncio.run(main()) == ["c1"]
