"""The console tests' logged-in supervisor over a served centre: the real ccf serve (LiveCentre
and its console) linked over a socket to the AMI double, with the supervisor's web session.
One way to build it, for every test of the agents' phones' holds."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from asterisk.centre import WAIT_S, until
from doubles.ami_server import AmiPeer

from ccdsl.runtime.asterisk.config import CentreConfig
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre
from ccdsl.runtime.operations.console_users import new_user, save_users

PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html"}
USERS = '[console]\nusers = "console-users.json"\n'  # the config's line for the users file

# deploys the centre into the folder against the AMI double on the port: its config
Deploy = Callable[[Path, int], Awaitable[CentreConfig]]


class Rig:
    def __init__(self, served: ServedCentre, peer: AmiPeer, web: httpx.AsyncClient) -> None:
        self.served, self.peer, self.web = served, peer, web

    @property
    def live(self) -> LiveCentre:
        return self.served.live

    def status(self, agent: str = "zhang"):
        assert self.live.desk is not None
        return self.live.desk.status(agent)

    async def read(self) -> None:
        """Until ccf serve has read every event the peer sent so far: a new channel's
        Newchannel, sent after them, is in its mirror (events are read in order)."""
        name = f"PJSIP/marker-{len(self.peer.channels):08x}"
        self.peer.emit({"Event": "Newchannel", "Channel": name, "ChannelState": 0,
                        "Uniqueid": name, "Linkedid": name})
        await until(lambda: name in self.live.centre.channels, "the peer's events read")

    async def wall_row(self, agent: str = "zhang") -> str:
        page = await self.web.get("/wall", headers=HTML)
        assert page.status_code == 200, page.text
        return re.search(rf'<tr data-agent="{agent}">.*?</tr>', page.text, re.S)[0]

    async def live_wall(self) -> dict:
        """The first `wall` event of the supervisor's /live stream (the whole board)."""
        async with self.web.stream("GET", "/live") as reply:
            assert reply.status_code == 200
            kind = None
            async for line in reply.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "wall":
                    board = json.loads(line[6:])
                    return next(a for a in board["agents"] if a["id"] == "zhang")
        raise AssertionError("the live stream ended without the board")


@asynccontextmanager
async def supervisor(folder: Path, secret: str, deploy: Deploy) -> AsyncIterator[Rig]:
    """The AMI double (user ccf, `secret`), the centre `deploy` makes in `folder` (its config
    must name USERS), served with its AMI link up, and `sup` logged in to its console."""
    peer = AmiPeer(users={"ccf": secret}, auth_failure_delay=0.01)
    await peer.start()
    save_users(folder / "console-users.json",
               {"sup": new_user("sup", "supervisor", PASSWORD, "Sun Supervisor")})
    try:
        served = ServedCentre(LiveCentre(await deploy(folder, peer.port), port=0, api_port=0))
        try:
            await served.start()
            live = served.live
            assert live.api_address is not None and live.desk is not None
            await until(lambda: live.ami is not None and live.ami.connected, "the AMI link")
            host, port = live.api_address
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}",
                                         timeout=WAIT_S) as web:
                ok = await web.post("/login", data={"user": "sup", "password": PASSWORD})
                assert ok.status_code == 303, ok.text
                web.cookies.set("ccf_session", ok.cookies["ccf_session"])
                yield Rig(served, peer, web)
        finally:
            await served.stop(1.0)
    finally:
        await peer.stop()
