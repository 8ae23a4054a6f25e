"""`ccf status` against a small HTTP server on 127.0.0.1 serving GET
/status in the shape the team brief fixes for `ccf serve`: the table and
JSON views, the token, ccf serve not running, a server that answers
something else, and the live view refreshing in place."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from ccf_cli import ccf
from http_stand_in import JsonHandler, serving
from ports import free_port

from ccdsl.runtime.asterisk.api_client import ApiAddress, api_address, fetch_status
from ccdsl.runtime.asterisk.api_client import ApiClientError as StatusError
from ccdsl.runtime.asterisk.monitor import calls_by_step

STATUS = {
    "server": {"version": "0001", "started": "2026-11-30T09:00:00+08:00", "calls_served": 12,
               "ami": "up"},
    "calls": [
        {"call_id": "1795.1", "flow": "hotline", "version": "0001", "caller": "+8613800000001",
         "started": "2026-11-30T10:00:00+08:00", "seconds": 42.1, "step": "agent",
         "state": "agent", "queue": "service", "agent": "li"},
        {"call_id": "1795.2", "flow": "hotline", "version": "0001", "caller": "+8613800000002",
         "started": "2026-11-30T10:00:30+08:00", "seconds": 95.0, "step": "agent",
         "state": "queue", "queue": "service", "agent": None},
        {"call_id": "1795.3", "flow": "hotline", "version": "0001", "caller": "+8613800000003",
         "started": "2026-11-30T10:01:50+08:00", "seconds": 3725.0, "step": "main_menu",
         "state": "ivr", "queue": None, "agent": None},
    ],
    "queues": [{"queue": "service", "asterisk": "ccf-service", "waiting": 2,
                "longest_wait_s": 95.0, "members": 4, "available": 1}],
    "agents": [{"id": "li", "name": "Li Na", "state": "busy", "current_call": "1795.1",
                "queues": ["service"]},
               {"id": "wang", "name": "Wang Fang", "state": "available",
                "current_call": None, "queues": ["service", "tech"]}],
}


@contextmanager
def status_server(body: object = STATUS, *, token: str | None = None,
                  code: int = 200) -> Iterator[tuple[int, list[dict]]]:
    """A stand-in for ccf serve's API; yields its port and the requests seen."""
    seen: list[dict] = []

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                self.send_json(401, {"ok": False, "error": "unauthorized"})
            elif self.path != "/status":
                self.send_json(404, {"ok": False})
            else:
                self.send_json(code, body)

    with serving(Handler) as port:
        yield port, seen


def config_for(tmp_path: Path, port: int, token_env: str | None = None) -> str:
    lines = ["[api]", 'host = "127.0.0.1"', f"port = {port}"]
    if token_env:
        lines.append(f'token_env = "{token_env}"')
    path = tmp_path / "ccf.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_once_as_a_table_shows_calls_by_step_queues_and_agents(tmp_path) -> None:
    with status_server() as (port, seen):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 0, result.output
    assert seen == [{"path": "/status", "auth": None}]
    out = result.stdout
    assert (f"ccf serve at 127.0.0.1:{port}: version 0001, started 2026-11-30T09:00:00+08:00, "
            "12 calls served, AMI up; 3 calls now") in flat(out)
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
            if line.startswith("│")]

    def row(*cells: str) -> bool:
        return list(cells) in rows

    assert "Calls by step" in out
    assert row("agent", "2") and row("main_menu", "1")
    assert row("1795.1", "hotline", "+8613800000001", "agent", "agent", "service", "li",
               "0:42")
    assert row("1795.2", "hotline", "+8613800000002", "agent", "queue", "service", "-", "1:35")
    assert row("1795.3", "hotline", "+8613800000003", "main_menu", "ivr", "-", "-", "1:02:05")
    assert row("service", "2", "1:35", "4", "1")
    assert row("li", "Li Na", "busy", "1795.1", "service")
    assert row("wang", "Wang Fang", "available", "-", "service, tech")


def test_once_as_json_is_the_status_itself(tmp_path) -> None:
    with status_server() as (port, _):
        result = ccf("status", "--once", "--format", "json", "--config",
                     config_for(tmp_path, port))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == STATUS


def test_an_idle_centre_says_so(tmp_path) -> None:
    idle = {"server": {"version": "0001", "started": "x", "calls_served": 0, "ami": "down"},
            "calls": [], "queues": [], "agents": []}
    with status_server(idle) as (port, _):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 0
    for line in ("No calls in progress.", "No queues.", "No agents.", "AMI down; 0 calls now"):
        assert line in result.stdout


def test_ccf_serve_not_running(tmp_path) -> None:
    port = free_port()
    result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 4  # UNREACHABLE
    assert result.output.strip() == (f"error: ccf serve is not running at 127.0.0.1:{port} "
                                     "(start it with `ccf serve`, or name its ccf.toml with "
                                     "--config)")
    live = ccf("status", "--config", config_for(tmp_path, port))
    assert live.exit_code == 4 and "is not running" in live.output


