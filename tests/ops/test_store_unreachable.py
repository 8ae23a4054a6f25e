"""A PostgreSQL store whose server is down: every command that names a store says so on one
line naming the URL (never the password) and exits UNREACHABLE (4, a service that did not answer)
at once, no pool warnings, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf
from ports import free_port

from ccdsl.cli.exit_codes import UNREACHABLE
from ccdsl.runtime.operations.database import PASSWORD_ENV

SECRET = "pg-secret-never-shown"
FLOW = """flow demo

on start:
  answer
  play tts "Welcome."
  hangup
"""


# every command that names a store, with what else it needs; {url} is the down server's
COMMANDS = [
    ["calls", "list", "--store", "{url}"],
    ["calls", "show", "c1", "--store", "{url}"],
    ["calls", "callbacks", "--store", "{url}"],
    ["voicemail", "list", "--store", "{url}"],
    ["wrapup", "c1", "--field", "reason=order", "--store", "{url}"],
    ["report", "--store", "{url}"],
    ["graph", "{flow}", "--store", "{url}"],
    ["store", "prune", "--before", "2026-01-01", "--store", "{url}"],
    ["store", "backup", "{dir}/b.dump", "--store", "{url}"],
    ["store", "migrate", "--store", "{url}"],
    ["simulate", "{flow}", "--store", "{url}"],
    ["serve", "--simulate", "{flow}", "--store", "{url}", "--web-port", "0"],
    ["callback", "c1", "-a", "li", "--simulate", "--agents", "{dir}/agents.toml",
     "--store", "{url}"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w[:2]))
def test_a_store_server_that_is_down(words: list[str], tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "demo.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "agents.toml").write_text('[[agents]]\nid = "li"\nextension = "8001"\n',
                                          encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://ccf@127.0.0.1:{free_port()}/ccf"
    argv = [w.format(url=url, flow=str(tmp_path / "demo.ccf"), dir=tmp_path) for w in words]
    result = ccf(*argv, env={PASSWORD_ENV: SECRET, "CCF_STORE": "", "CCF_CONFIG": ""})
    assert result.exit_code == UNREACHABLE, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert url in errors[0] and "Connection refused" in errors[0], result.output
    assert SECRET not in result.output
    assert "warning" not in result.output.lower(), result.output
