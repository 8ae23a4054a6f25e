"""[api] advertise: the address the other workers and `ccf status` reach a worker's HTTP API at.
Checked with a clear message; unset with a bind on every address, this machine's name and the
port bound, said in the log; a loopback bind names itself. Two real workers bound to 0.0.0.0
reach each other by it, and `ccf status` says at which address a silent worker was asked."""

from __future__ import annotations

import asyncio
import logging
import textwrap
from pathlib import Path

import pytest

from ccdsl.cli.status import every_worker, render
from ccdsl.runtime.asterisk.api_advertise import Advertised, advertised, this_machine
from ccdsl.runtime.asterisk.api_client import ApiAddress, fetch_status
from ccdsl.runtime.asterisk.config import ConfigError, load_config, summary
from ccdsl.runtime.asterisk.config_api import ApiConfig
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.asterisk.status_merge import others
from ccdsl.runtime.console.serve import ServedCentre, stop_web

from .helpers import until
from .test_two_workers import two_workers

TOKEN = "advertise-test-token"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ccf.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(("given", "expected"), [
    ("cc-worker-1.example.com:8573", ("cc-worker-1.example.com", 8573)),
    ("cc-worker-1", ("cc-worker-1", None)),
    ("10.0.0.7:9000", ("10.0.0.7", 9000)),
    ("[2001:db8::1]:8573", ("2001:db8::1", 8573)),
    ("2001:db8::1", ("2001:db8::1", None)),
])
def test_an_advertised_address_is_read(tmp_path, given, expected) -> None:
    config = load_config(write(tmp_path, f'[api]\nhost = "0.0.0.0"\nadvertise = "{given}"\n'),
                         environ={})
    assert config.api.advertise == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("0.0.0.0:8573", "0.0.0.0 is every address of the machine, none another one can ask"),
    ("[::]:8573", ":: is every address of the machine"),
    ("cc1:http", "the port 'http' is not a whole number from 1 to 65535"),
    ("cc1:0", "the port '0' is not a whole number from 1 to 65535"),
    ("cc1:70000", "the port '70000'"),
    ("bad_name!:80", "'bad_name!' is not a host name or IP address"),
    ("[cc1]:80", "'cc1' in brackets is not an IPv6 address"),
    ("http://cc1:80", "is not valid"),
    ("cc1:\u00b2", "the port '\u00b2' is not a whole number"),  # int() refuses it: no traceback
    ("cc1:\u0661", "the port '\u0661' is not a whole number"),  # an Arabic-Indic one
    ("2001:db8::zz", "more than one ':' and not an IPv6 address"),
    ("[2001:db8::1]8573", "an IPv6 address is written in brackets, then :PORT if any"),
])
def test_a_wrong_advertised_address_is_refused_with_the_fix(tmp_path, given, expected) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, f'[api]\nadvertise = "{given}"\n'), environ={})
    [problem] = caught.value.problems
    assert f"api.advertise: {given!r} is not valid" in problem and expected in problem
    assert 'such as "cc-worker-1.example.com:8573"' in problem


