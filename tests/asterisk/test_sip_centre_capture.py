"""The example centre's dialplan and transfer options held to a real Asterisk with SIP phones.

tests/asterisk/captures/ami-sip-*.txt are AMI sessions of examples/iws served by ccf serve on
Asterisk 22.10.1 with chan_pjsip and sipp phones (captures README "The example centre with SIP
phones"). What ccf serve sent and what the generated dialplan made Asterisk run there must be
what the product makes of the same values now.
"""

from __future__ import annotations

import re

import pytest
from doubles.transcript import read_transcript, sent_by_asterisk

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.dial_options import TRANSFER_DIAL_VARIABLE, transfer_options
from ccdsl.runtime.asterisk.dialplan import EXTENSIONS_FILE, render_dialplan
from ccdsl.runtime.asterisk.flowstore import Bundle
from tests.asterisk.test_phone_hold_capture import messages
from tests.multi_server.test_workers_dialplan import EXAMPLE, ROOT


def captured(name: str) -> list[AmiMessage]:
    return messages(sent_by_asterisk(read_transcript(name)))


@pytest.fixture(scope="module")
def extensions() -> str:
    """examples/iws's generated extensions_ccf.conf (its ccf.toml: PJSIP agents, the trunk)."""
    config = load_config(EXAMPLE, environ={})
    ir = compile_file(str(ROOT / "examples" / "iws" / "hotline.ccf")).ir
    return render_dialplan(config, Bundle("test", {"hotline": ir}, config.numbers))[
        EXTENSIONS_FILE]


def dial_of(extensions: str, pattern: str) -> str:
    """The application of `exten => PATTERN,1,...` in ccf-transfer."""
    transfer = extensions.split("[ccf-transfer]", 1)[1].split("\n[", 1)[0]
    match = re.search(rf"^exten => {re.escape(pattern)},1,(\w+)\((.*)\)\s*$", transfer, re.M)
    assert match is not None, pattern
    return f"{match[1]}({match[2]})"


def test_the_blind_transfer_ran_the_generated_dial_with_the_options_ccf_serve_sets(
        extensions: str) -> None:
    events = captured("ami-sip-blind-transfer.txt")
    command = next(str(m.get("Command")) for m in events if m.event == "AGIExecStart"
                   and str(m.get("Command")).startswith(f"SET VARIABLE {TRANSFER_DIAL_VARIABLE}"))
    value = command.split(" ", 3)[3].strip('"')
    announce = re.fullmatch(r"f\(\+862150000000\)A\((/[^)]+)\)", value)
    assert announce is not None, value
    # what ccf serve sets for `caller_id "+862150000000" announce courier_brief`
    assert value == transfer_options("+862150000000", announce[1])
    dial = next(m for m in events if m.event == "Newexten" and m.get("Context") == "ccf-transfer")
    number = str(dial.get("Exten"))
    assert number == "+862150009999"
    generated = dial_of(extensions, "_+X.")
    assert generated == "Dial(PJSIP/${EXTEN}@trunk,,${CCF_TRANSFER_DIAL})"
    ran = generated.replace("${EXTEN}", number).replace("${CCF_TRANSFER_DIAL}", value)
    assert f"{dial.get('Application')}({dial.get('AppData')})" == ran
    # the called phone answered: the f() number went out as its From (DialEnd ANSWER)
    end = next(m for m in events if m.event == "DialEnd")
    assert (end.get("DialStatus"), str(end.get("DestChannel")).split("-")[0]) == (
        "ANSWER", "PJSIP/trunk")


def test_the_agents_extension_rings_their_pjsip_phone(extensions: str) -> None:
    """The agent's channel seen on Asterisk is the interface the dialplan and the queue
    members name: `PJSIP/8003-…` for wang (8003)."""
    assert dial_of(extensions, "8003") == "Dial(PJSIP/8003,,${CCF_TRANSFER_DIAL})"
    events = captured("ami-sip-zh-queue.txt")
    connect = next(m for m in events if m.event == "AgentConnect")
    assert (connect.get("Queue"), connect.get("MemberName"), connect.get("Interface")) == (
        "ccf-support", "wang", "PJSIP/8003")
    assert str(connect.get("DestChannel")).startswith("PJSIP/8003-")
