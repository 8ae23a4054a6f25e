"""Test helpers for `ccf serve` end to end: a compiled flow ready to
deploy, a ccf.toml for a centre on 127.0.0.1 (an AMI peer's port, the
API on any free port, quiet text-to-speech, the example agents), the IWS
hotline deployed to it, a call placed by the FastAGI peer, and waiting for
a condition."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from pathlib import Path

from doubles.raw import ScriptBackend

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk.config import CentreConfig, load_config
from ccdsl.runtime.asterisk.deploy import ami_connector, deploy, make_plan
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine, CallerReport
from ccdsl.runtime.testing.via_asterisk import quiet_tts_command

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
# real seconds a test waits for something that takes milliseconds: a bound on a hang, not a
# speed check (on a loaded 2-core CI machine a deploy seen by a worker took over 5 s)
WAIT_S = 30.0


def compiled(path: Path) -> dict:
    """A flow's IR as `ccf deploy` stores it (no test blocks)."""
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    return {**result.ir, "tests": []}


def write_config(folder: Path, ami_port: int, *, extra: str = "",
                 numbers: str = '"4008001234" = "hotline"\n"4008005678" = "line"',
                 api: str = "", agents: str | Path = IWS / "agents.toml",
                 ami_timeout: str = "2s", store: str = "calls.db",
                 flows: str = "flows") -> Path:
    """ccf.toml of a test centre; `api` adds lines to [api], `extra` adds
    sections (TOML text); `agents`: the agents file (relative: beside it);
    `store`: the call store, a file ([paths] store) or a PostgreSQL URL
    ([store] url); `flows`: [paths] flows (the SQLite store's file: the flows
    kept in it)."""
    path = folder / "ccf.toml"
    url = store.startswith(("postgresql://", "postgres://"))
    path.write_text(textwrap.dedent(f"""\
        [ami]
        port = {ami_port}
        timeout = "{ami_timeout}"
        [api]
        port = 0
        {api}
        [paths]
        flows = {json.dumps(flows)}
        {"" if url else f"store = {json.dumps(store)}"}
        recordings = "recordings"
        sounds = "sounds"
        tts_cache = "tts-cache"
        [tts]
        command = {json.dumps(list(quiet_tts_command()))}
        [crm]
        adapter = "sqlite"
        path = "crm.db"
        [agents]
        file = "{agents}"
        [numbers]
        """) + numbers + "\n" + (f"[store]\nurl = {json.dumps(store)}\n" if url else "")
        + extra, encoding="utf-8")
    return path


async def deployed_hotline(folder: Path, ami_port: int, secret: str, *,
                           extra: str = "") -> CentreConfig:
    """examples/iws/hotline.ccf on 4008001234 deployed as `ccf deploy` does
    it (its queues and dialplan through the AMI peer on `ami_port`) to a test
    centre in `folder`: the centre's config."""
    path = write_config(folder, ami_port, numbers='"4008001234" = "hotline"', extra=extra)
    config = load_config(path, environ={"CCF_AMI_SECRET": secret})
    flows = FlowStore(config.flows_dir)
    plan = make_plan(config, flows, {"hotline": compiled(IWS / "hotline.ccf")})
    await deploy(config, flows, plan, connect=ami_connector(config))
    return config


async def place(port: int, script: str, uniqueid: str, backend=None, *,
                callerid: str | None = "+8613800000001", timeout: float = WAIT_S) -> CallerReport:
    """One call of `script` by the FastAGI peer (its backend answers the
    commands; default: every command succeeds)."""
    line = CallerLine(script=script, uniqueid=uniqueid, callerid=callerid,
                      channel=f"PJSIP/caller-{uniqueid.replace('.', '')}")
    return await AgiCaller("127.0.0.1", port, backend or ScriptBackend(), line,
                           timeout=timeout).run()


async def until(check, what: str, timeout: float = WAIT_S, *, every: float = 0.01) -> None:
    """Wait until check() is true, asking it every `every` seconds, at most `timeout`."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        await asyncio.sleep(every)
