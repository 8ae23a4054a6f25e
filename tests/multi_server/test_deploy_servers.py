"""`ccf deploy` on several Asterisk servers ([[asterisk]]): two AMI test peers over real sockets,
the dialplan written on both and said per server, nothing written when one cannot be reached,
both put back when one fails half-way, each server's own secret variable, the config's checks."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from asterisk.hotline_ir import hotline_deployed  # noqa: F401 - the `hotline` fixture
from asterisk.test_deploy import FailingPeer, flows_folder
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread

from ccdsl.runtime.asterisk.config import ConfigError, load_config
from ccdsl.runtime.asterisk.deploy import (
    DeployError,
    ami_connectors,
    deploy,
    make_plan,
    rollback,
)
from ccdsl.runtime.asterisk.dialplan import EXTENSIONS_FILE, QUEUES_FILE
from ccdsl.runtime.asterisk.flowstore import FlowStore
from multi_server.servers import asterisk_pair

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
ENV = {"SECRET_A": "secret-of-a-not-printed", "SECRET_B": "secret-of-b-not-printed"}


def two_servers(tmp_path: Path, port_a: int, port_b: int, numbers: str = "") -> Path:
    path = tmp_path / "ccf.toml"
    path.write_text(textwrap.dedent(f"""\
        [ami]
        timeout = "2s"
        {{pair}}[paths]
        flows = "store"
        [agents]
        file = "{IWS / 'agents.toml'}"
        [numbers]
        {numbers or '"4008001234" = "hotline"'}
        """).replace("{pair}", asterisk_pair(port_a, port_b, user_b="ccf-b")),
        encoding="utf-8")
    return path


def peers(b: AmiPeer | None = None) -> tuple[AmiPeer, AmiPeer]:
    return (AmiPeer(users={"ccf": ENV["SECRET_A"]}),
            b or AmiPeer(users={"ccf-b": ENV["SECRET_B"]}))


def run_with(coro_factory, a: AmiPeer, b: AmiPeer):
    async def main():
        await a.start()
        await b.start()
        try:
            return await coro_factory(a.port, b.port)
        finally:
            await a.stop()
            await b.stop()

    return asyncio.run(main())


def sections(peer: AmiPeer, name: str) -> dict:
    return {c.name: c.lines for c in peer.configs.get(name, [])}


def test_each_server_gets_the_dialplan_and_says_so(tmp_path, hotline):
    a, b = peers()

    async def go(port_a, port_b):
        config = load_config(two_servers(tmp_path, port_a, port_b), environ=ENV)
        store = FlowStore(config.flows_dir)
        plan = make_plan(config, store, {"hotline": hotline})
        version, done = await deploy(config, store, plan, connect=ami_connectors(config))
        return plan, version, done

    plan, version, done = run_with(go, a, b)
    assert version.version == "0001"
    assert [line.split(":")[0] for line in done] == ["a", "b"]
    assert all(line.endswith("dialplan reload; reload app_queue.so") for line in done)
    for peer in (a, b):
        for name in (EXTENSIONS_FILE, QUEUES_FILE):
            assert sections(peer, name) == {s.name: [(x.key, x.value) for x in s.lines]
                                            for s in plan.files[name].sections}
        assert peer.reloads == ["dialplan", "app_queue.so"]
    assert [x["Username"] for x in b.actions if x["Action"] == "Login"] == ["ccf-b"]


def test_one_server_unreachable_writes_nothing_anywhere(tmp_path, hotline):
    a = AmiPeer(users={"ccf": ENV["SECRET_A"]})

    async def go():
        await a.start()
        closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port_b = closed.sockets[0].getsockname()[1]
        closed.close()
        await closed.wait_closed()
        try:
            config = load_config(two_servers(tmp_path, a.port, port_b), environ=ENV)
            store = FlowStore(config.flows_dir)
            plan = make_plan(config, store, {"hotline": hotline})
            with pytest.raises(DeployError) as caught:
                await deploy(config, store, plan, connect=ami_connectors(config))
            return caught.value
        finally:
            await a.stop()

    error = asyncio.run(go())
    assert str(error).startswith("b: cannot reach AMI at 127.0.0.1:")
    assert "check [[asterisk]] b in" in str(error) and error.unreachable
    assert not (tmp_path / "store").exists()
    assert a.configs.get(EXTENSIONS_FILE) is None  # logged in to, never written
    assert [x["Action"] for x in a.actions] == ["Login", "Logoff"]


def test_a_failure_on_one_server_puts_both_back(tmp_path, hotline):
    failing = FailingPeer(users={"ccf-b": ENV["SECRET_B"]})
    failing.failures = 0  # the first deploy works everywhere
    a, b = peers(failing)

    async def go(port_a, port_b):
        config = load_config(two_servers(tmp_path, port_a, port_b), environ=ENV)
        store = FlowStore(config.flows_dir)
        await deploy(config, store, make_plan(config, store, {"hotline": hotline}),
                     connect=ami_connectors(config))  # 0001 everywhere
        second = load_config(two_servers(tmp_path, port_a, port_b,
                                         '"4008001234" = "hotline"\n"4008005555" = "hotline"'),
                             environ=ENV)
        failing.failures = 1  # the new queues file fails on b; the old ones go back
        with pytest.raises(DeployError) as caught:
            await deploy(second, store, make_plan(second, store, {"hotline": hotline}),
                         connect=ami_connectors(second))
        return store, str(caught.value)

    store, message = run_with(go, a, b)
    assert message == ("b: Asterisk did not write queues_ccf.conf: Save of config failed; the "
                       "flow store is back at version 0001; a: Asterisk's files were put back "
                       "as they were; b: Asterisk's files were put back as they were")
    assert store.current_version() == "0001"
    for peer in (a, b):
        text = peer.config_text(EXTENSIONS_FILE)
        assert "4008005555" not in text and "4008001234" in text


def test_rollback_reapplies_the_previous_version_on_every_server(tmp_path, hotline):
    a, b = peers()
    other = {**hotline, "flow": {**hotline["flow"], "name": "other"}}

    async def go(port_a, port_b):
        first = load_config(two_servers(tmp_path, port_a, port_b), environ=ENV)
        store = FlowStore(first.flows_dir)
        await deploy(first, store, make_plan(first, store, {"hotline": hotline}),
                     connect=ami_connectors(first))
        second = load_config(two_servers(tmp_path, port_a, port_b, '"4008009999" = "other"'),
                             environ=ENV)
        await deploy(second, store, make_plan(second, store, {"other": other}),
                     connect=ami_connectors(second))
        version, done = await rollback(first, store, connect=ami_connectors(first))
        return version, done

    version, done = run_with(go, a, b)
    assert version.version == "0001" and [line[:2] for line in done] == ["a:", "b:"]
    for peer in (a, b):
        inbound = str(sections(peer, EXTENSIONS_FILE)["ccf-inbound"])
        assert "4008001234,1,Answer()" in inbound and "4008009999" not in inbound
        assert peer.reloads == ["dialplan", "app_queue.so"] * 3


def test_the_command_reports_per_server_and_fails_if_any_failed(tmp_path):
    folder = flows_folder(tmp_path)
    with peer_in_thread(AmiPeer(users={"ccf": ENV["SECRET_A"]})) as a, \
            peer_in_thread(AmiPeer(users={"ccf-b": ENV["SECRET_B"]})) as b:
        config = two_servers(tmp_path, a.port, b.port, '"4008001234" = "greet"')
        result = ccf("deploy", str(folder), "-c", str(config), env=ENV)
        assert result.exit_code == 0, result.output
        assert "Applied through AMI on every server:\n  a: created extensions_ccf.conf" \
            in result.output
        assert "\n  b: created extensions_ccf.conf" in result.output
        assert not [v for v in ENV.values() if v in result.output]
        assert a.reloads == b.reloads == ["dialplan", "app_queue.so"]
        missing = ccf("deploy", str(folder), "-c", str(config),
                      env={"SECRET_A": ENV["SECRET_A"], "SECRET_B": ""})
    assert missing.exit_code == 2
    assert "the AMI secret of the Asterisk server b is missing: set the environment " \
           "variable SECRET_B" in missing.output
    with peer_in_thread(AmiPeer(users={"ccf": ENV["SECRET_A"]})) as a:
        config = two_servers(tmp_path, a.port, 1, '"4008001234" = "greet"')
        result = ccf("deploy", str(folder), "-c", str(config), "-m", "again", env=ENV)
    assert result.exit_code == 4 and "error: b: cannot reach AMI" in result.output


@pytest.mark.parametrize(("extra", "said"), [
    ('[[asterisk]]\nname = "a"\nport = 5038\n[[asterisk]]\nname = "a"\nport = 5039\n',
     "asterisk[1].name: 'a' names two servers"),
    ('[[asterisk]]\nname = "a"\n[[asterisk]]\nname = "b"\n', "127.0.0.1:5038 is listed twice"),
    ('[[asterisk]]\nname = "a"\nsecret = "hunter2"\n',
     "asterisk[0].secret: secrets are not written in the file"),
    ('[ami]\nhost = "10.0.0.9"\n[[asterisk]]\nname = "a"\n',
     "ami.host and [[asterisk]] are both given"),
    ("asterisk = []\n", "asterisk: the list is empty"),
    ('[[asterisk]]\nport = 5038\n', "asterisk.0"),
    ('[[asterisk]]\nname = "a"\nport = 0\n', "asterisk.0.port: 0 is not valid"),
])
def test_bad_server_lists_are_clear_config_errors(tmp_path, extra, said):
    path = tmp_path / "ccf.toml"
    path.write_text(extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert any(said in p for p in caught.value.problems), caught.value.problems
    assert "hunter2" not in str(caught.value)


def test_ami_alone_is_one_unnamed_server(tmp_path):
    path = tmp_path / "ccf.toml"
    path.write_text('[ami]\nport = 5040\nsecret_env = "S"\n', encoding="utf-8")
    config = load_config(path, environ={"S": "x"})
    assert [(s.name, s.ami.port, s.ami.secret) for s in config.servers] == [("", 5040, "x")]
    assert config.ami == config.servers[0].ami


def test_config_check_lists_each_server_and_its_secret(tmp_path):
    config = two_servers(tmp_path, 5038, 5039)
    result = ccf("config", "check", "--config", str(config), env={"SECRET_A": ENV["SECRET_A"]})
    assert "ami a" in result.output and "ccf@127.0.0.1:5038" in result.output
    assert "ccf-b@127.0.0.1:5039" in result.output
    assert "set ($SECRET_A)" in result.output and "missing ($SECRET_B)" in result.output
    assert ("the AMI secret of the Asterisk server b is missing: set the environment "
            "variable SECRET_B") in " ".join(result.output.split())
    assert ENV["SECRET_A"] not in result.output
