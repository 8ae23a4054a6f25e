"""`ccf status` against a real `ccf serve` (LiveCentre with its HTTP API,
runtime/asterisk/api.py, on 127.0.0.1 port 0, without AMI) serving the
deployed IWS hotline: the queues of the flow and the configured agents
show, and the API token is sent as the server requires it."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from ccf_cli import ccf

from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre
from ops.peer_thread import AGENTS

ROOT = Path(__file__).resolve().parents[2]
# starting loads and validates every deployed flow on the loop (seconds on a loaded
# machine), stopping drains the store: a bound on a hang, never a speed test
PATIENCE_S = 60.0


def test_ccf_status_reads_a_running_ccf_serve(tmp_path) -> None:
    (tmp_path / "agents.toml").write_text(AGENTS, encoding="utf-8")
    config = tmp_path / "ccf.toml"
    config.write_text('[fastagi]\nport = 4573\n[paths]\nflows = "flows"\nstore = "calls.db"\n'
                      '[agents]\nfile = "agents.toml"\n[api]\ntoken_env = "OPS_API_TOKEN"\n',
                      encoding="utf-8")
    env = {"OPS_API_TOKEN": "tok-123"}
    deployed = ccf("deploy", str(ROOT / "examples" / "iws"), "--config", str(config),
                   "--no-apply")
    assert deployed.exit_code == 0, deployed.output

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    live = LiveCentre(load_config(config, environ=env), port=0, use_ami=False, api_port=0)
    try:
        asyncio.run_coroutine_threadsafe(ServedCentre(live).start(), loop).result(PATIENCE_S)
        assert live.api_address is not None, live.api_error
        port = live.api_address[1]
        client = tmp_path / "client.toml"
        client.write_text(f'[api]\nport = {port}\ntoken_env = "OPS_API_TOKEN"\n',
                          encoding="utf-8")
        as_json = ccf("status", "--once", "-f", "json", "--config", str(client), env=env)
        table = ccf("status", "--once", "--config", str(client), env=env)
        refused = ccf("status", "--once", "--config", str(client), env={"OPS_API_TOKEN": ""})
    finally:
        asyncio.run_coroutine_threadsafe(live.stop(), loop).result(PATIENCE_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    assert as_json.exit_code == 0, as_json.output
    status = json.loads(as_json.stdout)
    assert set(status) >= {"server", "calls", "queues", "agents"}
    assert status["calls"] == []
    assert status["server"]["ami"] == "off"
    assert {a["id"] for a in status["agents"]} == {"li", "wang"}
    queues = {q["queue"] for q in status["queues"]}
    assert queues, status
    assert table.exit_code == 0
    assert "No calls in progress." in table.stdout
    for name in (*queues, "li", "wang"):
        assert name in table.stdout
    assert refused.exit_code == 2  # the token: a usage error
    assert "set OPS_API_TOKEN to the API token ccf serve uses" in refused.output
