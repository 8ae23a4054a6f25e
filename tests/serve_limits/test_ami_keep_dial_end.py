"""ccf serve stores a DialEnd only when an agent's phone answered a dial: the one the
check-asterisk report reads. Every other ring of the PBX (a queue member's ring that went
unanswered, a trunk's answer) would spend the store's rate on rows nothing reads."""

from __future__ import annotations

from ccdsl.runtime.asterisk.ami_keep import AmiEventKeeper
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage

AGENTS = {"PJSIP/8003": "wang"}


def _keeper(rows: list) -> AmiEventKeeper:
    return AmiEventKeeper(lambda *row: rows.append(row), rate=100,
                          agent_of_channel=lambda c: AGENTS.get(c.rsplit("-", 1)[0]))


def _dial_end(status: str, dest: str) -> AmiMessage:
    return AmiMessage({"Event": "DialEnd", "Context": "ccf-inbound", "DialStatus": status,
                       "DestChannel": dest, "Uniqueid": "1.1"})


def test_an_agent_answering_a_dial_is_kept_with_the_agent() -> None:
    rows: list = []
    assert _keeper(rows).keep(_dial_end("ANSWER", "PJSIP/8003-00000007"))
    [(_, kind, data, _)] = rows
    assert (kind, data["ccf_agent"], data["DestChannel"]) == ("DialEnd", "wang",
                                                              "PJSIP/8003-00000007")


def test_other_dial_ends_are_not_stored() -> None:
    rows: list = []
    keeper = _keeper(rows)
    assert not keeper.keep(_dial_end("NOANSWER", "PJSIP/8003-00000008"))  # a member's ring
    assert not keeper.keep(_dial_end("ANSWER", "PJSIP/trunk-00000009"))  # not an agent's
    assert rows == [] and keeper.skipped == 2
