"""AsteriskControl over a real socket against the AMI double: the exact actions and
headers each console action sends, what the AmiCentre shows at once, and refusals."""

from __future__ import annotations

import asyncio
import tomllib

import pytest

from ccdsl.runtime.asterisk.dialplan import CONSOLE_AGENT, CONSOLE_HOLD, CONSOLE_QUEUE
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.operations.centre_control import ControlError, Target
from console_asterisk.harness import AGENT_LEG, CALL, CALLER, close, world


def run(tmp_path, body, **options):
    async def main():
        w = await world(tmp_path, **options)
        try:
            return await body(w)
        finally:
            await close(w)

    return asyncio.run(main())


def headers(action: dict) -> list[tuple[str, str]]:
    return [(k, v) for k, v in action.items() if k not in ("Action", "ActionID")]


# -- agents ---------------------------------------------------------------------------------


def test_login_adds_the_agent_to_the_queues_its_skills_fit_and_the_centre_sees_it(tmp_path):
    async def body(w):
        await w.control.agent_logout("li")
        assert w.centre.agent("li").state == AgentState.LOGGED_OFF
        w.start = len(w.peer.actions)
        await w.control.agent_login("li")
        # at once, before any event of Asterisk's is read
        assert w.centre.agent("li").queues == ("general",)
        assert w.centre.agent("li").state == AgentState.AVAILABLE
        return w.sent("QueueAdd")

    (add,) = run(tmp_path, body)
    assert headers(add) == [("Queue", "ccf-general"), ("Interface", "PJSIP/8001"),
                            ("MemberName", "li"), ("StateInterface", "PJSIP/8001"),
                            ("Paused", "false")]


def test_login_twice_is_fine_and_logout_removes_from_every_queue(tmp_path):
    async def body(w):
        await w.control.agent_login("li")
        await w.control.agent_login("li")  # "Already there": fine
        w.start = len(w.peer.actions)
        await w.control.agent_logout("li")
        assert w.centre.agent("li").state == AgentState.LOGGED_OFF
        assert w.centre.agent("li").queues == ()
        await w.control.agent_logout("li")  # "Not there": fine
        return w.sent("QueueRemove")

    removes = run(tmp_path, body)
    assert [headers(r) for r in removes[:2]] == [
        [("Queue", "ccf-general"), ("Interface", "PJSIP/8001")],
        [("Queue", "ccf-tech"), ("Interface", "PJSIP/8001")]]


def test_pause_with_reason_and_resume(tmp_path):
    async def body(w):
        await w.control.agent_login("li")
        w.start = len(w.peer.actions)
        await w.control.agent_pause("li", True, "lunch")
        assert w.centre.agent("li").state == AgentState.PAUSED
        await w.control.agent_pause("li", False, None)
        assert w.centre.agent("li").state == AgentState.AVAILABLE
        return w.sent("QueuePause")

    pause, resume = run(tmp_path, body)
    assert headers(pause) == [("Interface", "PJSIP/8001"), ("Paused", "true"),
                              ("Reason", "lunch")]
    assert headers(resume) == [("Interface", "PJSIP/8001"), ("Paused", "false")]


def test_pausing_an_agent_in_no_queue_is_refused_clearly(tmp_path):
    async def body(w):
        await w.control.agent_logout("wang")
        with pytest.raises(ControlError, match="member of no queue on Asterisk") as err:
            await w.control.agent_pause("wang", True, "lunch")
        assert err.value.status == 409

    run(tmp_path, body)


def test_set_skills_rewrites_the_agents_file_and_follows_with_the_queues(tmp_path):
    async def body(w):
        await w.control.agent_login("li")
        w.start = len(w.peer.actions)
        await w.control.set_skills("li", {"tech": 7, "zh-CN": 9})
        assert w.centre.agent("li").skills == {"tech": 7, "zh-CN": 9}
        assert w.centre.agent("li").queues == ("tech",)
        return w.sent("QueueAdd", "QueueRemove")

    changes = run(tmp_path, body)
    assert [(c["Action"], c["Queue"]) for c in changes] == [
        ("QueueRemove", "ccf-general"), ("QueueAdd", "ccf-tech")]
    text = (tmp_path / "agents.toml").read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    assert [a["id"] for a in doc["agents"]] == ["li", "wang"]
    assert doc["agents"][0]["skills"] == {"tech": 7, "zh-CN": 9}
    assert doc["agents"][0]["name"] == "Li Na"
    assert doc["agents"][1]["skills"] == ["general"]  # the other agent as it was
    assert 'skills = { tech = 7, zh-CN = 9 }\n' in text


