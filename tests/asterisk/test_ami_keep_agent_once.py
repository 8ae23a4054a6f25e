"""An answered DialEnd's agent is looked up once when ccf serve keeps it: the lookup reads the
centre's agents and channels for every such event of a busy PBX, and the stored `ccf_agent`
must be the agent that decided the event was kept."""

from __future__ import annotations

from ccdsl.runtime.asterisk.ami_keep import AmiEventKeeper
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage


def test_a_kept_dial_end_asks_for_its_agent_once() -> None:
    asked: list[str] = []
    answers = iter(["wang", "li"])  # a second lookup would name another agent

    def agent_of_channel(channel: str) -> str | None:
        asked.append(channel)
        return next(answers)

    rows: list = []
    keeper = AmiEventKeeper(lambda *row: rows.append(row), rate=100,
                            agent_of_channel=agent_of_channel)
    assert keeper.keep(AmiMessage({"Event": "DialEnd", "DialStatus": "ANSWER",
                                   "DestChannel": "PJSIP/8003-00000007", "Uniqueid": "1.1"}))
    assert asked == ["PJSIP/8003-00000007"]
    [(_, kind, data, _)] = rows
    assert (kind, data["ccf_agent"]) == ("DialEnd", "wang")
