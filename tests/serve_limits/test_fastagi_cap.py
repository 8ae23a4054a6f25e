"""The cap on FastAGI calls (issue 11, item 5), over real sockets on 127.0.0.1:
more calls than `max_calls` at once are each served or turned away to the
dialplan's fallback (closed with no command); `ccf serve` at a low open-file
limit raises it, fits max_calls to it, and when accept() runs out of files
it backs off with one log line per interval, never a traceback per try."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import sys
from pathlib import Path

from asterisk.centre import write_config

from ccdsl.runtime.asterisk import limits
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.flowstore import FlowStore

from .helpers import HOLD_FLOW, WAIT_S, HeldCaller, Rig, ending, flow_ir, place

CCF = Path(sys.executable).with_name("ccf")


def test_calls_past_max_calls_are_turned_away_and_the_rest_served(tmp_path: Path,
                                                                    caplog) -> None:
    caplog.set_level(logging.INFO, logger="ccdsl")
    ir = flow_ir(tmp_path, HOLD_FLOW)

    async def main():
        async with Rig(tmp_path, {"hold": ir}, max_calls=5) as rig:
            reports = await asyncio.gather(*(
                place(rig.port, "hold", f"1795800000.{n}", HeldCaller(0.5), timeout=WAIT_S)
                for n in range(40)))
            # the server keeps serving once the burst is over
            after = await place(rig.port, "hold", "1795800001.1")
            return reports, after, rig.server.refused, rig.server.served

    reports, after, refused, served = asyncio.run(main())
    endings = [ending(r) for r in reports]
    assert "broken" not in endings, endings
    assert endings.count("served") >= 5 and endings.count("turned away") >= 1
    assert refused == endings.count("turned away") and served == endings.count("served") + 1
    assert ending(after) == "served"
    turned = [r.getMessage() for r in caplog.records if "turned away" in r.getMessage()]
    assert 1 <= len(turned) <= 2, turned  # a line per interval with the count, not one a call
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


def test_the_default_cap_fits_the_open_file_limit() -> None:
    assert limits.fitted_max_calls(1024) == (1024 - limits.RESERVED_FDS) // limits.FDS_PER_CALL
    assert limits.fitted_max_calls(100) == 1  # never none at all
    assert limits.fitted_max_calls(10 ** 7) == limits.MAX_CALLS_CEILING
    # room for agents' ccf-answered connections and calls being turned away
    assert limits.connection_limit(256) == 384 and limits.connection_limit(5) == 21


# ---- `ccf serve` as a process at a low open-file limit -------------------------------------


def _limited(soft: int, hard: int):
    def apply() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return apply


async def _serve(tmp_path: Path, soft: int, hard: int, fastagi: str = ""):
    """`ccf serve --no-ami` of the hold flow in a child process with
    RLIMIT_NOFILE (soft, hard); its port and the process."""
    ir = flow_ir(tmp_path, HOLD_FLOW)
    path = write_config(tmp_path, 5038, numbers='"4008005678" = "hold"',
                        extra=f"[fastagi]\n{fastagi}\n")
    FlowStore(load_config(path, environ={}).flows_dir).deploy({"hold": ir},
                                                               numbers={"4008005678": "hold"})
    proc = await asyncio.create_subprocess_exec(
        str(CCF), "serve", "--config", str(path), "--port", "0", "--no-ami",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=_limited(soft, hard), env={**os.environ, "COLUMNS": "250"})
    first = (await asyncio.wait_for(proc.stdout.readline(), 20.0)).decode()
    assert first.startswith("ccf serve: FastAGI on 127.0.0.1:"), \
        first + (await proc.stderr.read()).decode()
    port = int(first.split("127.0.0.1:", 1)[1].split(",", 1)[0])
    return port, proc, first


async def _stop(proc) -> str:
    proc.terminate()
    _, err = await asyncio.wait_for(proc.communicate(), 20.0)
    return err.decode()


def test_ccf_serve_raises_its_open_file_limit_and_caps_calls_to_fit(tmp_path: Path) -> None:
    # started at a soft limit of 160 with a hard limit of 256: serve raises
    # it to 256 and takes (256 - 128) // 2 = 64 calls at once (at 160 it
    # would have taken 16)
    async def main():
        port, proc, first = await _serve(tmp_path, 160, 256)
        try:
            reports = await asyncio.gather(*(
                place(port, "hold", f"1795810000.{n}", HeldCaller(1.0), timeout=30.0)
                for n in range(150)))
        finally:
            err = await _stop(proc)
        return first, reports, err

    first, reports, err = asyncio.run(main())
    assert "at most 64 calls at once" in first, first
    endings = [ending(r) for r in reports]
    assert "broken" not in endings, endings
    assert 64 <= endings.count("served") < 150 and endings.count("turned away") >= 1
    assert "Traceback" not in err and len(err.splitlines()) < 20, err[-3000:]
    turned = [line for line in err.splitlines() if "turned away" in line]
    assert 1 <= len(turned) <= 3, turned


def test_accept_out_of_files_backs_off_with_one_line_a_count(tmp_path: Path) -> None:
    # max_calls set far past what 96 files allow: accept() fails with EMFILE
    # while calls hold their files. The connections wait in the listen
    # backlog and are served as calls end; the log says so in a line or two
    async def main():
        port, proc, _ = await _serve(tmp_path, 96, 96, "max_calls = 500")
        try:
            # one call first: the call store's writer opens its files on its
            # first write, which must not be the moment files run out
            assert ending(await place(port, "hold", "1795820001.1")) == "served"
            await asyncio.sleep(1.5)
            reports = await asyncio.gather(*(
                place(port, "hold", f"1795820000.{n}", HeldCaller(1.0), timeout=60.0)
                for n in range(150)))
        finally:
            err = await _stop(proc)
        return reports, err

    reports, err = asyncio.run(main())
    endings = [ending(r) for r in reports]
    assert endings.count("served") == 150, endings
    failed = [line for line in err.splitlines() if "accept() failed" in line]
    assert 1 <= len(failed) <= 3, err[-3000:]
    assert "Too many open files" in failed[0]
    assert "Traceback" not in err and "out of system resource" not in err, err[-3000:]
    assert "max_calls 500 is more than the open-file limit (96)" in err
    assert len(err.splitlines()) < 20, err