@pytest.mark.parametrize(("skills", "words"), [
    ({"te ch": 3}, "may only use letters"), ({"tech": 11}, "from 1 to 10"),
    ({"tech": 0}, "from 1 to 10"), ({'x"]\n[evil': 1}, "may only use letters")])
def test_bad_skills_are_refused_and_the_file_is_unchanged(tmp_path, skills, words):
    async def body(w):
        before = (tmp_path / "agents.toml").read_text(encoding="utf-8")
        with pytest.raises(ControlError, match=words) as err:
            await w.control.set_skills("li", skills)
        assert err.value.status == 400
        assert (tmp_path / "agents.toml").read_text(encoding="utf-8") == before

    run(tmp_path, body)


# -- call control ---------------------------------------------------------------------------


def test_hangup_ends_the_callers_channel_and_the_agents(tmp_path):
    async def body(w):
        await w.control.hangup(CALL)
        assert CALLER not in w.peer.channels and AGENT_LEG not in w.peer.channels
        return w.sent("Hangup")

    sent = run(tmp_path, body)
    assert [headers(a) for a in sent] == [[("Channel", CALLER)], [("Channel", AGENT_LEG)]]


def test_hold_mutes_both_sides_and_whispers_music_then_resume_undoes_it(tmp_path):
    async def body(w):
        w.peer.bridge(CALLER, AGENT_LEG)
        await w.control.hold(CALL, True)
        assert w.peer.muted == {CALLER: True, AGENT_LEG: True}
        music = [c for c in w.peer.channels if c.startswith(f"Local/s@{CONSOLE_HOLD}")]
        assert len(music) == 2
        await w.control.hold(CALL, True)  # already on hold: nothing more
        held = w.sent("MuteAudio", "Originate", "Hangup")
        w.start = len(w.peer.actions)
        await w.control.hold(CALL, False)
        assert w.peer.muted == {CALLER: False, AGENT_LEG: False}
        assert not [c for c in w.peer.channels if CONSOLE_HOLD in c]
        return held, w.sent("MuteAudio", "Hangup")

    held, resumed = run(tmp_path, body)
    assert [a["Action"] for a in held] == ["MuteAudio", "MuteAudio", "Originate"]
    assert headers(held[0]) == [("Channel", CALLER), ("Direction", "in"), ("State", "on")]
    assert headers(held[2]) == [("Channel", f"Local/s@{CONSOLE_HOLD}"),
                                ("Application", "ChanSpy"), ("Data", f"{CALLER},qw"),
                                ("CallerID", "Hold <hold>"), ("Async", "true")]
    assert [a["Action"] for a in resumed] == ["Hangup", "MuteAudio", "MuteAudio"]
    assert resumed[0]["Channel"].startswith(f"Local/s@{CONSOLE_HOLD}-")


def test_blind_transfer_to_an_agent_is_the_agents_leg_transferring(tmp_path):
    async def body(w):
        w.peer.bridge(CALLER, AGENT_LEG)
        await w.control.transfer(CALL, Target("agent", "wang"), "blind")
        assert w.peer.channels[CALLER].context == CONSOLE_AGENT
        return w.sent("BlindTransfer")

    (sent,) = run(tmp_path, body)
    assert headers(sent) == [("Channel", AGENT_LEG), ("Exten", "8002"),
                             ("Context", CONSOLE_AGENT)]


def test_blind_transfer_of_a_call_without_agent_redirects_the_caller(tmp_path):
    async def body(w):
        await w.control.transfer(CALL, Target("queue", "tech"), "blind")
        await w.control.transfer(CALL, Target("number", "+86 21 5000-1234"), "blind")
        return w.sent("Redirect")

    to_queue, to_number = run(tmp_path, body, agent_leg=False)
    assert headers(to_queue) == [("Channel", CALLER), ("Exten", "ccf-tech"),
                                 ("Context", CONSOLE_QUEUE), ("Priority", "1")]
    assert headers(to_number)[1:3] == [("Exten", "+862150001234"), ("Context", "ccf-transfer")]


