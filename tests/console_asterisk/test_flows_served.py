"""The supervisor's Flows page end to end through the real `ccf serve` (Asterisk mode, a process
of its own linked to the AMI double): a copy of examples/iws deployed by `ccf deploy --no-apply`,
one call through the FastAGI peer, the supervisor logged in over HTTP sees hotline drawn with
that call; a version deployed without its sources (as an older ccf deployed) says so, and a
rollback to the version that kept them draws it again; agents are refused."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from asterisk.centre import IWS, place, write_config
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread

from ccdsl.runtime.asterisk.flow_changes import sources_name
from ccdsl.runtime.operations.console_users import new_user, save_users
from tests.console.flows_rig import calls, drawings, node_lines, traffic

CCF = Path(sys.executable).with_name("ccf")
SECRET = "flows-page-ami-secret"
PASSWORD = "correct horse battery"
QUEUES = ("ccf-service", "ccf-support")  # the hotline's, as Asterisk names them
HTML = {"Accept": "text/html"}
WAIT_S = 20.0


def centre(folder: Path, ami_port: int) -> Path:
    """ccf.toml of a centre on 127.0.0.1 serving hotline, with a supervisor and an agent."""
    save_users(folder / "console-users.json", {
        "sup": new_user("sup", "supervisor", PASSWORD, "Sun Supervisor"),
        "zhang": new_user("zhang", "agent", PASSWORD, "Zhang Wei")})
    return write_config(folder, ami_port, numbers='"4008001234" = "hotline"',
                        extra='[console]\nusers = "console-users.json"\n')


def deployed(config: Path, *what: str) -> str:
    """`ccf deploy WHAT --no-apply` as an author runs it: the version now current."""
    result = ccf("deploy", *what, "--config", str(config), "--no-apply")
    assert result.exit_code == 0, result.output
    return re.search(r"Version (\d{4}) is current", result.output)[1]


def logged_in(base: str, user: str) -> httpx.Client:
    web = httpx.Client(base_url=base, timeout=WAIT_S)
    ok = web.post("/login", data={"user": user, "password": PASSWORD})
    assert ok.status_code == 303, ok.text
    web.cookies.set("ccf_session", ok.cookies["ccf_session"])
    return web


def waited(check, what: str):
    deadline = time.monotonic() + WAIT_S
    while not (found := check()):
        assert time.monotonic() < deadline, f"waited {WAIT_S:g} s for {what}"
        time.sleep(0.1)
    return found


def test_the_supervisor_sees_the_served_flows_drawn_with_their_calls(tmp_path: Path) -> None:
    flows = tmp_path / "iws"
    shutil.copytree(IWS, flows)
    with peer_in_thread(AmiPeer(users={"ccf": SECRET}, queues=QUEUES)) as peer:
        config = centre(tmp_path, peer.port)
        first = deployed(config, str(flows))
        kept = tmp_path / "flows" / "versions" / first / "asterisk" / sources_name("hotline")
        assert kept.is_file(), sorted(p.name for p in kept.parent.parent.rglob("*"))
        proc = subprocess.Popen(
            [str(CCF), "serve", "--config", str(config), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "CCF_AMI_SECRET": SECRET})
        try:
            assert proc.stdout is not None
            started = proc.stdout.readline()
            assert started.startswith("ccf serve: FastAGI on 127.0.0.1:"), \
                started + proc.stderr.read()
            agi = int(re.search(r"FastAGI on 127\.0\.0\.1:(\d+)", started)[1])
            base = re.search(r"console and HTTP API on (http://127\.0\.0\.1:\d+)/", started)[1]
            report = asyncio.run(place(agi, "hotline", "1797100000.1", timeout=WAIT_S))
            assert report.commands and report.commands[0] == "ANSWER", report

            sup = logged_in(base, "sup")
            # the call is in the store once it has ended: the page counts it
            page = waited(lambda: (p := sup.get("/flows", headers=HTML)).status_code == 200
                          and "hotline" in drawings(p.text)
                          and traffic(node_lines(drawings(p.text)["hotline"])["on start"])
                          and p, "the call drawn on the Flows page")
            nodes = node_lines(drawings(page.text)["hotline"])
            assert traffic(nodes["on start"])[0] == calls(1), nodes["on start"]
            assert "Traffic: 1 call, " in page.text
            assert "<small class=\"muted\">hotline.ccf</small>" in page.text
            one = sup.get("/flows/hotline", headers=HTML)
            assert one.status_code == 200 and sorted(drawings(one.text)) == ["hotline"]
            assert sup.get("/flows/orders", headers=HTML).status_code == 404  # a module

            zhang = logged_in(base, "zhang")
            for url in ("/flows", "/flows/hotline"):
                assert zhang.get(url, headers=HTML).status_code == 403

            # a new version deployed by a ccf that kept no sources with it
            (flows / "hotline.ccf").write_text(
                (flows / "hotline.ccf").read_text(encoding="utf-8") + "\n", encoding="utf-8")
            second = deployed(config, str(flows))
            assert second != first
            (kept.parents[2] / second / "asterisk" / sources_name("hotline")).unlink()
            waited(lambda: sup.get("/status").json()["server"]["version"] == second,
                   f"ccf serve to take version {second}")
            old = sup.get("/flows/hotline", headers=HTML)
            assert old.status_code == 200
            assert (f"no sources kept for this version ({second}) of hotline: deploy it again "
                    "with this ccf to see it drawn") in old.text
            assert drawings(old.text) == {}
            # rolled back to the version that kept them: drawn again, with the same call
            assert deployed(config, "--rollback") == first
            waited(lambda: sup.get("/status").json()["server"]["version"] == first,
                   f"ccf serve to take version {first} back")
            back = sup.get("/flows/hotline", headers=HTML)
            assert "no sources kept" not in back.text
            assert traffic(node_lines(drawings(back.text)["hotline"])["on start"])[0] == calls(1)
            sup.close()
            zhang.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, out + err
    assert "Traceback" not in err, err
