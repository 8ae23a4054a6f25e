"""`ccf serve` whose console and HTTP API cannot listen (the port is taken) does not start:
exit 2 naming the address and the setting that chose it, and nothing left listening, so
`ccf status` can never show another process's answers as this centre's."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import pytest
from asterisk.centre import write_config
from ccf_cli import ccf
from ports import free_port


@pytest.fixture
def taken():
    """A port another process listens on (a real socket)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture(autouse=True)
def stopped_if_it_serves():
    """A serve that wrongly starts is stopped (SIGTERM, as a service manager would), so the
    test fails on its exit status instead of waiting for ever."""
    timer = threading.Timer(30, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    yield
    timer.cancel()


def can_bind(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_the_api_port_of_ccf_toml_taken_stops_serve(tmp_path: Path, taken: int):
    config = write_config(tmp_path, free_port())
    config.write_text(config.read_text().replace("[api]\nport = 0", f"[api]\nport = {taken}"),
                      encoding="utf-8")
    agi = free_port()
    result = ccf("serve", "--config", str(config), "--no-ami", "--port", str(agi))
    assert result.exit_code == 2, result.output
    assert f"127.0.0.1:{taken}" in result.output
    assert "[api] port" in result.output and str(config) in result.output
    assert "ccf serve: not started" in result.output
    assert "FastAGI on" not in result.output
    assert can_bind(agi)  # the FastAGI listener was closed


def test_a_web_port_taken_names_the_option(tmp_path: Path, taken: int):
    config = write_config(tmp_path, free_port())
    agi = free_port()
    result = ccf("serve", "--config", str(config), "--no-ami", "--port", str(agi),
                 "--web-port", str(taken))
    assert result.exit_code == 2, result.output
    assert f"127.0.0.1:{taken}" in result.output and "--web-port" in result.output
    assert can_bind(agi)
