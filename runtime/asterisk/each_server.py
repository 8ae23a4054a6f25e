"""One AMI action run on each of ccf.toml's Asterisk servers by a command outside ccf serve
(`ccf agent`): a short link to each, in parallel, and what each said or why it did not answer.

Must not decide what an outcome means for the command (pause.py does); never prints a secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage
from ccdsl.runtime.asterisk.config_servers import AsteriskServer, servers_of


@dataclass(frozen=True)
class Answer:
    """One server's reply to the action, or why there was none."""

    server: AsteriskServer
    reply: AmiMessage | None  # None: the server did not answer (error says why)
    error: str | None = None
    unreachable: bool = False  # no login: AMI did not answer, or refused the login

    @property
    def label(self) -> str:
        return self.server.label


async def _one(server: AsteriskServer, act: Callable[[AmiLink], Awaitable[AmiMessage]],
               where: str) -> Answer:
    ami = server.ami
    link = AmiLink(ami.host, ami.port, ami.user, ami.secret, timeout=ami.timeout_s,
                   events="off", ping_interval=None)
    started = False
    try:
        await asyncio.wait_for(link.start(), ami.timeout_s * 2)
        started = True
        return Answer(server, await act(link))
    except (AmiError, OSError, TimeoutError) as exc:
        section = f"the [[asterisk]] server {server.name}" if server.name else "[ami]"
        return Answer(server, None, f"{str(exc) or type(exc).__name__} (check {section} in "
                                    f"{where})", unreachable=not started)
    finally:
        try:
            await asyncio.wait_for(link.close(), 5)
        except Exception:  # closing after a failure: nothing more to report
            pass


async def ask_each(centre: Any, act: Callable[[AmiLink], Awaitable[AmiMessage]]
                   ) -> list[Answer]:
    """`act` on a link to every server of the centre's config, at once; the answers in
    the config's order."""
    servers = servers_of(centre)
    return list(await asyncio.gather(*(_one(s, act, centre.path) for s in servers)))
