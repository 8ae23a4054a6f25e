"""Several FastAGI workers in the generated dialplan: `[fastagi] srv` (hagi://, Asterisk's SRV
lookup) and `hosts` (a failover list), as golden files of the IWS centre, the checks on both keys,
and the failover list run as Asterisk runs it against real sockets (a worker down, the next one
reached; every worker down, the fallback); test_workers_failover.py runs it on `ccf serve`.

CCF_UPDATE_GOLDEN=1 rewrites the golden files from the current output."""

from __future__ import annotations

import asyncio
import os
import re
import tomllib
from pathlib import Path

import pytest
from asterisk.hotline_ir import hotline_ir  # noqa: F401 - the `hotline` fixture
from ports import free_port

from ccdsl.runtime.asterisk.config import ConfigError, config_from_document, load_config
from ccdsl.runtime.asterisk.dialplan import EXTENSIONS_FILE, render_dialplan
from ccdsl.runtime.asterisk.flowstore import Bundle
from tests.multi_server.dialplan_runner import run_extension

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "iws" / "ccf.toml"
GOLDEN = Path(__file__).with_name("golden")


def example_with(fastagi: dict | None = None, **sections):
    doc = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["fastagi"] = {**doc["fastagi"], **(fastagi or {})}
    doc.update(sections)
    return config_from_document(doc, EXAMPLE, {})


def problems(fastagi: dict | None = None, **sections) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        example_with(fastagi, **sections)
    return caught.value.problems


def extensions(config, hotline) -> str:
    return render_dialplan(config, Bundle("test", {"hotline": hotline},
                                          config.numbers))[EXTENSIONS_FILE]


