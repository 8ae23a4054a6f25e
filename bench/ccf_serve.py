"""`ccf serve` as a subprocess of a bench (chaos.py, scale.py): started on a port of its own,
its log drained, its CPU time counted from /proc once it serves, killed or stopped.

Only the process's handle: must not place calls or read the store.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

from served import cpu_s, memory_kb

CCF = Path(sys.executable).with_name("ccf")
_FASTAGI_ON = re.compile(rb"ccf serve: FastAGI on \S+:(\d+)")


class CcfServe:
    """`ccf serve` as a subprocess on a port of its own: `port` 0, the one it binds (read from
    its first line, and kept for a restart), so no port is picked first and taken meanwhile."""

    def __init__(self, config: Path, env: dict[str, str], name: str = "", port: int = 0) -> None:
        self.name, self.port = name, port
        self.config = config
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self.log = b""
        self.cpu_s = 0.0  # of the processes that ended (a killed one's too), once serving
        self._cpu_base = 0.0

    @property
    def argv(self) -> list[str]:
        return [str(CCF), "serve", "--config", str(self.config), "--port", str(self.port)]

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self._drains = [asyncio.create_task(self._read(self.proc.stderr))]
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        except TimeoutError:
            line = b""
        bound = _FASTAGI_ON.match(line)
        if bound is None:
            self.proc.kill()
            await self.proc.wait()
            await asyncio.gather(*self._drains)
            raise SystemExit(f"ccf serve {self.name} did not start: {line.decode()}"
                             f"{self.log.decode()[-3000:]}")
        self.port = int(bound[1])
        self._drains.append(asyncio.create_task(self._read(self.proc.stdout)))
        self._cpu_base = self.cpu_now()  # start-up is no call's cost
        self.rss_start_kb = self.rss_kb()

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.log += chunk

    def cpu_now(self) -> float:
        """user + system seconds of the running process."""
        assert self.proc is not None
        return cpu_s(self.proc.pid)

    def rss_kb(self) -> int:
        """Its resident memory now."""
        assert self.proc is not None
        return memory_kb(self.proc.pid).get("VmRSS", 0)

    async def kill(self) -> None:
        assert self.proc is not None
        self.cpu_s += self.cpu_now() - self._cpu_base
        self.proc.kill()
        await self.proc.wait()
        await asyncio.gather(*self._drains)

    async def stop(self) -> int:
        assert self.proc is not None
        self.cpu_s += self.cpu_now() - self._cpu_base
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 120)
        await asyncio.gather(*self._drains)
        return code
