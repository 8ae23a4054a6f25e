"""The AMI events of app_queue as the test peer sends them: headers in the captures' order.

Builds dicts only (tests/asterisk/captures/ami-queue-*.txt); must not decide when an event
happens (app_queue.py and queue_call.py do) nor write to a socket (the AMI double does).
"""

from __future__ import annotations

from dataclasses import dataclass

# ChannelState names (include/asterisk/channelstate.h), as ChannelStateDesc gives them
STATE_DESC = {0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing",
              6: "Up", 7: "Busy"}
# Asterisk's device states (include/asterisk/devicestate.h), by number as a
# queue member's Status gives them
DEVICE_STATES = ("UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE",
                 "RINGING", "RINGINUSE", "ONHOLD")
AGENT = "agent,all"  # every app_queue event is of class agent


@dataclass
class ChannelSnapshot:
    """What an AMI channel event says of a channel (ast_manager_build_channel_state_string)."""

    name: str
    uniqueid: str
    linkedid: str
    context: str = ""
    exten: str = "s"
    priority: int = 1
    state: int = 6  # Up
    caller_num: str = "<unknown>"
    caller_name: str = "<unknown>"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    language: str = "en"
    accountcode: str = ""

    def fields(self, prefix: str = "") -> dict[str, object]:
        pairs = (("Channel", self.name), ("ChannelState", self.state),
                 ("ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
                 ("CallerIDNum", self.caller_num), ("CallerIDName", self.caller_name),
                 ("ConnectedLineNum", self.connected_num),
                 ("ConnectedLineName", self.connected_name), ("Language", self.language),
                 ("AccountCode", self.accountcode), ("Context", self.context),
                 ("Exten", self.exten), ("Priority", self.priority),
                 ("Uniqueid", self.uniqueid), ("Linkedid", self.linkedid))
        return {prefix + key: value for key, value in pairs}


def member_blob(event: str, queue: str, member) -> dict[str, object]:
    """QueueMemberAdded / Status / Pause / Removed (queue_member_blob_create).
    InCall is whether this queue's member object is in a call it connected."""
    return {"Event": event, "Privilege": AGENT, "Queue": queue, "MemberName": member.name,
            "Interface": member.interface, "StateInterface": member.state_interface,
            "Membership": "dynamic" if member.dynamic else "static",
            "Penalty": member.penalty, "CallsTaken": member.calls_taken,
            "LastCall": member.last_call, "LastPause": member.last_pause,
            "LoginTime": member.login_time, "InCall": int(member.in_call),
            "Status": member.status, "Paused": int(member.paused),
            "PausedReason": member.paused_reason, "Ringinuse": int(member.ringinuse),
            "Wrapuptime": 0}


def caller_event(event: str, caller: ChannelSnapshot, queue: str,
                 **tail: object) -> dict[str, object]:
    """QueueCallerJoin / Leave (Position, Count) and QueueCallerAbandon
    (Position, OriginalPosition, HoldTime): the caller's channel, then Queue."""
    return {"Event": event, "Privilege": AGENT, **caller.fields(), "Queue": queue, **tail}


def agent_event(event: str, caller: ChannelSnapshot, dest: ChannelSnapshot, queue: str,
                member, **tail: object) -> dict[str, object]:
    """AgentCalled, AgentRingNoAnswer (RingTime ms), AgentConnect (HoldTime,
    RingTime s), AgentComplete (HoldTime, TalkTime, Reason): the caller's
    channel, the member's as Dest*, then Queue, Interface, MemberName."""
    return {"Event": event, "Privilege": AGENT, **caller.fields(), **dest.fields("Dest"),
            "Queue": queue, "Interface": member.interface, "MemberName": member.name, **tail}
