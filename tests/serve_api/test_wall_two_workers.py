"""Two real `ccf serve` workers with their consoles on one call store: each one's wallboard
knows its own worker row by its console's address, asks the other (not itself) and shows both
as answering."""

from __future__ import annotations

import asyncio

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre

from .helpers import until
from .test_two_workers import two_workers


def test_each_workers_wall_asks_the_other_and_not_itself(tmp_path, monkeypatch) -> None:
    config, _ = two_workers(tmp_path, monkeypatch, str(tmp_path / "calls.db"))

    async def main():
        one = ServedCentre(LiveCentre(config, port=0, use_ami=False, api_port=0))
        two = ServedCentre(LiveCentre(config, port=0, use_ami=False, api_port=0))
        try:
            await one.start()
            await two.start()
            assert one.ctx is not None and two.ctx is not None
            own = {one.ctx.api_address(), two.ctx.api_address()}

            def both_listed(served: ServedCentre) -> bool:
                rows = served.live.status().get("workers") or []
                return {w["api"] for w in rows if w["status"] == "up"} == own

            await until(lambda: both_listed(one) and both_listed(two),
                        "both workers' rows with their API addresses")
            walls = [await served.web.app.state.board.current() for served in (one, two)]
            asked = [served.web.app.state.board.peers.asked for served in (one, two)]
        finally:
            await two.stop(1.0)
            await one.stop(1.0)
        return own, walls, asked, (one.ctx.api_address(), two.ctx.api_address())

    own, walls, asked, (one_api, two_api) = asyncio.run(main())
    assert len(own) == 2
    assert asked == [(two_api,), (one_api,)]  # each the other, never itself
    for wall in walls:
        assert [(w["host"], w["status"], w["answering"]) for w in wall["workers"]] == [
            ("host-1", "up", True), ("host-2", "up", True)]
        assert wall["not_answering"] == [] and wall["call_rows"] == []
