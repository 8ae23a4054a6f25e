"""`ccf serve` for real: the LiveCentre a ccf.toml describes (flow store,
call store, CRM, text-to-speech, the AMI link to the AMI peer, the FastAGI
server) taking calls from the FastAGI peer over 127.0.0.1; the `ccf serve`
command as a subprocess stopped by SIGTERM (calls in progress finish, or
are handed back after the grace period, and keep their record); refusing
an invalid ccf.toml; and a redeploy while calls run (a call finishes on
the version it started with, the next one runs the new version)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sqlite3
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

from doubles.ami_server import AmiPeer
from doubles.ami_sync import read_by
from doubles.raw import ScriptBackend

from asterisk.centre import IWS, WAIT_S, compiled, place, until, write_config
from ccdsl.runtime.asterisk.config import CentreConfig, load_config
from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE, render_dialplan
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.testing.peer.agi_caller import AgiCommand
from ccdsl.runtime.testing.peer.app_queue import Phone

CCF = Path(sys.executable).with_name("ccf")
SECRET = "serve-secret-never-printed"
# a new `ccf serve` process: the interpreter, its imports, the stores opened (a
# reconciling run among them); seconds on a loaded machine, so a bound on a hang only
PROCESS_S = 60.0
QUEUES = ("ccf-service", "ccf-support")  # the hotline's queues, as Asterisk names them


def line_flow(version: int) -> str:
    """A small flow whose prompts say which version it is; its `wait`
    is where a held caller keeps the call going."""
    return textwrap.dedent(f"""\
        flow line:
          languages en-US

        on start:
          answer
          play tts "This is version {version}."
          wait 1s
          play tts "Goodbye from version {version}."
          hangup
        """)


def centre_config(path: Path) -> CentreConfig:
    # the secret reaches the loader as `ccf serve` gets it: from the environment
    return load_config(path, environ={"CCF_AMI_SECRET": SECRET})


def deploy(config: CentreConfig, flows: dict[str, dict], note: str = "") -> str:
    return FlowStore(config.flows_dir).deploy(flows, numbers=config.numbers, note=note).version


class HeldBackend(ScriptBackend):
    """A caller whose line keeps the call going: the first command with
    `verb` (the flow's `wait`) is answered only once `release` is set.
    `holding` is set when that command arrives; `seen` keeps every command."""

    def __init__(self, verb: str = "EXEC") -> None:
        super().__init__()
        self.verb = verb
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.seen: list[AgiCommand] = []

    async def execute(self, cmd: AgiCommand) -> str | None:
        self.seen.append(cmd)
        if cmd.verb == self.verb and not self.holding.is_set():
            self.holding.set()
            await asyncio.wait_for(self.release.wait(), WAIT_S)
        return await super().execute(cmd)


def said(commands: list[str]) -> list[str]:
    """What a call's prompts said: the text of each STREAM FILE's TTS file
    (the renderer's sidecar beside it)."""
    from ccdsl.runtime.testing.peer.agi_caller import find_command

    texts = []
    for text in commands:
        _, cmd = find_command(text)
        if cmd is not None and cmd.verb == "STREAM FILE":
            with open(cmd.args[0] + ".json", encoding="utf-8") as handle:
                texts.append(json.load(handle)["text"])
    return texts


@contextlib.asynccontextmanager
async def serving_a_queue_line(folder: Path, ir: dict, phones: Mapping[str, Phone],
                               queues: tuple[str, ...] = ("ccf-service",)):
    """ccf serve (LiveCentre, the IWS agents) with the flow `ir` deployed
    as the line 4008005678, linked to an AMI peer whose app_queue holds the
    queues file `ccf deploy` writes and whose agents' phones answer as
    `phones` says: (live, peer, FastAGI port) once the agents are members
    of `service`, and the peer waits for ccf serve to read each event."""
    peer = AmiPeer(users={"ccf": SECRET}, queues=queues)
    await peer.start()
    config = centre_config(write_config(folder, peer.port, numbers='"4008005678" = "line"'))
    deploy(config, {"line": ir}, "line")
    bundle = SimpleNamespace(flows={"line": ir}, numbers=config.numbers)
    peer.app_queue.load_conf(render_dialplan(config, bundle)[QUEUES_FILE])
    peer.app_queue.phones.update(phones)
    live = LiveCentre(config, port=0, api_port=0)
    try:
        _, port = await live.start()
        await until(lambda: {"zhang", "li", "wang"} <= {
            a.id for a in live.centre.agents() if "service" in (a.queues or ())},
            "the agents in the service queue")
        # the rings reach ccf serve before the queue goes on
        read_by(peer, live.ami, timeout_s=WAIT_S)
        yield live, peer, port
    finally:
        await live.stop(1.0)
        await peer.stop()


# ---- (a) the LiveCentre of a ccf.toml ------------------------------------------------


def test_live_centre_runs_deployed_flows_and_mirrors_ami(tmp_path: Path, caplog) -> None:
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=QUEUES)
        await peer.start()
        config = centre_config(write_config(tmp_path, peer.port))
        assert config.ami.secret == SECRET
        version = deploy(config, {"hotline": compiled(IWS / "hotline.ccf")}, "hotline")
        live = LiveCentre(config, port=0, api_port=0)
        try:
            host, port = await live.start()
            assert host == "127.0.0.1" and port > 0
            assert live.flows.version == version
            assert live.centre.agent("zhang").state == AgentState.AVAILABLE
            first = await place(port, "hotline", "1795652892.1")
            second = await place(port, "hotline", "1795652892.2", callerid="+8613900000000")
            # Asterisk says zhang's phone is in use, then li pauses
            peer.set_device_state("PJSIP/8001", "INUSE")
            await until(lambda: live.centre.agent("zhang").state == AgentState.BUSY,
                        "zhang to be busy")
            peer.emit({"Event": "QueueMemberPause", "Queue": "ccf-service",
                       "MemberName": "li", "Interface": "PJSIP/8002",
                       "StateInterface": "PJSIP/8002", "Paused": "1", "Status": "1",
                       "CallsTaken": "0", "LastCall": "0", "Uniqueid": "1795652892.9"})
            await until(lambda: live.centre.agent("li").state == AgentState.PAUSED,
                        "li to be paused")
            records = [live.store.call("1795652892.1"), live.store.call("1795652892.2")]
            events = live.store.query("SELECT kind, call_id, data FROM centre_events "
                                      "WHERE source = 'ami' ORDER BY id")
            served = live.server.served
        finally:
            await live.stop(1.0)
            await peer.stop()
        return first, second, records, events, served, peer.actions

    with caplog.at_level(logging.INFO):
        first, second, records, events, served, actions = asyncio.run(main())
    assert served == 2
    # one line when the link comes up; our own stop is not Asterisk closing it
    logged = [r.getMessage() for r in caplog.records]
    assert sum(line.startswith("AMI link up") for line in logged) == 1, logged
    assert not [line for line in logged if "closed the connection" in line], logged
    for report, record in zip((first, second), records, strict=True):
        assert report.commands[0] == "ANSWER" and report.closed_by == "server"
        assert record is not None and record["flow"] == "hotline"
        assert record["outcome"] in ("hangup", "transfer", "voicemail", "abandoned")
    assert records[1]["caller"] == "+8613900000000"
    # the login, the members of the flows' queues, then the resync
    names = [a["Action"] for a in actions]
    assert names[0] == "Login"
    added = {(a["Queue"], a["MemberName"], a["Interface"]) for a in actions
             if a["Action"] == "QueueAdd"}
    assert ("ccf-support", "wang", "PJSIP/8003") in added
    assert ("ccf-service", "zhang", "PJSIP/8001") in added
    assert not any(q == "ccf-support" and m != "wang" for q, m, _ in added)  # only tech
    assert names.index("QueueStatus") > max(i for i, n in enumerate(names) if n == "QueueAdd")
    kinds = [e["kind"] for e in events]
    assert "QueueMemberAdded" in kinds
    assert "DeviceStateChange" in kinds and "QueueMemberPause" in kinds
    pause = [e for e in events if e["kind"] == "QueueMemberPause"][-1]
    assert pause["call_id"] == "1795652892.9"
    assert json.loads(pause["data"])["MemberName"] == "li"
    assert SECRET not in json.dumps(events)


def test_a_deploy_after_start_rebuilds_the_live_queue_view(tmp_path: Path) -> None:
    # Found on Asterisk 22: ccf serve started before the first deploy showed no
    # version, no queues and the agents' queues by Asterisk's names until a restart.
    async def main():
        peer = AmiPeer(users={"ccf": SECRET})  # Asterisk before the first deploy: no queues
        await peer.start()
        config = centre_config(write_config(tmp_path, peer.port))
        live = LiveCentre(config, port=0, api_port=0)
        try:
            await live.start()
            before = (live.flows.version, live.flows.ir_queues())
            # `ccf deploy`: the version in the flow store, the queues loaded by app_queue
            for queue in QUEUES:
                peer.add_queue(queue, strategy="leastrecent")
            version = deploy(config, {"hotline": compiled(IWS / "hotline.ccf")}, "hotline")
            await until(lambda: live.flows.version == version, "the new version in service")
            # each QueueAdd's event reaches the live view on its own: wait for the last
            await until(lambda: "service" in (live.centre.agent("zhang").queues or ())
                        and {"service", "support"} <= set(live.centre.agent("wang").queues
                                                          or ()),
                        "zhang in the service queue, wang in both")
            agents = {a.id: sorted(a.queues) for a in live.centre.agents()}
        finally:
            await live.stop(1.0)
            await peer.stop()
        added = {(a["Queue"], a["MemberName"]) for a in peer.actions if a["Action"] == "QueueAdd"}
        return before, version, agents, added

    before, version, agents, added = asyncio.run(main())
    assert before == (None, [])
    assert ("ccf-service", "zhang") in added and ("ccf-support", "wang") in added
    assert agents["zhang"] == ["service"]  # the flow's name, not ccf-service
    assert agents["wang"] == ["service", "support"]


def test_a_quiet_centres_last_ami_events_reach_the_store(tmp_path: Path) -> None:
    # Found on Asterisk 22: a call's final Hangup events waited in the store's
    # buffer while nothing else happened; reports read the file, not the buffer
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=QUEUES)
        await peer.start()
        config = centre_config(write_config(tmp_path, peer.port))
        live = LiveCentre(config, port=0, api_port=0)
        try:
            await live.start()
            await asyncio.sleep(1.2)  # past the store's flush interval: the next event waits
            for half in ("1", "2"):  # the first is written at once, the second waits
                peer.emit({"Event": "Hangup",
                           "Channel": f"Local/4008001234@ccf-inbound-01;{half}",
                           "Uniqueid": f"1796.{half}", "Linkedid": "1796.1", "Cause": "16"})

            def written() -> int:
                raw = sqlite3.connect(config.store_path)
                try:
                    return raw.execute("SELECT count(*) FROM centre_events WHERE kind = "
                                       "'Hangup'").fetchone()[0]
                finally:
                    raw.close()

            await until(lambda: written() == 2, "both Hangups in the store file")
        finally:
            await live.stop(1.0)
            await peer.stop()

    asyncio.run(main())