def test_attended_transfer_is_atxfer_on_the_agents_channel(tmp_path):
    async def body(w):
        await w.control.transfer(CALL, Target("number", "013900000000"), "attended")
        w.peer.atxfer_code = None
        with pytest.raises(ControlError, match=r"atxfer => \*2"):
            await w.control.transfer(CALL, Target("agent", "wang"), "attended")
        with pytest.raises(ControlError, match="transfer to a queue blind") as err:
            await w.control.transfer(CALL, Target("queue", "tech"), "attended")
        assert err.value.status == 400
        return w.sent("Atxfer")

    sent = run(tmp_path, body)
    assert headers(sent[0]) == [("Channel", AGENT_LEG), ("Exten", "013900000000"),
                                ("Context", "ccf-transfer")]


def test_add_party_rings_the_target_with_chanspy_barging_on_the_caller(tmp_path):
    async def body(w):
        await w.control.add_party(CALL, Target("agent", "wang"))
        return w.sent("Originate")

    (sent,) = run(tmp_path, body)
    assert headers(sent) == [("Channel", "PJSIP/8002"), ("Application", "ChanSpy"),
                             ("Data", f"{CALLER},qB"), ("CallerID", f"Conference <{CALL}>"),
                             ("Timeout", "30000"), ("Async", "true")]


def test_read_to_caller_spies_a_local_channel_playing_the_speech_into_the_call(tmp_path):
    async def body(w):
        await w.control.read_to_caller(CALL, "Your order 12 ships today", "en-US")
        assert w.tts.rendered == [("Your order 12 ships today", "en-US")]
        return w.sent("Originate")

    (sent,) = run(tmp_path, body)
    assert headers(sent) == [("Channel", "Local/s@ccf-console-read"),
                             ("Application", "ChanSpy"), ("Data", f"{CALLER},qB"),
                             ("CallerID", "Read <read>"),
                             ("Variable", f"CCF_READ_FILE={tmp_path}/tts/abc123"),
                             ("Async", "true")]


def test_monitor_rings_the_supervisor_with_chanspy_on_the_agents_leg(tmp_path):
    async def body(w):
        session = await w.control.monitor(CALL, "8009", "whisper")
        assert session["agent"] == "li" and session["agent_channel"] == AGENT_LEG
        return w.sent("Originate")

    (sent,) = run(tmp_path, body)
    assert headers(sent)[:3] == [("Channel", "PJSIP/8009"), ("Application", "ChanSpy"),
                                 ("Data", f"{AGENT_LEG},qw")]


# -- refusals -------------------------------------------------------------------------------


def test_an_unknown_call_is_404(tmp_path):
    async def body(w):
        for action in (w.control.hangup("1795663790.77"),
                       w.control.hold("1795663790.77", True)):
            with pytest.raises(ControlError, match="no call 1795663790.77 running") as err:
                await action
            assert err.value.status == 404

    run(tmp_path, body)


def test_no_ami_link_is_503_with_a_clear_message(tmp_path):
    async def body(w):
        with pytest.raises(ControlError, match="Asterisk is not reachable") as err:
            await w.control.agent_login("li")
        assert err.value.status == 503
        with pytest.raises(ControlError, match="Asterisk is not reachable"):
            await w.control.hangup(CALL)

    run(tmp_path, body, link_up=False)


@pytest.mark.parametrize("number", ["123,evil", "8001&Local/x", "12\r\nAction: Hangup", ""])
def test_an_unsafe_number_is_400_and_nothing_is_sent(tmp_path, number):
    async def body(w):
        for action in (w.control.transfer(CALL, Target("number", number), "blind"),
                       w.control.add_party(CALL, Target("number", number))):
            with pytest.raises(ControlError, match="not a phone number") as err:
                await action
            assert err.value.status == 400
        return w.sent("Redirect", "BlindTransfer", "Originate", "Atxfer")

    assert run(tmp_path, body) == []


def test_a_call_with_no_agent_yet_cannot_be_held(tmp_path):
    async def body(w):
        with pytest.raises(ControlError, match="cannot hold the call: .*no agent yet"):
            await w.control.hold(CALL, True)

    run(tmp_path, body, agent_leg=False)
