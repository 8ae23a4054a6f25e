"""`ccf config check` warns about a FastAGI server beyond this machine (issue 11, item
11), as it does about the HTTP API: FastAGI has no password, so anyone who reaches its
port runs the flows and reads the CRM through them."""

from __future__ import annotations

import json

import pytest
from ccf_cli import ccf

from ccdsl.runtime.asterisk.config import load_config, warnings


def fastagi_notes(tmp_path, host: str) -> list[str]:
    path = tmp_path / "ccf.toml"
    path.write_text(f'[fastagi]\nhost = "{host}"\n', encoding="utf-8")
    return [n for n in warnings(load_config(path, environ={})) if "FastAGI" in n]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "pbx.example.com"])
def test_a_fastagi_host_beyond_this_machine_is_warned_about(tmp_path, host) -> None:
    [note] = fastagi_notes(tmp_path, host)
    assert f"FastAGI listens on {host}, beyond this machine" in note
    assert "anyone who reaches" in note and "runs the flows" in note and "CRM" in note
    assert "127.0.0.1" in note  # the fix


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_a_loopback_fastagi_host_is_not(tmp_path, host) -> None:
    assert fastagi_notes(tmp_path, host) == []


def test_the_default_is_not(tmp_path) -> None:
    path = tmp_path / "ccf.toml"
    path.write_text("[centre]\n", encoding="utf-8")
    assert not any("FastAGI" in n for n in warnings(load_config(path, environ={})))


def test_ccf_config_check_prints_it_and_still_passes(tmp_path) -> None:
    path = tmp_path / "ccf.toml"
    path.write_text('[fastagi]\nhost = "0.0.0.0"\n', encoding="utf-8")
    result = ccf("config", "check", "--config", str(path), env={"CCF_AMI_SECRET": "s"})
    assert result.exit_code == 0
    assert "warning: FastAGI listens on 0.0.0.0, beyond this machine" in \
        " ".join(result.output.split())
    data = json.loads(ccf("config", "check", "--config", str(path), "--format", "json",
                          env={"CCF_AMI_SECRET": "s"}).stdout)
    assert any("FastAGI listens on 0.0.0.0" in n for n in data["warnings"])
