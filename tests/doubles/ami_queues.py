"""The AMI test peer's queue actions: QueueStatus, QueueSummary, QueueAdd, QueueRemove, QueuePause.

Replies are apps/app_queue.c's (ami-actions.txt shows them); the queues are the peer's app_queue
model, which sends the member events. Must not ring anyone: a caller's Queue() does that.
"""

from __future__ import annotations

from ccdsl.runtime.testing.peer.app_queue import AppQueue
from ccdsl.runtime.testing.peer.queue_events import DEVICE_STATES
from doubles.ami_wire import Request, Session, ast_true, error, frame, reply, send_list


class QueueActions:
    """`_action_<name>` for the queue actions; AmiPeer dispatches to them."""

    app_queue: AppQueue
    devices: dict[str, str]

    def _waited(self, start) -> int:
        return int((self.app_queue.clock.now() - start).total_seconds())

    def _action_queuestatus(self, session: Session, request: Request) -> None:
        items: list[bytes] = []
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        wanted, member_filter = request.get("Queue"), request.get("Member")
        for queue in self.app_queue.in_order():  # as app_queue iterates them
            if wanted and queue.name != wanted:
                continue
            items.append(frame(
                ("Event", "QueueParams"), ("Queue", queue.name), ("Max", queue.conf.maxlen),
                ("Strategy", queue.strategy), ("Calls", len(queue.callers)),
                ("Holdtime", queue.holdtime), ("TalkTime", queue.talktime),
                ("Completed", queue.completed), ("Abandoned", queue.abandoned),
                ("ServiceLevel", 0), ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"),
                ("Weight", 0), *tail))
            for m in queue.ordered():
                if member_filter and member_filter not in (m.name, m.interface):
                    continue
                items.append(frame(
                    ("Event", "QueueMember"), ("Queue", queue.name), ("Name", m.name),
                    ("Location", m.interface), ("StateInterface", m.state_interface),
                    ("Membership", "dynamic" if m.dynamic else "static"),
                    ("Penalty", m.penalty), ("CallsTaken", m.calls_taken),
                    ("LastCall", m.last_call), ("LastPause", m.last_pause),
                    ("LoginTime", m.login_time), ("InCall", int(m.in_call)),
                    ("Status", m.status), ("Paused", int(m.paused)),
                    ("PausedReason", m.paused_reason), ("Wrapuptime", 0), *tail))
            for c in queue.callers:
                items.append(frame(
                    ("Event", "QueueEntry"), ("Queue", queue.name), ("Position", c.pos),
                    ("Channel", c.caller.name), ("Uniqueid", c.caller.uniqueid),
                    ("CallerIDNum", c.caller.caller_num),
                    ("CallerIDName", c.caller.caller_name),
                    ("ConnectedLineNum", "unknown"), ("ConnectedLineName", "unknown"),
                    ("Wait", self._waited(c.start)), ("Priority", c.prio), *tail))
        send_list(session, request, "Queue status will follow", "QueueStatusComplete", items)

    def _action_queuesummary(self, session: Session, request: Request) -> None:
        items: list[bytes] = []
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        wanted = request.get("Queue")
        for queue in self.app_queue.in_order():
            if wanted and queue.name != wanted:
                continue
            # manager_queues_summary: logged in = not UNAVAILABLE or INVALID;
            # available = NOT_INUSE or UNKNOWN and not paused
            logged = [m for m in queue.members.values() if m.status not in (4, 5)]
            available = [m for m in logged if m.status in (0, 1) and not m.paused]
            longest = max((self._waited(c.start) for c in queue.callers), default=0)
            items.append(frame(
                ("Event", "QueueSummary"), ("Queue", queue.name), ("LoggedIn", len(logged)),
                ("Available", len(available)), ("Callers", len(queue.callers)),
                ("HoldTime", queue.holdtime), ("TalkTime", queue.talktime),
                ("LongestHoldTime", longest), *tail))
        send_list(session, request, "Queue summary will follow", "QueueSummaryComplete", items)

    def _member_change(self, session: Session, request: Request, queue_name: str,
                       interface: str, *, adding: bool) -> bool:
        """Whether the queue exists and the member is (removing) or is not
        (adding) in it; if not, app_queue's error reply went out."""
        queue = self.app_queue.queues.get(queue_name)
        if queue is None:
            where = "add interface to" if adding else "remove interface from"
            error(session, request, f"Unable to {where} queue: No such queue")
            return False
        if (queue.member(interface) is None) != adding:
            error(session, request, "Unable to add interface: Already there" if adding
                  else "Unable to remove interface: Not there")
            return False
        return True

    def _action_queueadd(self, session: Session, request: Request) -> None:
        queue_name, interface = request.get("Queue"), request.get("Interface")
        if not queue_name:
            error(session, request, "'Queue' not specified.")
            return
        if not interface:
            error(session, request, "'Interface' not specified.")
            return
        if not self._member_change(session, request, queue_name, interface, adding=True):
            return
        state_interface = request.get("StateInterface") or interface
        device = self.devices.get(state_interface, "NOT_INUSE")
        reply(session, request, "Success", "Added interface to queue")
        # the reply goes first, then QueueMemberAdded (a stasis message)
        paused = ast_true(request.get("Paused"))
        self.app_queue.add_member(queue_name, interface, request.get("MemberName"),
                                  state_interface, penalty=int(request.get("Penalty") or 0),
                                  paused=paused, reason=request.get("Reason") if paused else "",
                                  status=DEVICE_STATES.index(device))

    def _action_queueremove(self, session: Session, request: Request) -> None:
        queue_name, interface = request.get("Queue"), request.get("Interface")
        if not queue_name or not interface:
            error(session, request, "Need 'Queue' and 'Interface' parameters.")
            return
        if not self._member_change(session, request, queue_name, interface, adding=False):
            return
        member = self.app_queue.queues[queue_name].member(interface)
        if member is not None and not member.dynamic:
            # remove_from_queue: RES_NOT_DYNAMIC for a `member =>` line of queues.conf
            error(session, request, "Member not dynamic")
            return
        reply(session, request, "Success", "Removed interface from queue")
        self.app_queue.remove_member(queue_name, interface)

    def _action_queuepause(self, session: Session, request: Request) -> None:
        interface, paused_text = request.get("Interface"), request.get("Paused")
        if not interface or not paused_text:
            error(session, request, "Need 'Interface' and 'Paused' parameters.")
            return
        paused = ast_true(paused_text)
        wanted = request.get("Queue")
        if not any(not wanted or q.name == wanted
                   for q, _ in self.app_queue.memberships(interface)):
            error(session, request, "Interface not found")
            return
        reply(session, request, "Success",
              "Interface paused successfully" if paused else "Interface unpaused successfully")
        self.app_queue.pause(interface, paused, wanted, request.get("Reason"))
