"""`ccf callback`: the plan from the call store and the CRM, the AMI
Originate against the AMI peer (its headers, the OriginateResponse awaited
by ActionID, a failing originate), and the simulated call-back."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest
from asterisk.centre import WAIT_S
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread

from calls.world import OWNER_MESSAGE, ROOT, run_test_call
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.callback import AmiOriginator, CallbackError, make_plan, run_callback
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.store import CallStore

SECRET = "callback-peer-secret"
OWNER = "the owner gets the message and a follow-up task"
AGENTS = ROOT / "examples" / "iws" / "agents.toml"  # li is extension 8002


@pytest.fixture
def world(tmp_path: Path) -> dict:
    """A store with one after-hours message for zhang (call sim-1) and the
    CRM holding its callback_task."""
    run = run_test_call(OWNER_MESSAGE, OWNER, tmp_path / "w", tmp_path / "calls.db")
    assert run.result.call_id == "sim-1"
    return {"store": tmp_path / "calls.db", "crm": tmp_path / "w" / "crm.db",
            "call": "sim-1", "dir": tmp_path}


def write_config(world: dict, port: int) -> Path:
    path = world["dir"] / "ccf.toml"
    path.write_text(textwrap.dedent(f"""\
        [ami]
        port = {port}
        timeout = "2s"
        [paths]
        store = "{world['store']}"
        [crm]
        adapter = "sqlite"
        path = "{world['crm']}"
        [agents]
        file = "{AGENTS}"
        interface = "PJSIP/{{extension}}"
        [outbound]
        interface = "PJSIP/{{number}}@trunk"
        """), encoding="utf-8")
    return path


def task_of(world: dict) -> dict:
    crm = SqliteCRM(world["crm"])
    try:
        row = crm.db.conn.execute("SELECT * FROM callback_task").fetchone()
        names = [d[0] for d in crm.db.conn.execute("SELECT * FROM callback_task").description]
    finally:
        crm.close_now()
    return dict(zip(names, row, strict=True))


def callbacks_in(world: dict) -> list[dict]:
    with CallStore(world["store"]) as store:
        rows = store.query("SELECT source, call_id, data FROM centre_events "
                           "WHERE kind = 'callback' ORDER BY id")
    return [{**r, "data": json.loads(r["data"])} for r in rows]


# -- the plan and the Originate, in-process ----------------------------------------------------


def test_the_originate_rings_the_agent_then_dials_the_customer_and_awaits_its_response(world):
    async def go():
        peer = AmiPeer(users={"ccf": SECRET})
        await peer.start()
        crm = SqliteCRM(world["crm"])
        try:
            async def connect(on_event):
                link = AmiLink("127.0.0.1", peer.port, "ccf", SECRET, on_event=on_event,
                               timeout=WAIT_S, ping_interval=None)
                await link.start()
                return link

            with CallStore(world["store"]) as store:
                plan = await make_plan(store, world["call"], "li", load_agents(str(AGENTS)),
                                       crm)
                originator = AmiOriginator(connect, agent_interface="PJSIP/{extension}",
                                           outbound_interface="PJSIP/{number}@trunk",
                                           timeout_s=2.0)
                outcome = await run_callback(plan, originator, store, crm)
            return peer, outcome
        finally:
            await crm.close()
            await peer.stop()

    peer, outcome = asyncio.run(go())
    (sent,) = [a for a in peer.actions if a.get("Action") == "Originate"]
    assert sent["Channel"] == "PJSIP/8002"
    assert (sent["Application"], sent["Data"]) == ("Dial", "PJSIP/+8613800000001@trunk,60")
    assert sent["CallerID"] == "Call-back <+8613800000001>"
    assert (sent["Async"], sent["Timeout"]) == ("true", "30000")
    assert sent["Variable"] == "CCF_CALLBACK=sim-1"
    assert sent["ActionID"].startswith("ccf-callback-")
    result = outcome.result
    # the outcome is the OriginateResponse's, matched by the ActionID sent
    assert result.ok and result.details["action_id"] == sent["ActionID"]
    channel = peer.channels[result.details["channel"]]
    assert result.details["uniqueid"] == channel.uniqueid
    assert result.details["reason_code"] == "4"
    assert outcome.plan.task is not None and outcome.task_update.endswith("status done")
    assert task_of(world)["status"] == "done"
    assert task_of(world)["called_back_by"] == "li"
    (event,) = callbacks_in(world)
    assert (event["source"], event["call_id"], event["data"]["status"]) == ("ccf", "sim-1",
                                                                           "done")


def test_a_plan_refuses_an_unknown_call_or_agent(world):
    async def go(call: str, agent: str):
        with CallStore(world["store"]) as store:
            return await make_plan(store, call, agent, load_agents(str(AGENTS)))

    with pytest.raises(CallbackError, match="no call or voicemail 'sim-9'") as call:
        asyncio.run(go("sim-9", "li"))
    with pytest.raises(CallbackError, match="no agent 'nobody'.*zhang, li, wang, chen") as agent:
        asyncio.run(go("sim-1", "nobody"))
    # both name nothing: a usage error (exit 2), as `ccf callback` says for either
    assert call.value.unknown and agent.value.unknown


# -- the command, against the AMI peer on its own loop -----------------------------------------


def test_the_command_places_the_call_back(world):
    with peer_in_thread(AmiPeer(users={"ccf": SECRET})) as peer:
        config = write_config(world, peer.port)
        result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config),
                     env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "call-back of voicemail for zhang sim-1: agent li -> +8613800000001" in result.output
    assert "done: agent li reached the customer at +8613800000001" in result.output
    assert "status done" in result.output
    assert [a["Action"] for a in peer.actions if a.get("Action") == "Originate"] == \
        ["Originate"]


@pytest.mark.parametrize(("status", "reason"), [
    ("NOANSWER", "the customer at +8613800000001 did not answer"),
    ("BUSY", "the customer at +8613800000001 was busy"),
    # on Asterisk 22 a Dial that cannot create the channel sends no Dial event
    ("CHANUNAVAIL", "the customer at +8613800000001 could not be rung"),
])
def test_the_task_is_done_only_when_the_customer_answers(world, status, reason):
    # Found on Asterisk 22: the task was marked done once the agent answered,
    # though the customer's line could not even be rung
    peer = AmiPeer(users={"ccf": SECRET})
    peer.dial_status["PJSIP/+8613800000001@trunk"] = status
    with peer_in_thread(peer):
        config = write_config(world, peer.port)
        result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config),
                     env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 1, result.output
    assert reason in result.output
    assert task_of(world)["status"] == "failed"


def test_a_failing_originate_is_a_clear_message_and_exit_1(world):
    peer = AmiPeer(users={"ccf": SECRET})
    peer.devices["PJSIP/8002"] = "UNAVAILABLE"  # Response Failure, Reason 0
    with peer_in_thread(peer):
        config = write_config(world, peer.port)
        result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config),
                     env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 1
    assert "FAILED: the agent's phone could not be rung" in result.output
    assert "(OriginateResponse Failure, Reason 0)" in result.output
    assert "Traceback" not in result.output
    assert task_of(world)["status"] == "failed"
    assert callbacks_in(world)[-1]["data"]["status"] == "failed"


def test_without_the_secret_or_with_an_unknown_call_nothing_is_placed(world):
    config = write_config(world, 9)  # nothing listens there: never reached
    missing = ccf("callback", "sim-1", "--agent", "li", "--config", str(config), env={})
    assert missing.exit_code == 2 and "CCF_AMI_SECRET" in missing.output
    unknown = ccf("callback", "sim-7", "--agent", "li", "--config", str(config), "--simulate")
    assert unknown.exit_code == 2  # an id that names nothing is a usage error
    assert "no call or voicemail 'sim-7'" in unknown.output
    assert callbacks_in(world) == []


def test_an_unreachable_ami_is_reported_without_a_traceback(world):
    with peer_in_thread(AmiPeer(users={"ccf": SECRET})) as peer:
        port = peer.port
    config = write_config(world, port)  # the peer is gone: connection refused
    result = ccf("callback", "sim-1", "--agent", "li", "--config", str(config),
                 env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 4  # UNREACHABLE
    assert "cannot reach Asterisk's AMI" in result.output and "nothing was placed" in \
        result.output


# -- simulated ----------------------------------------------------------------------------


def test_a_simulated_call_back_rings_the_agent_then_the_customer(world):
    result = ccf("callback", "sim-1", "--agent", "li", "--simulate", "--store",
                 str(world["store"]), "--agents", str(AGENTS))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "  +00:00.000  rings agent li (extension 8002)" in lines
    assert "  +00:03.000  agent li answers" in lines  # li's answer_after is 3s
    assert "  +00:08.000  the customer answers: agent li is talking to +8613800000001" in lines
    assert callbacks_in(world)[-1]["source"] == "sim"
    # a rehearsal rang no one: the message still waits for its call-back
    listed = ccf("voicemail", "list", "--store", str(world["store"]), "--format", "json")
    assert json.loads(listed.stdout)[0]["called_back"] in (None, "", "no")


def test_a_simulated_call_back_fails_when_nobody_answers(world, tmp_path):
    never = ccf("callback", "sim-1", "--agent", "li", "--simulate", "--store",
                str(world["store"]), "--agents", str(AGENTS), "--customer-answers", "never")
    assert never.exit_code == 1
    assert "FAILED: the customer at +8613800000001 did not answer within 60s" in never.output
    offline = ccf("callback", "sim-1", "--agent", "chen", "--simulate", "--store",
                  str(world["store"]), "--agents", str(AGENTS))
    assert offline.exit_code == 1 and "FAILED: agent chen is offline" in offline.output
    bad = ccf("callback", "sim-1", "--agent", "li", "--simulate", "--store",
              str(world["store"]), "--agents", str(AGENTS), "--customer-answers", "soon")
    assert bad.exit_code == 2


def test_callback_help_explains_itself():
    result = ccf("callback", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Call back a caller: ring the agent first, then the customer." in text
    for option in ("--agent", "--config", "--simulate", "--agents", "--store"):
        assert option in text