@pytest.mark.parametrize(("name", "fastagi"), [
    ("extensions_ccf_srv.conf", {"srv": "ccf.example.org"}),
    ("extensions_ccf_hosts.conf", {"hosts": ["10.0.0.1:4573", "10.0.0.2:4573",
                                             "[2001:db8::7]:4600"]}),
])
def test_golden(hotline, name, fastagi):
    text = extensions(example_with(fastagi), hotline)
    golden = GOLDEN / name
    if os.environ.get("CCF_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_neither_key_keeps_the_single_host_dialplan(hotline):
    golden = ROOT / "tests" / "asterisk" / "golden" / EXTENSIONS_FILE
    assert extensions(example_with(), hotline) == golden.read_text(encoding="utf-8")
    assert extensions(example_with(), hotline) == extensions(load_config(EXAMPLE, environ={}),
                                                             hotline)


def test_srv_sends_every_agi_to_the_srv_name(hotline):
    text = extensions(example_with({"srv": "ccf.example.org"}), hotline)
    agis = re.findall(r"AGI\(([^)]*)\)", text)
    assert agis and all(u.startswith("hagi://ccf.example.org/") for u in agis)
    # no port: res_agi's launch_ha_netscript skips the SRV lookup when the host has one
    assert "hagi://ccf.example.org/hotline" in agis
    assert "hagi://ccf.example.org/ccf-answered?call=${ARG1}&agent=${ARG2}" in agis


def test_hosts_try_each_worker_then_the_fallback(hotline):
    config = example_with({"hosts": ["10.0.0.1:4573", "10.0.0.2:4574"]},
                          shutdown={"fallback": "0@operators"})
    lines = [x for x in extensions(config, hotline).splitlines() if x.startswith("exten => 4008")]
    assert lines == [
        "exten => 4008001234,1,Answer()",
        "exten => 4008001234,n,Set(CCF_AGI_WORKER=)",
        "exten => 4008001234,n,AGI(agi://10.0.0.1:4573/hotline)",
        'exten => 4008001234,n,GotoIf($["${AGISTATUS}" != "FAILURE" & "${CCF_AGI_WORKER}" != '
        '"refused" | "${CCF_AGI_WORKER}" != "" & "${CCF_AGI_WORKER}" != "refused"]?agi_done)',
        "exten => 4008001234,n,Set(CCF_AGI_WORKER=)",
        "exten => 4008001234,n,AGI(agi://10.0.0.2:4574/hotline)",
        "exten => 4008001234,n(agi_done),Goto(operators,0,1)",
    ]


@pytest.mark.parametrize(("fastagi", "said"), [
    ({"srv": "ccf.example.org", "hosts": ["10.0.0.1:4573"]}, "srv and hosts are both given"),
    ({"hosts": []}, "fastagi.hosts: the list is empty"),
    ({"hosts": ["10.0.0.1"]}, "fastagi.hosts[0]: '10.0.0.1' is not valid; expected HOST:PORT"),
    ({"hosts": ["10.0.0.1"]}, "; no :PORT after the host"),
    ({"hosts": ["10.0.0.1:99999"]}, "; the port '99999' is not a whole number from 1 to 65535"),
    ({"hosts": ["10.0.0.1:\u0664\u0665\u0667\u0663"]}, "fastagi.hosts[0]"),  # not ASCII digits
    ({"hosts": ["2001:db8::1:4573"]}, "an IPv6 address is written in brackets before :PORT"),
    ({"hosts": ["10.0.0.1:4573", "10.0.0.1:99999"]}, "fastagi.hosts[1]: '10.0.0.1:99999'"),
    ({"hosts": ["[fe80::zz]:4573"]}, "fastagi.hosts[0]"),
    ({"hosts": ["a b:4573"]}, "fastagi.hosts[0]"),
    ({"hosts": ["10.0.0.1:4573", "10.0.0.1:4573"]}, "listed twice"),
    ({"srv": "ccf.example.org:4573"}, "a port would turn that lookup off"),
    ({"srv": "bad name"}, "fastagi.srv: 'bad name' is not valid"),
])
def test_bad_worker_keys_are_clear_config_errors(fastagi, said):
    found = problems(fastagi)
    assert any(said in p for p in found), found


@pytest.mark.parametrize("fastagi", [{"srv": "ccf.example.org\n"},
                                     {"hosts": ["ccf.example.org\n:4573"]}])
def test_a_name_ending_in_a_newline_is_not_a_dns_name(fastagi):
    # ccf.toml's control-character check refuses it first; read_workers must refuse it on its
    # own too (`$` matches before a final newline, which would end the hagi:// dialplan line)
    from ccdsl.runtime.asterisk.config_servers import AgiWorkers, read_workers

    found: list[str] = []
    assert read_workers(fastagi, "ccf.toml", found) == AgiWorkers()
    assert any("is not valid" in p for p in found), found


# -- the failover list as Asterisk runs it (dialplan_runner.py) ----------------------------------


async def _worker(seen: list[bytes]):
    async def serve(reader, writer):
        seen.append(await reader.readuntil(b"\n\n"))
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_worker_down_sends_the_call_to_the_next(hotline):
    async def main():
        seen: list[bytes] = []
        worker = await _worker(seen)
        up = worker.sockets[0].getsockname()[1]
        down = free_port()
        config = example_with({"hosts": [f"127.0.0.1:{down}", f"127.0.0.1:{up}"]},
                              shutdown={"fallback": "0@operators"})
        text = extensions(config, hotline)
        try:
            reached, went = await run_extension(text, "4008001234")
        finally:
            worker.close()
            await worker.wait_closed()
        assert reached == [f"agi://127.0.0.1:{up}/hotline"]
        assert went == "Goto(operators,0,1)"  # the flow ended: on to the fallback, no 3rd try
        assert len(seen) == 1 and b"agi_request: agi://127.0.0.1" in seen[0]

        # the first worker up: the second is never tried
        seen.clear()
        worker = await _worker(seen)
        first = worker.sockets[0].getsockname()[1]
        config = example_with({"hosts": [f"127.0.0.1:{first}", f"127.0.0.1:{down}"]})
        try:
            reached, went = await run_extension(extensions(config, hotline), "4008001234")
        finally:
            worker.close()
            await worker.wait_closed()
        assert reached == [f"agi://127.0.0.1:{first}/hotline"]
        assert went == "Goto(ccf-transfer,+862150001234,1)"  # the example's fallback

    asyncio.run(main())


def test_every_worker_down_goes_to_the_fallback(hotline):
    async def main():
        ports = [free_port(), free_port()]
        config = example_with({"hosts": [f"127.0.0.1:{p}" for p in ports]},
                              shutdown={"fallback": "0@operators"})
        return await run_extension(extensions(config, hotline), "4008001234")

    assert asyncio.run(main()) == ([], "Goto(operators,0,1)")