def test_the_token_is_sent_from_the_variable_api_token_env_names(tmp_path) -> None:
    with status_server(token="s3cret") as (port, seen):
        config = config_for(tmp_path, port, token_env="MY_API_TOKEN")
        refused = ccf("status", "--once", "--config", config, env={"MY_API_TOKEN": ""})
        wrong = ccf("status", "--once", "--config", config, env={"MY_API_TOKEN": "nope"})
        allowed = ccf("status", "--once", "-f", "json", "--config", config,
                      env={"MY_API_TOKEN": "s3cret"})
    assert refused.exit_code == 2 and wrong.exit_code == 2
    assert ("refused the request: set MY_API_TOKEN to the API token ccf serve uses"
            in refused.output)
    assert "s3cret" not in refused.output + wrong.output
    assert "nope" not in wrong.output
    assert allowed.exit_code == 0 and json.loads(allowed.stdout) == STATUS
    assert [r["auth"] for r in seen] == [None, "Bearer nope", "Bearer s3cret"]


def test_the_default_token_variable_is_ccf_api_token(tmp_path) -> None:
    with status_server(token="t") as (port, seen):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port),
                     env={"CCF_API_TOKEN": "t"})
    assert result.exit_code == 0 and seen[0]["auth"] == "Bearer t"


@pytest.mark.parametrize(("body", "code", "message"), [
    (b"<html>hello</html>", 200, "sent no JSON for /status"),
    ([1, 2], 200, "sent no status object"),
    ({"ok": False}, 500, "answered HTTP 500 to GET /status"),
])
def test_a_server_that_is_not_ccf_serve(tmp_path, body, code, message) -> None:
    with status_server(body, code=code) as (port, _):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 1 and message in result.output


def test_the_api_address_from_ccf_toml(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ccf.toml here: the defaults
    assert api_address(None) == ApiAddress("127.0.0.1", 8573, "CCF_API_TOKEN")
    (tmp_path / "a.toml").write_text('[ami]\nport = 5038\n', encoding="utf-8")
    assert api_address(str(tmp_path / "a.toml")) == ApiAddress()
    (tmp_path / "b.toml").write_text('[api]\nport = "x"\n', encoding="utf-8")
    with pytest.raises(StatusError, match=r"api\.port: 'x' is not valid"):
        api_address(str(tmp_path / "b.toml"))
    with pytest.raises(StatusError, match="no such file"):
        api_address(str(tmp_path / "none.toml"))
    (tmp_path / "c.toml").write_text('[api]\nport = 0\n', encoding="utf-8")
    with pytest.raises(StatusError, match="name the port `ccf serve` printed"):
        api_address(str(tmp_path / "c.toml"))
    missing = ccf("status", "--once", "--config", str(tmp_path / "none.toml"))
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_usage_errors(tmp_path) -> None:
    config = config_for(tmp_path, free_port())
    json_live = ccf("status", "--format", "json", "--config", config)
    assert json_live.exit_code == 2 and "add --once" in json_live.output
    bad = ccf("status", "--interval", "often", "--config", config)
    assert bad.exit_code == 2 and "--interval" in bad.output
    fast = ccf("status", "--interval", "10ms", "--config", config)
    assert fast.exit_code == 2


def test_the_live_view_refreshes_in_place_and_survives_a_failed_read() -> None:
    from rich.console import Console

    from ccdsl.cli.status import watch

    later = {**STATUS, "calls": STATUS["calls"][:1]}
    answers: list = [later, StatusError("ccf serve at 127.0.0.1:1 did not answer: ReadTimeout")]

    def fetch() -> dict:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    watch(fetch, console, 0.01, "127.0.0.1:1", STATUS, frames=2)
    text = out.getvalue()
    assert "3 calls now" in text and "1 call now" in text
    assert "did not answer: ReadTimeout; showing the status of" in flat(text)
    # in place: the cursor goes back up over the last view before each new one
    assert "\x1b[1A" in text or "\x1b[2K" in text


def test_calls_by_step_counts_the_busiest_first() -> None:
    assert calls_by_step(STATUS) == [("agent", 2), ("main_menu", 1)]
    assert calls_by_step({"calls": []}) == []


def test_fetch_status_has_a_timeout() -> None:
    # a socket that accepts and never answers: the read gives up, clearly
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(StatusError, match="did not answer: ReadTimeout"):
            fetch_status(ApiAddress("127.0.0.1", port), None, timeout_s=0.2)


def test_ccf_status_help() -> None:
    result = ccf("status", "--help")
    assert result.exit_code == 0
    text = flat(result.stdout)
    assert "Show what the contact centre is doing now, from a running `ccf serve`" in text
    for option in ("--once", "--format", "--interval", "--config", "token_env"):
        assert option in text


def test_the_limits_ccf_serve_had_to_act_on_are_said(tmp_path) -> None:
    """docs/asterisk.md "Limits": calls turned away at the cap, AMI events
    not stored... one line when any happened, nothing when none did."""
    quiet = {**STATUS, "limits": {"max_calls": 448, "calls_refused": 0,
                                  "ami_events_not_stored": 0}}
    busy = {**STATUS, "limits": {"max_calls": 448, "calls_refused": 3,
                                 "api_unauthenticated_closed": 2, "ami_channels_evicted": 0,
                                 "ami_events_not_stored": 120}}
    with status_server(quiet) as (port, _):
        out = ccf("status", "--once", "--config", config_for(tmp_path, port)).stdout
    assert "limits:" not in out
    with status_server(busy) as (port, _):
        out = ccf("status", "--once", "--config", config_for(tmp_path, port)).stdout
    assert ("limits: 3 calls turned away at the cap of 448; 2 API connection(s) without a "
            "token closed; 120 AMI event(s) not stored") in flat(out)