# ---- (b) `ccf serve` as a process: SIGTERM ---------------------------------------------


class Served:
    """`ccf serve` in a subprocess, its bound port read from its first line (as long as
    starting takes, up to PROCESS_S; a process that exits instead ends the wait at once)."""

    def __init__(self, config: Path, *args: str, ami_secret: str = SECRET) -> None:
        self.argv = [str(CCF), "serve", "--config", str(config), "--port", "0", *args]
        self.env = {**os.environ, "CCF_AMI_SECRET": ami_secret}
        self.proc: asyncio.subprocess.Process | None = None
        self.first_line = ""
        self.read_out = ""  # stdout read while stopping
        self.signalled = False

    async def start(self) -> int:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        raw = await asyncio.wait_for(self.proc.stdout.readline(), PROCESS_S)
        self.first_line = raw.decode()
        assert self.first_line.startswith("ccf serve: FastAGI on 127.0.0.1:"), \
            self.first_line + (await self.proc.stderr.read()).decode()
        return int(self.first_line.split("127.0.0.1:", 1)[1].split(",", 1)[0])

    async def stopping(self) -> None:
        """SIGTERM, and its stdout read up to the line that says it is stopping."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        self.signalled = True
        while "ccf serve: stopping" not in self.read_out:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), PROCESS_S)
            assert raw, f"ccf serve ended without saying it was stopping: {self.read_out}"
            self.read_out += raw.decode()

    async def stop(self) -> tuple[int, str, str]:
        """SIGTERM (unless stopping() sent it), then its exit code, stdout and stderr."""
        assert self.proc is not None
        if not self.signalled:
            self.proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(self.proc.communicate(), PROCESS_S)
        return (self.proc.returncode, self.first_line + self.read_out + out.decode(),
                err.decode())

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


def records(store: Path) -> dict[str, dict]:
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    try:
        return {r["call_id"]: dict(r) for r in db.execute("SELECT * FROM calls")}
    finally:
        db.close()


def test_ccf_serve_stops_on_sigterm_letting_a_call_finish(tmp_path: Path) -> None:
    (tmp_path / "line.ccf").write_text(line_flow(1), encoding="utf-8")

    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=QUEUES)
        await peer.start()
        config_path = write_config(tmp_path, peer.port)
        version = deploy(centre_config(config_path), {"line": compiled(tmp_path / "line.ccf")})
        served = Served(config_path)
        try:
            port = await served.start()
            await until(lambda: peer.logged_in == 1, "ccf serve to log in to AMI")
            done = await place(port, "line", "1795652900.1")
            held = HeldBackend()
            call = asyncio.create_task(place(port, "line", "1795652900.2", held))
            await asyncio.wait_for(held.holding.wait(), WAIT_S)
            await served.stopping()  # SIGTERM while the call waits
            held.release.set()  # then the call goes on to its end
            code, out, err = await served.stop()
            report = await asyncio.wait_for(call, WAIT_S)
        finally:
            served.kill()
            await peer.stop()
        return version, done, report, code, out, err

    version, done, report, code, out, err = asyncio.run(main())
    assert code == 0, err
    assert f"flows version {version}" in out
    assert "ccf serve: stopping; 1 call(s) in progress" in out
    assert "ccf serve: stopped after 2 call(s)\n" in out  # none handed back
    assert "Traceback" not in err and SECRET not in out + err
    assert said(done.commands) == said(report.commands) == \
        ["This is version 1.", "Goodbye from version 1."]
    assert report.commands[-1] == "HANGUP" and report.closed_by == "server"
    calls = records(tmp_path / "calls.db")
    assert calls["1795652900.2"]["outcome"] == "hangup"
    assert calls["1795652900.2"]["ended_by"] == "flow"
    assert calls["1795652900.1"]["outcome"] == "hangup"


def test_ccf_serve_hands_a_long_call_back_after_the_grace(tmp_path: Path) -> None:
    (tmp_path / "line.ccf").write_text(line_flow(1), encoding="utf-8")

    async def main():
        config_path = write_config(tmp_path, 1)  # no AMI here: --no-ami
        deploy(centre_config(config_path), {"line": compiled(tmp_path / "line.ccf")})
        served = Served(config_path, "--grace", "0.5", "--no-ami")
        try:
            port = await served.start()
            held = HeldBackend()
            call = asyncio.create_task(place(port, "line", "1795652901.1", held))
            await asyncio.wait_for(held.holding.wait(), WAIT_S)
            # the line holds until ccf serve has exited: one that waited for the call
            # instead of handing it back would never exit (PROCESS_S)
            code, out, err = await served.stop()
            held.release.set()
            report = await asyncio.wait_for(call, WAIT_S)
        finally:
            served.kill()
        return report, code, out, err

    report, code, out, err = asyncio.run(main())
    assert code == 0, err
    assert "ccf serve: stopped after 1 call(s); 1 handed back to the dialplan" in out
    assert "Traceback" not in err
    # the server closed the AGI connection: Asterisk carries on in the dialplan
    assert report.closed_by == "server"
    assert "Goodbye from version 1." not in said(report.commands)
    record = records(tmp_path / "calls.db")["1795652901.1"]
    assert record["outcome"] == "handed_back" and record["ended"] is not None
    assert record["ended_by"] == "handed_back"  # not a hang-up by the caller
    # the log (the warning naming the call) goes to stderr; stdout carries
    # only ccf serve's own lines, which scripts read (the bound port)
    assert "handed back to the dialplan" in err, out
    assert [line for line in out.splitlines() if not line.startswith("ccf serve: ")] == []


# ---- (c) an invalid ccf.toml -------------------------------------------------------------


def test_ccf_serve_refuses_an_invalid_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, 70000, extra='[shutdown]\ngrace = "soon"\n')

    async def main():
        proc = await asyncio.create_subprocess_exec(
            str(CCF), "serve", "--config", str(path), "--port", "0",
            env={**os.environ, "CCF_AMI_SECRET": SECRET}, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), PROCESS_S)
        return proc.returncode, out.decode(), err.decode()

    code, out, err = asyncio.run(main())
    assert code == 2
    assert out == ""  # nothing started, no FastAGI line
    assert "ami.port: 70000 is not valid" in err
    assert "shutdown.grace: 'soon' is not valid" in err
    assert "ccf serve: not started" in err
    assert "Traceback" not in err and SECRET not in err


# ---- (d) a redeploy while calls run ------------------------------------------------------


def test_a_redeploy_leaves_running_calls_on_their_version(tmp_path: Path) -> None:
    for version in (1, 2):
        (tmp_path / f"line{version}.ccf").write_text(line_flow(version), encoding="utf-8")

    async def main():
        config = centre_config(write_config(tmp_path, 1))
        first = deploy(config, {"line": compiled(tmp_path / "line1.ccf")}, "one")
        live = LiveCentre(config, port=0, use_ami=False, api_port=0)
        try:
            _, port = await live.start()
            held = HeldBackend()
            running = asyncio.create_task(place(port, "line", "1795652910.1", held))
            await asyncio.wait_for(held.holding.wait(), WAIT_S)
            second = deploy(config, {"line": compiled(tmp_path / "line2.ccf")}, "two")
            # a new call looks for a new version at most every poll_s seconds
            await asyncio.sleep(live.flows.poll_s)
            assert live.server.calls_running == 1
            after = await place(port, "line", "1795652910.2")
            held.release.set()  # the first call goes on, on its version
            before = await asyncio.wait_for(running, WAIT_S)
            calls = [live.store.call("1795652910.1"), live.store.call("1795652910.2")]
            events = [live.store.events("1795652910.1"), live.store.events("1795652910.2")]
        finally:
            await live.stop(1.0)
        return first, second, before, after, calls, events

    first, second, before, after, calls, events = asyncio.run(main())
    assert first != second
    assert said(before.commands) == ["This is version 1.", "Goodbye from version 1."]
    assert said(after.commands) == ["This is version 2.", "Goodbye from version 2."]
    for call, evs, version in zip(calls, events, (1, 2), strict=True):
        assert call["outcome"] == "hangup"
        heard = [s["text"] for e in evs if e["kind"] == "prompt_played"
                 for s in e["data"]["sounds"]]
        assert heard == [f"This is version {version}.", f"Goodbye from version {version}."]


def test_a_call_record_names_the_deployed_version_it_ran(tmp_path: Path) -> None:
    """The calls row says which deployment a call ran (the flow store's
    version label the server looked the flow up with), so a report can
    tell calls on version 0001 from calls on 0002."""
    (tmp_path / "line.ccf").write_text(line_flow(1), encoding="utf-8")

    async def main():
        config = centre_config(write_config(tmp_path, 1))
        version = deploy(config, {"line": compiled(tmp_path / "line.ccf")})
        live = LiveCentre(config, port=0, use_ami=False, api_port=0)
        try:
            _, port = await live.start()
            await place(port, "line", "1795652920.1")
            return version, live.store.call("1795652920.1")
        finally:
            await live.stop(1.0)

    version, record = asyncio.run(main())
    assert record["outcome"] == "hangup"
    assert record["flow_version"] == version, record["flow_version"]


def test_a_config_without_crm_creates_nothing_outside_its_folder(tmp_path: Path,
                                                                 monkeypatch) -> None:
    """Paths in ccf.toml are relative to the file; a centre whose ccf.toml
    has no [crm] section must not drop a CRM database into whatever folder
    `ccf serve` was started from."""
    (tmp_path / "line.ccf").write_text(line_flow(1), encoding="utf-8")
    path = write_config(tmp_path, 1)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('[crm]\nadapter = "sqlite"\npath = "crm.db"\n', ""),
                    encoding="utf-8")
    assert "[crm]" not in path.read_text(encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    async def main():
        config = centre_config(path)
        deploy(config, {"line": compiled(tmp_path / "line.ccf")})
        live = LiveCentre(config, port=0, use_ami=False, api_port=0)
        try:
            _, port = await live.start()
            await place(port, "line", "1795652930.1")
            return live.store.call("1795652930.1")
        finally:
            await live.stop(1.0)

    record = asyncio.run(main())
    assert record["outcome"] == "hangup"
    assert sorted(os.listdir(elsewhere)) == []
