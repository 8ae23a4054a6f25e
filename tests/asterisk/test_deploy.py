"""`ccf deploy`, `ccf flows`: plans (what changes), the dialplan applied
through the AMI peer over a real socket (UpdateConfig in batches Asterisk
keeps whole, then the reloads), store and Asterisk kept in agreement when
AMI is unreachable, refuses the login or fails half-way, rollback, and the
commands as a user runs them."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread
from doubles.ami_wire import error

from asterisk.hotline_ir import hotline_deployed  # noqa: F401 - the `hotline` fixture
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.deploy import (
    DeployError,
    ami_connector,
    deploy,
    make_plan,
    rollback,
    update_batches,
)
from ccdsl.runtime.asterisk.dialplan import EXTENSIONS_FILE, QUEUES_FILE, dialplan_files
from ccdsl.runtime.asterisk.flowstore import FlowStore

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
SECRET = "peer-secret-not-printed"
AST_MAX_MANHEADERS = 128  # include/asterisk/manager.h: later headers are dropped

# the console's call control (dialplan.py _console)
CONSOLE_CONTEXTS = ["ccf-console-hold", "ccf-console-read", "ccf-console-agent",
                    "ccf-console-queue"]


def write_config(tmp_path: Path, port: int = 5038, numbers: str = '"4008001234" = "hotline"',
                 extra: str = "") -> Path:
    path = tmp_path / "ccf.toml"
    path.write_text(textwrap.dedent(f"""\
        [ami]
        port = {port}
        timeout = "2s"
        [paths]
        flows = "store"
        [agents]
        file = "{IWS / 'agents.toml'}"
        [numbers]
        {numbers}
        """) + extra, encoding="utf-8")
    return path


def centre(path: Path, secret: str | None = SECRET):
    return load_config(path, environ={"CCF_AMI_SECRET": secret} if secret else {})


def run_with_peer(coro_factory, peer: AmiPeer):
    async def main():
        await peer.start()
        try:
            return await coro_factory(peer.port)
        finally:
            await peer.stop()

    return asyncio.run(main())


def sections_of(peer: AmiPeer, name: str) -> dict[str, list[tuple[str, str]]]:
    return {c.name: c.lines for c in peer.configs[name]}


# -- plans ----------------------------------------------------------------------------


def test_a_plan_lists_flow_changes_and_the_dialplan_diff(tmp_path, hotline):
    config = centre(write_config(tmp_path, numbers=""))
    store = FlowStore(config.flows_dir)
    plan = make_plan(config, store, {"hotline": hotline})
    assert [(c.name, c.change) for c in plan.changes] == [("hotline", "added")]
    assert plan.current is None and plan.changed
    assert "+++ extensions_ccf.conf (new)" in plan.diff and "+[ccf-support]" in plan.diff
    store.deploy(plan.flows, numbers=plan.numbers, attached=plan.texts)
    again = make_plan(config, store, {"hotline": hotline})
    assert [(c.name, c.change) for c in again.changes] == [("hotline", "unchanged")]
    assert again.diff == "" and not again.changed
    other = {**hotline, "flow": {**hotline["flow"], "name": "other"}}
    changed = {**hotline, "flow": {**hotline["flow"], "title": "new title"}}
    plan = make_plan(config, store, {"other": other, "hotline": changed})
    assert [(c.name, c.change) for c in plan.changes] == [("hotline", "changed"),
                                                          ("other", "added")]
    plan = make_plan(config, store, {"other": other})
    assert [(c.name, c.change) for c in plan.changes] == [("hotline", "removed"),
                                                          ("other", "added")]
    assert not (tmp_path / "store" / "versions" / "0002").exists()


def test_a_number_for_a_flow_not_deployed_is_refused(tmp_path, hotline):
    config = centre(write_config(tmp_path, numbers='"4008001234" = "orders"'))
    with pytest.raises(DeployError, match=r"\[numbers\] sends calls to orders, which is not "
                                          r"among the flows deployed \(hotline\)"):
        make_plan(config, FlowStore(config.flows_dir), {"hotline": hotline})


def test_updates_fit_in_what_asterisk_keeps_of_a_message(tmp_path, hotline):
    config = centre(write_config(tmp_path))
    plan = make_plan(config, FlowStore(config.flows_dir), {"hotline": hotline})
    batches = update_batches(QUEUES_FILE, ["ccf-old", "ccf-service"], plan.files[QUEUES_FILE])
    assert len(batches) > 1
    for batch in batches:
        # + Action and ActionID, which the link adds
        assert len(batch) + 2 <= AST_MAX_MANHEADERS
        assert batch["SrcFilename"] == batch["DstFilename"] == QUEUES_FILE
        assert "Action-000000" in batch  # every batch numbers from 0 (handle_updates)
    first = batches[0]
    assert (first["Action-000000"], first["Cat-000000"], first["Options-000000"]) == \
        ("DelCat", "ccf-old", "ignoreerror")
    values = [v for b in batches for k, v in b.items() if k.startswith("Value-")]
    assert "leastrecent" in values
    assert not [v for v in values if v.startswith(">")]  # no `member =>`: members are dynamic
    # a `key => value` line (exten) goes as a Value starting with ">"
    extensions = update_batches(EXTENSIONS_FILE, [], plan.files[EXTENSIONS_FILE])
    assert ">4008001234,1,Answer()" in [v for b in extensions for k, v in b.items()
                                         if k.startswith("Value-")]


# -- applying through the AMI peer -----------------------------------------------------


def test_deploy_applies_the_dialplan_through_ami(tmp_path, hotline):
    peer = AmiPeer(users={"ccf": SECRET})

    async def go(port):
        config = centre(write_config(tmp_path, port))
        store = FlowStore(config.flows_dir)
        plan = make_plan(config, store, {"hotline": hotline})
        version, done = await deploy(config, store, plan, note="first",
                                     connect=ami_connector(config))
        return plan, version, done, store

    plan, version, done, store = run_with_peer(go, peer)
    assert version.version == "0001" and version.current and version.note == "first"
    assert done == ["created extensions_ccf.conf", "wrote extensions_ccf.conf (8 sections)",
                    "created queues_ccf.conf", "wrote queues_ccf.conf (2 sections)",
                    "dialplan reload", "reload app_queue.so"]
    for name in (EXTENSIONS_FILE, QUEUES_FILE):
        want = {s.name: [(line.key, line.value) for line in s.lines]
                for s in plan.files[name].sections}
        assert sections_of(peer, name) == want
    inbound = sections_of(peer, EXTENSIONS_FILE)["ccf-inbound"]
    assert ("exten", "4008001234,n,AGI(agi://127.0.0.1:4573/hotline)") in inbound
    assert peer.reloads == ["dialplan", "app_queue.so"]
    names = [a["Action"] for a in peer.actions]
    assert names[0] == "Login" and names[-1] == "Logoff"
    assert names[1:4] == ["CreateConfig", "GetConfig", "UpdateConfig"]
    assert names[-3:-1] == ["Command", "Reload"]
    assert all(len(a) <= AST_MAX_MANHEADERS for a in peer.actions)
    updates = [a for a in peer.actions if a["Action"] == "UpdateConfig"]
    assert len(updates) >= 3  # the queues file needed more than one message
    assert store.current_version() == "0001"
    assert store.attached("0001", QUEUES_FILE) == plan.texts[QUEUES_FILE]


def test_a_redeploy_replaces_the_files_whole(tmp_path, hotline):
    without_support = {**hotline, "queues": {"service": hotline["queues"]["service"]}}
    peer = AmiPeer(users={"ccf": SECRET})

    async def go(port):
        config = centre(write_config(tmp_path, port))
        store = FlowStore(config.flows_dir)
        for flows in ({"hotline": hotline}, {"hotline": without_support}):
            plan = make_plan(config, store, flows)
            await deploy(config, store, plan, connect=ami_connector(config))
        return store

    store = run_with_peer(go, peer)
    assert list(sections_of(peer, QUEUES_FILE)) == ["ccf-service"]
    # the service queue's in-queue keys (runtime/asterisk/in_queue.py)
    assert list(sections_of(peer, EXTENSIONS_FILE)) == ["ccf-inbound", "ccf-transfer",
                                                        "ccf-answered", *CONSOLE_CONTEXTS,
                                                        "ccf-service-keys"]
    assert [v.version for v in store.versions()] == ["0001", "0002"]
    assert peer.reloads == ["dialplan", "app_queue.so"] * 2


def test_unreachable_ami_changes_nothing(tmp_path, hotline):
    async def go():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()  # a port nobody listens on
        config = centre(write_config(tmp_path, port))
        store = FlowStore(config.flows_dir)
        plan = make_plan(config, store, {"hotline": hotline})
        with pytest.raises(DeployError) as caught:
            await deploy(config, store, plan, connect=ami_connector(config))
        return str(caught.value)

    message = asyncio.run(go())
    assert message.startswith("cannot reach AMI at 127.0.0.1:")
    assert "nothing was deployed" in message and "--no-apply" in message
    assert not (tmp_path / "store").exists()


def test_a_refused_login_changes_nothing_and_never_shows_the_secret(tmp_path, hotline):
    peer = AmiPeer(users={"ccf": "another"}, auth_failure_delay=0)

    async def go(port):
        config = centre(write_config(tmp_path, port))
        store = FlowStore(config.flows_dir)
        plan = make_plan(config, store, {"hotline": hotline})
        with pytest.raises(DeployError) as caught:
            await deploy(config, store, plan, connect=ami_connector(config))
        return str(caught.value)

    message = run_with_peer(go, peer)
    assert "AMI login refused for user ccf" in message and SECRET not in message
    assert not (tmp_path / "store").exists()
    assert [a["Action"] for a in peer.actions] == ["Login"]


class FailingPeer(AmiPeer):
    """An Asterisk that cannot save the queues file (a read-only /etc/asterisk),
    `failures` times."""

    failures = 10**6

    def _action_updateconfig(self, session, request):
        if request.get("DstFilename") == QUEUES_FILE and self.failures > 0:
            self.failures -= 1
            error(session, request, "Save of config failed")
            return
        super()._action_updateconfig(session, request)


def _failed_deploy(tmp_path, hotline, peer):
    async def go(port):
        config = centre(write_config(tmp_path, port))
        store = FlowStore(config.flows_dir)
        store.deploy({"hotline": hotline}, numbers=config.numbers)  # 0001, as --no-apply
        # version 2 routes a second number: its extensions file differs
        changed = {**hotline, "flow": {**hotline["flow"], "title": "v2"}}
        second = centre(write_config(tmp_path, port,
                                     numbers='"4008001234" = "hotline"\n"4008005555" = "hotline"'))
        plan = make_plan(second, store, {"hotline": changed})
        with pytest.raises(DeployError) as caught:
            await deploy(second, store, plan, connect=ami_connector(second))
        expected = dialplan_files(config, store.get("0001"))
        return store, str(caught.value), expected

    return run_with_peer(go, peer)


def test_a_failed_apply_puts_the_store_and_asterisks_files_back(tmp_path, hotline):
    peer = FailingPeer(users={"ccf": SECRET})
    peer.failures = 1  # the new queues file fails; writing the old ones back works
    store, message, expected = _failed_deploy(tmp_path, hotline, peer)
    assert message == ("Asterisk did not write queues_ccf.conf: Save of config failed; the flow "
                       "store is back at version 0001; Asterisk's files were put back as they "
                       "were")
    assert store.current_version() == "0001"
    assert [v.version for v in store.versions()] == ["0001"]
    # the extensions file written before the failure is version 0001's again
    text = peer.config_text("extensions_ccf.conf")
    assert "4008005555" not in text and "4008001234" in text
    assert len(expected["extensions_ccf.conf"].sections) == text.count("[")


def test_a_failed_put_back_says_what_to_check(tmp_path, hotline):
    peer = FailingPeer(users={"ccf": SECRET})  # the queues file never saves
    store, message, _ = _failed_deploy(tmp_path, hotline, peer)
    assert message.startswith("Asterisk did not write queues_ccf.conf: Save of config failed; "
                              "the flow store is back at version 0001; putting Asterisk's "
                              "files back failed too")
    assert "ccf deploy --rollback" in message
    assert store.current_version() == "0001"


def test_rollback_reapplies_the_previous_versions_dialplan(tmp_path, hotline):
    peer = AmiPeer(users={"ccf": SECRET})
    other = {**hotline, "flow": {**hotline["flow"], "name": "other"}}

    async def go(port):
        first = centre(write_config(tmp_path, port))
        store = FlowStore(first.flows_dir)
        await deploy(first, store, make_plan(first, store, {"hotline": hotline}),
                     connect=ami_connector(first))
        second = centre(write_config(tmp_path, port, numbers='"4008009999" = "other"'))
        await deploy(second, store, make_plan(second, store, {"other": other}),
                     connect=ami_connector(second))
        assert "4008009999" in str(sections_of(peer, EXTENSIONS_FILE)["ccf-inbound"])
        version, _ = await rollback(second, store, connect=ami_connector(second))
        return version, store

    version, store = run_with_peer(go, peer)
    assert version.version == "0001" and store.current_version() == "0001"
    inbound = sections_of(peer, EXTENSIONS_FILE)["ccf-inbound"]
    assert ("exten", "4008001234,1,Answer()") in inbound
    assert "4008009999" not in str(inbound)
    assert peer.reloads == ["dialplan", "app_queue.so"] * 3


# -- the commands --------------------------------------------------------------------------


def flows_folder(tmp_path: Path, *, broken: bool = False) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    (folder / "greet.ccf").write_text(textwrap.dedent(f"""\
        flow greet:
          languages en-US

        use util

        on start:
          answer
          util.{"undefined_sub" if broken else "hello"}()
          hangup
        """), encoding="utf-8")
    (folder / "util.ccf").write_text(textwrap.dedent("""\
        flow util:
          languages en-US

        prompt welcome:
          en-US tts "Hello."

        sub hello():
          play welcome
        """), encoding="utf-8")
    return folder


def test_deploy_command_end_to_end(tmp_path):
    folder = flows_folder(tmp_path)
    with peer_in_thread(AmiPeer(users={"ccf": SECRET})) as peer:
        config = write_config(tmp_path, peer.port, numbers='"4008001234" = "greet"')
        result = ccf("deploy", str(folder), "--config", str(config), "--note", "go live",
                     env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert f"{folder / 'util.ccf'}: a module (no `on start`)" in result.output
    assert "added      greet" in result.output
    assert "+exten => 4008001234,n,AGI(agi://127.0.0.1:4573/greet)" in result.output
    assert "Version 0001 is current (greet)" in result.output
    assert f"Applied through AMI at 127.0.0.1:{peer.port}: created extensions_ccf.conf" \
        in result.output
    assert peer.reloads == ["dialplan", "app_queue.so"]
    listed = json.loads(ccf("flows", "-c", str(config), "--format", "json").output)
    assert [(v["version"], v["current"], v["note"]) for v in listed] == [("0001", True,
                                                                         "go live")]
    assert list(listed[0]["flows"]) == ["greet"]


def test_dry_run_writes_nothing(tmp_path):
    folder = flows_folder(tmp_path)
    config = write_config(tmp_path, numbers='"4008001234" = "greet"')
    result = ccf("deploy", str(folder), "-c", str(config), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Flows (against nothing deployed):" in result.output
    assert "+[ccf-inbound]" in result.output
    assert "Dry run: nothing was written." in result.output
    assert not (tmp_path / "store").exists()


def test_no_apply_then_flows_then_rollback(tmp_path):
    folder = flows_folder(tmp_path)
    config = write_config(tmp_path, numbers='"4008001234" = "greet"')
    for note in ("one", "two"):
        result = ccf("deploy", str(folder), "-c", str(config), "--no-apply", "-m", note)
        assert result.exit_code == 0, result.output
        assert "Asterisk was not touched (--no-apply)" in result.output
    result = ccf("deploy", str(folder), "-c", str(config), "--dry-run")
    assert "unchanged  greet" in result.output and "Dialplan: unchanged" in result.output
    table = ccf("flows", "--config", str(config))
    assert table.exit_code == 0
    rows = [line for line in table.output.splitlines() if "0001" in line or "0002" in line]
    assert len(rows) == 2 and "*" in rows[1] and "*" not in rows[0]
    assert "two" in rows[1] and "4008001234 -> greet" in rows[1]
    assert "* the current version" in table.output
    result = ccf("deploy", "--rollback", "-c", str(config), "--dry-run")
    assert "would return from version 0002 to version 0001" in result.output
    result = ccf("deploy", "--rollback", "-c", str(config), "--no-apply")
    assert result.exit_code == 0, result.output
    assert "Rolled back from version 0002." in result.output
    assert "Version 0001 is current (greet)" in result.output
    result = ccf("deploy", "--rollback", "-c", str(config), "--no-apply")
    assert result.exit_code == 1
    assert "error: version 0001 is the first deployment" in result.output


def test_a_flow_with_an_error_is_not_deployed(tmp_path):
    folder = flows_folder(tmp_path, broken=True)
    config = write_config(tmp_path, numbers='"4008001234" = "greet"')
    result = ccf("deploy", str(folder), "-c", str(config), "--no-apply")
    assert result.exit_code == 1
    validate = ccf("validate", str(folder))
    # the same diagnostics `ccf validate` prints, then why nothing happened
    assert validate.output.split("\n\n")[0] in result.output
    assert "error: nothing was deployed: fix the errors above" in result.output
    assert not (tmp_path / "store").exists()


def test_deploy_refusals(tmp_path):
    folder = flows_folder(tmp_path)
    config = write_config(tmp_path, numbers='"4008001234" = "greet"')
    result = ccf("deploy", str(folder), "-c", str(config), env={"CCF_AMI_SECRET": ""})
    assert result.exit_code == 2  # a usage error, as for `ccf callback`
    assert "the AMI secret is missing: set the environment variable CCF_AMI_SECRET" \
        in result.output
    assert not (tmp_path / "store").exists()
    result = ccf("deploy", str(folder / "util.ccf"), "-c", str(config), "--no-apply")
    assert result.exit_code == 2 and "no entry flow under" in result.output
    result = ccf("deploy", str(tmp_path / "missing"), "-c", str(config))
    assert result.exit_code == 2 and "does not exist" in result.output
    result = ccf("deploy", str(folder), "--rollback", "-c", str(config))
    assert result.exit_code == 2 and "--rollback takes no PATH" in result.output
    result = ccf("deploy", "-c", str(config))
    assert result.exit_code == 2 and "ccf deploy PATH" in result.output
    result = ccf("deploy", str(folder), "-c", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2 and "nope.toml: no such file" in result.output
    result = ccf("flows", "-c", str(config))
    assert result.exit_code == 0 and "Nothing is deployed" in result.output


def test_help_texts():
    result = ccf("deploy", "--help")
    assert result.exit_code == 0
    assert "Deploy flows to Asterisk: compile, store a new version, apply the dialplan" \
        in result.output
    for option in ("--dry-run", "--rollback", "--no-apply", "--note", "--config"):
        assert option in result.output
    result = ccf("flows", "--help")
    assert result.exit_code == 0
    assert "List the deployed versions of the flows" in result.output
    assert "--format" in result.output
    assert "deploy" in ccf("--help").output and "flows" in ccf("--help").output
