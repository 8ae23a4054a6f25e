"""The wallboard's other workers (wall_peers.Peers): asked off the loop, shared by every wall,
and never answered with another list's statuses when the workers change mid-ask."""

from __future__ import annotations

import asyncio
import threading

from ccdsl.runtime.console.wall_peers import Peers


class Fetcher:
    """Answers `status of ADDRESS`; an address in `held` waits until released."""

    def __init__(self, held: tuple[str, ...] = ()) -> None:
        self.asked: list[str] = []
        self.held = set(held)
        self.release = threading.Event()

    def __call__(self, where: str, token: str | None) -> dict:
        self.asked.append(where)
        if where in self.held:
            self.release.wait(5)
        return {"status": f"of {where}", "token": token}


def test_workers_changing_mid_ask_get_their_own_answers() -> None:
    fetch = Fetcher(held=("a:1",))
    peers = Peers(lambda: "t", fetch=fetch)

    async def go():
        first = asyncio.ensure_future(peers.current(("a:1",)))
        await asyncio.sleep(0.05)  # the ask of a:1 is under way, held
        second = asyncio.ensure_future(peers.current(("b:2",)))
        await asyncio.sleep(0.05)
        fetch.release.set()
        return await first, await second

    first, second = asyncio.run(go())
    assert first == {"a:1": {"status": "of a:1", "token": "t"}}
    assert second == {"b:2": {"status": "of b:2", "token": "t"}}


def test_one_ask_serves_every_wall_within_its_period() -> None:
    clock = [100.0]
    fetch = Fetcher()
    peers = Peers(lambda: None, clock=lambda: clock[0], fetch=fetch, every_s=2.0)

    async def go():
        walls = await asyncio.gather(*(peers.current(("a:1", "b:2")) for _ in range(10)))
        again = await peers.current(("a:1", "b:2"))
        clock[0] += 2.0
        later = await peers.current(("a:1", "b:2"))  # the last answers, while asked again
        for _ in range(500):  # the new ask runs in threads: until it has asked both
            if len(fetch.asked) == 4:
                break
            await asyncio.sleep(0.01)
        return walls, again, later

    walls, again, later = asyncio.run(go())
    assert all(w == walls[0] for w in walls) and again == walls[0] == later
    assert sorted(fetch.asked) == ["a:1", "a:1", "b:2", "b:2"]  # once, then once a period


def test_no_workers_asks_nothing() -> None:
    fetch = Fetcher()
    assert asyncio.run(Peers(lambda: None, fetch=fetch).current(())) == {}
    assert fetch.asked == []