def test_advertise_of_another_type_is_refused(tmp_path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[api]\nadvertise = 8573\n"), environ={})
    assert any("api.advertise: 8573 is not valid; expected \"HOST:PORT\" or \"HOST\"" in p
               for p in caught.value.problems), caught.value.problems


def test_what_is_advertised_for_each_bind() -> None:
    machine = lambda: "cc-worker-1.example.com"  # noqa: E731
    wildcard, loopback = ApiConfig(host="0.0.0.0"), ApiConfig(host="127.0.0.1")
    assert advertised(wildcard, "0.0.0.0", 8573, machine) == "cc-worker-1.example.com:8573"
    assert advertised(ApiConfig(host="::"), "::", 8001, machine) == "cc-worker-1.example.com:8001"
    assert advertised(loopback, "127.0.0.1", 8573, machine) == "127.0.0.1:8573"
    assert advertised(ApiConfig(host="::1"), "::1", 8573, machine) == "[::1]:8573"
    given = ApiConfig(host="0.0.0.0", advertise=("10.0.0.7", None))
    assert advertised(given, "0.0.0.0", 41000, machine) == "10.0.0.7:41000"  # the port bound
    given = ApiConfig(host="0.0.0.0", advertise=("lb.example.com", 443))
    assert advertised(given, "0.0.0.0", 41000, machine) == "lb.example.com:443"


def test_the_advertised_address_is_logged_once_per_bind(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ccdsl.serve")
    bound: list = [None]
    api = Advertised(ApiConfig(host="0.0.0.0", port=0), lambda: bound[0],
                     machine=lambda: "cc-worker-1")
    assert api.planned(0) is None and api() is None
    bound[0] = ("0.0.0.0", 41234)
    assert api() == api() == "cc-worker-1:41234"
    said = [r.getMessage() for r in caplog.records]
    assert said == ["workers: this worker's HTTP API (listening on 0.0.0.0:41234) is advertised "
                    "to the other workers and `ccf status` as cc-worker-1:41234 (this "
                    "machine's name: the API listens on every address; [api] advertise names "
                    "another)"]


def test_config_check_says_what_is_advertised(tmp_path) -> None:
    wildcard = load_config(write(tmp_path, '[api]\nhost = "0.0.0.0"\n'), environ={})
    assert dict(summary(wildcard))["api advertised"].startswith("this machine's name, port 8573")
    given = load_config(write(tmp_path, '[api]\nadvertise = "cc1"\nport = 9000\n'), environ={})
    assert dict(summary(given))["api advertised"] == "cc1:9000 ([api] advertise)"


def test_a_worker_does_not_ask_itself_under_its_advertised_name() -> None:
    status = {"workers": [
        {"host": "cc1", "api": "cc1.example.com:8573", "status": "up", "this": True},
        {"host": "cc2", "api": "cc2.example.com:8573", "status": "up", "this": False},
        {"host": "cc3", "api": "cc3.example.com:8573", "status": "down", "this": False}]}
    assert others(status, "127.0.0.1:8573") == ["cc2.example.com:8573"]


def test_status_names_the_address_a_silent_worker_was_asked_at() -> None:
    from rich.console import Console

    status = {"server": {"version": "0001", "workers_answering": ["127.0.0.1:8573"],
                         "workers_not_answering": ["cc2.example.com:8573"]},
              "workers": [{"host": "cc1", "api": "cc1.example.com:8573", "status": "up"},
                          {"host": "cc2", "api": "cc2.example.com:8573", "status": "up"}]}
    console = Console(width=200, record=True)
    console.print(render(status, "127.0.0.1:8573", at=0))
    text = console.export_text()
    assert "not answering at their HTTP API, their calls left out: cc2 (asked at " \
           "cc2.example.com:8573)" in text
    # a status whose worker rows carry an `api` that is no text (another worker's answer)
    status["workers"].append({"host": "odd", "api": ["not", "text"], "status": "up"})
    console = Console(width=200, record=True)
    console.print(render(status, "127.0.0.1:8573", at=0))
    assert "cc2 (asked at cc2.example.com:8573)" in console.export_text()


def test_two_workers_bound_to_every_address_reach_each_other_by_name(tmp_path, monkeypatch,
                                                                     caplog) -> None:
    """Each worker's row names this machine and its port, not 0.0.0.0; `ccf status` asking one
    gets the other's status through it, and names the address when the other stops answering."""
    config, _ = two_workers(tmp_path, monkeypatch, str(tmp_path / "calls.db"))
    path = Path(config.path)
    path.write_text(path.read_text().replace("[api]\n", '[api]\nhost = "0.0.0.0"\n', 1))
    config = load_config(path, environ={"CCF_API_TOKEN": TOKEN})
    caplog.set_level(logging.INFO, logger="ccdsl.serve")
    name = this_machine()

    async def main():
        runner = ServedCentre(LiveCentre(config, port=0, use_ami=False))
        other = ServedCentre(LiveCentre(config, port=0, use_ami=False))
        try:
            await runner.start()
            await other.start()
            ports = runner.live.api_address[1], other.live.api_address[1]
            wanted = {f"{name}:{ports[0]}", f"{name}:{ports[1]}"}
            await until(lambda: {w["api"] for w in runner.live.status().get("workers", ())}
                        == wanted, "both rows naming this machine")
            asked = ApiAddress("127.0.0.1", ports[0])
            both = await asyncio.to_thread(
                lambda: every_worker(fetch_status(asked, TOKEN), asked, TOKEN))
            await stop_web(other.web)  # its heartbeat goes on; its API is gone
            one = await asyncio.to_thread(
                lambda: every_worker(fetch_status(asked, TOKEN), asked, TOKEN))
        finally:
            await other.stop(1.0)
            await runner.stop(1.0)
        return ports, both, one

    (mine, theirs), both, one = asyncio.run(main())
    assert both["server"]["workers_answering"] == ["127.0.0.1:" + str(mine),
                                                   f"{name}:{theirs}"]
    assert both["server"]["workers_not_answering"] == []
    assert one["server"]["workers_not_answering"] == [f"{name}:{theirs}"]
    said = [r.getMessage() for r in caplog.records if "advertised" in r.getMessage()]
    assert f"as {name}:{mine} (this machine's name" in said[0]
    assert len(said) == 2  # once for each worker
