"""The AMI test peer's actions on sessions, devices, channels and the CLI (queues: ami_queues).

As Asterisk 22.10.1 answers them; each handler names the source file its reply shapes come from.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid

from ccdsl.runtime.testing.peer.queue_events import STATE_DESC
from doubles.ami_state import AsteriskState, PeerChannel
from doubles.ami_wire import (
    Close,
    Request,
    Session,
    all_values,
    ast_true,
    callerid,
    error,
    event_mask,
    frame,
    reply,
    send_list,
)


class Actions(AsteriskState):
    """`_action_<name>` answers the action <name>; AmiPeer dispatches to them."""

    users: dict[str, str]
    host: str
    port: int
    auth_failure_delay: float
    dialplan: dict[str, set[str]] | None
    globals: dict[str, str]
    reloads: list[str]
    _started: time.struct_time

    # -- session actions (main/manager.c) ---------------------------------

    async def _action_login(self, session: Session, request: Request) -> None:
        user = request.get("Username")
        if user not in self.users or self.users[user] != request.get("Secret"):
            await asyncio.sleep(self.auth_failure_delay)
            error(session, request, "Authentication failed")
            raise Close
        session.authenticated = True
        session.username = user
        session.events = event_mask(request.get("Events"))
        reply(session, request, "Success", "Authentication accepted")
        if session.wants("system"):
            session.writer.write(frame(
                ("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", 246),
                ("LastReload", 246), ("Status", "Fully Booted")))
        if session.wants("security"):
            host, port = session.writer.get_extra_info("peername")[:2]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
            session.writer.write(frame(
                ("Event", "SuccessfulAuth"), ("Privilege", "security,all"), ("EventTV", stamp),
                ("Severity", "Informational"), ("Service", "AMI"), ("EventVersion", 1),
                ("AccountID", user), ("SessionID", f"0x{id(session):x}"),
                ("LocalAddress", f"IPV4/TCP/{self.host}/{self.port}"),
                ("RemoteAddress", f"IPV4/TCP/{host}/{port}"), ("UsingPassword", 0),
                ("SessionTV", stamp)))

    def _action_logoff(self, session: Session, request: Request) -> None:
        reply(session, request, "Goodbye", "Thanks for all the fish.")
        raise Close

    def _action_challenge(self, session: Session, request: Request) -> None:
        reply(session, request, "Success", None,
                    ("Challenge", random.randint(100_000_000, 999_999_999)))

    def _action_ping(self, session: Session, request: Request) -> None:
        reply(session, request, "Success", None, ("Ping", "Pong"),
                    ("Timestamp", f"{time.time():.6f}"))

    def _action_corestatus(self, session: Session, request: Request) -> None:
        date = time.strftime("%Y-%m-%d", self._started)
        clock = time.strftime("%H:%M:%S", self._started)
        reply(session, request, "Success", None, ("CoreStartupDate", date),
                    ("CoreStartupTime", clock), ("CoreReloadDate", date),
                    ("CoreReloadTime", clock), ("CoreCurrentCalls", self._calls()),
                    ("CoreProcessedCalls", self.processed_calls))

    def _action_coresettings(self, session: Session, request: Request) -> None:
        reply(session, request, "Success", None, ("AMIversion", "11.0.0"),
                    ("AsteriskVersion", "22.10.1"), ("SystemName", ""), ("CoreMaxCalls", 0),
                    ("CoreMaxLoadAvg", "0.000000"), ("CoreRunUser", ""), ("CoreRunGroup", ""),
                    ("CoreMaxFilehandles", 0), ("CoreRealTimeEnabled", "No"),
                    ("CoreCDRenabled", "Yes"), ("CoreHTTPenabled", "No"),
                    ("SoundsSearchCustomDir", "No"))

    def _action_events(self, session: Session, request: Request) -> None:
        # main/manager.c action_events: "Events: On" / "Events: Off"
        session.events = event_mask(request.get("EventMask"))
        reply(session, request, "Success", None,
                    ("Events", "On" if session.events else "Off"))

    # -- devices ---------------------------------------------------------------------

    def _action_devicestatelist(self, session: Session, request: Request) -> None:
        # res/res_manager_devicestate.c action_devicestatelist
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        items = [frame(("Event", "DeviceStateChange"), *tail, ("Device", device),
                          ("State", state)) for device, state in self.devices.items()]
        send_list(session, request, "Device State Changes will follow",
                   "DeviceStateListComplete", items)

    # -- channels (main/manager.c) -----------------------------------------

    def _action_coreshowchannels(self, session: Session, request: Request) -> None:
        action_id = request.get("ActionID")
        head = [("ActionID", action_id)] if action_id else []
        now = time.monotonic()
        items = []
        for chan in self.channels.values():
            fields = chan.fields()
            seconds = int(now - chan.created)
            items.append(frame(
                ("Event", "CoreShowChannel"), *head, *fields.items(),
                ("Application", chan.application), ("ApplicationData", chan.data),
                ("Duration", time.strftime("%H:%M:%S", time.gmtime(seconds))),
                ("BridgeId", self._bridge_id(chan.name))))
        send_list(session, request, "Channels will follow", "CoreShowChannelsComplete", items)

    def _bridge_id(self, name: str) -> str:
        """The bridge a channel is in, as CoreShowChannel's BridgeId ("" when in none): the
        queue call's BridgeUniqueid, else one id per pair of bridged channels."""
        bridge_id = getattr(self, "bridge_ids", {}).get(name)
        other = getattr(self, "bridges", {}).get(name)
        if bridge_id or other is None:
            return bridge_id or ""
        return str(uuid.uuid5(uuid.NAMESPACE_OID, " ".join(sorted((name, other)))))

    def _action_status(self, session: Session, request: Request) -> None:
        wanted = request.get("Channel")
        if wanted and wanted not in self.channels:
            error(session, request, "No such channel")
            return
        action_id = request.get("ActionID")
        tail = [("ActionID", action_id)] if action_id else []
        now = time.monotonic()
        items = []
        for chan in self.channels.values():
            if wanted and chan.name != wanted:
                continue
            items.append(frame(
                ("Event", "Status"), ("Privilege", "Call"), *chan.fields().items(),
                ("Type", chan.name.split("/")[0]), ("DNID", ""),
                ("EffectiveConnectedLineNum", chan.caller_num),
                ("EffectiveConnectedLineName", chan.caller_name), ("TimeToHangup", 0),
                ("BridgeID", ""), ("Application", chan.application), ("Data", chan.data),
                ("Nativeformats", "(slin)"), ("Readformat", "slin"), ("Readtrans", ""),
                ("Writeformat", "slin"), ("Writetrans", ""), ("Callgroup", 0),
                ("Pickupgroup", 0), ("Seconds", int(now - chan.created)), *tail))
        send_list(session, request, "Channel status will follow", "StatusComplete", items,
                   ("Items", len(items)))

    def _variable_target(self, session: Session, request: Request):
        """Getvar/Setvar's checks, in manager.c's order: the variable named,
        then the channel (when one is named) existing. (ok, channel or None)."""
        if not request.get("Variable"):
            error(session, request, "No variable specified")
            return False, None
        name = request.get("Channel")
        chan = self.channels.get(name) if name else None
        if name and chan is None:
            error(session, request, "No such channel")
            return False, None
        return True, chan

    def _action_getvar(self, session: Session, request: Request) -> None:
        ok, chan = self._variable_target(session, request)
        if not ok:
            return
        variable = request.get("Variable")
        if chan is not None:
            functions = {"CALLERID(num)": chan.caller_num, "CALLERID(name)": chan.caller_name,
                         "CHANNEL(name)": chan.name, "UNIQUEID": chan.uniqueid,
                         # the held side of a phone's hold (main/channel.c sets the hold
                         # state of the channel indicated; captures/ami-phone-hold-ask*.txt)
                         "CHANNEL(onhold)": "1" if chan.name in self._phone_music() else "0"}
            value = functions.get(variable, chan.variables.get(variable, ""))
        else:
            value = self.globals.get(variable, "")
        reply(session, request, "Success", None, ("Variable", variable), ("Value", value))

    def _action_setvar(self, session: Session, request: Request) -> None:
        ok, chan = self._variable_target(session, request)
        if not ok:
            return
        variable = request.get("Variable")
        if chan is not None:
            chan.variables[variable] = request.get("Value")
        else:
            self.globals[variable] = request.get("Value")
        reply(session, request, "Success", "Variable Set")

    async def _action_originate(self, session: Session, request: Request) -> None:
        target = request.get("Channel")
        if not target:
            error(session, request, "Channel not specified")
            return
        caller_name, caller_num = callerid(request.get("CallerID"))
        ok = self._reachable(target)
        asynchronous = ast_true(request.get("Async"))
        if asynchronous:
            reply(session, request, "Success", "Originate successfully queued")
            await asyncio.sleep(0)
        chan = self._originate(request, target, caller_num, caller_name) if ok else None
        if not asynchronous:
            if chan is None:
                error(session, request, "Originate failed")
            else:
                reply(session, request, "Success", "Originate successfully queued")
            return
        # main/manager.c fast_originate: the OriginateResponse event
        app = request.get("Application")
        fields: dict[str, object] = {"Event": "OriginateResponse", "Privilege": "call,all"}
        if request.get("ActionID"):
            fields["ActionID"] = request.get("ActionID")
        fields["Response"] = "Success" if chan else "Failure"
        fields["Channel"] = chan.name if chan else target
        if app:
            fields["Application"], fields["Data"] = app, request.get("Data")
        else:
            fields["Context"], fields["Exten"] = request.get("Context"), request.get("Exten")
        fields["Reason"] = 4 if chan else 0
        fields["Uniqueid"] = chan.uniqueid if chan else "<unknown>"
        fields["CallerIDNum"] = caller_num or "<unknown>"
        fields["CallerIDName"] = caller_name or "<unknown>"
        self.emit(fields)
        if chan is not None and (app or "").lower() == "dial":
            self._run_dial(chan, str(request.get("Data") or ""))

    def _run_dial(self, chan: PeerChannel, data: str) -> None:
        """The originated channel runs Dial(): DialBegin and DialEnd with the
        channel's Uniqueid (ami-session capture's fields), then, unless
        answered, its hang-up. A target that cannot be rung (CHANUNAVAIL)
        sends no Dial event: the channel just hangs up, as the trial saw."""
        target = data.split(",", 1)[0]
        status = self.dial_status.get(target, "ANSWER")
        caller = {"Channel": chan.name, "Uniqueid": chan.uniqueid, "Linkedid": chan.linkedid}
        if status != "CHANUNAVAIL":
            dest_id = self._new_uniqueid()
            dest = {"DestChannel": f"{target.split('@', 1)[0]}-{dest_id[-4:]}",
                    "DestUniqueid": dest_id, "DestLinkedid": chan.linkedid}
            self.emit({"Event": "DialBegin", "Privilege": "call,all", **caller, **dest,
                       "DialString": target})
            self.emit({"Event": "DialEnd", "Privilege": "call,all", **caller, **dest,
                       "DialStatus": status})
            if status == "ANSWER":
                return
        self.emit({"Event": "Hangup", "Privilege": "call,all", **caller, "Cause": "16",
                   "Cause-txt": "Normal Clearing"})

    def _reachable(self, target: str) -> bool:
        if target.startswith("Local/"):
            exten, _, context = target[len("Local/"):].partition("@")
            return self.dialplan is None or exten in self.dialplan.get(context, set())
        return self.devices.get(target, "NOT_INUSE") not in ("UNAVAILABLE", "INVALID")

    def _originate(self, request: Request, target: str, caller_num: str,
                   caller_name: str) -> PeerChannel:
        """The channels an answered Originate leaves: a Local pair (;1 runs
        the application, ;2 the dialplan) or one channel."""
        self.processed_calls += 1
        num, name = caller_num or "<unknown>", caller_name or "<unknown>"
        if target.startswith("Local/"):
            exten, _, context = target[len("Local/"):].partition("@")
            base = f"{target}-{next(self._local_ids):08x}"
            one_id, two_id = self._new_uniqueid(), self._new_uniqueid()
            one = PeerChannel(f"{base};1", one_id, one_id, context, exten, caller_num=num,
                              caller_name=name, partner=f"{base};2", device=target)
            two = PeerChannel(f"{base};2", two_id, one_id, context, exten, caller_num=num,
                              caller_name=name, partner=f"{base};1", device=target)
            made = [one, two]
        else:
            one = self._new_channel(target, request.get("Context") or "default",
                                    request.get("Exten") or "s", num, name)
            made = [one]
        one.application, one.data = request.get("Application"), request.get("Data")
        for assignment in all_values(request, "Variable"):
            var, _, value = assignment.partition("=")
            one.variables[var] = value
        for chan in made:
            self.channels[chan.name] = chan
            self.emit({"Event": "Newchannel", **chan.fields()})
        self.devices[target] = "INUSE"
        self.emit({"Event": "DeviceStateChange", "Device": target, "State": "INUSE"})
        return one

    def _action_redirect(self, session: Session, request: Request) -> None:
        name = request.get("Channel")
        if not name:
            error(session, request, "Channel not specified")
            return
        if not request.get("Exten"):
            error(session, request, "Exten not specified")
            return
        chan = self.channels.get(name)
        if chan is None:
            error(session, request, f"Channel does not exist: {name}")
            return
        chan.goto(request.get("Context"), request.get("Exten"),
                  int(request.get("Priority") or 1))
        reply(session, request, "Success", "Redirect successful")

    def _action_hangup(self, session: Session, request: Request) -> None:
        name = request.get("Channel")
        if not name:
            error(session, request, "No channel specified")
            return
        chan = self.channels.get(name)
        if chan is None:
            error(session, request, "No such channel")
            return
        reply(session, request, "Success", "Channel Hungup")
        cause = request.get("Cause") or "16"
        self.hangup(chan.name, int(cause) if cause.isdigit() else 16)

    def _action_playdtmf(self, session: Session, request: Request) -> None:
        # apps/app_senddtmf.c manager_play_dtmf
        chan = self.channels.get(request.get("Channel"))
        if chan is None:
            error(session, request, "Channel not found")
            return
        digit = request.get("Digit")
        if not digit:
            error(session, request, "No digit specified")
            return
        reply(session, request, "Success", "DTMF successfully queued")
        # the digit shows up on the other half of a Local pair, as received
        target = self.channels.get(chan.partner or "", chan)
        fields = target.fields()
        self.emit({"Event": "DTMFBegin", **fields, "Digit": digit[0], "Direction": "Received"})
        self.emit({"Event": "DTMFEnd", **fields, "Digit": digit[0],
                   "DurationMs": request.get("Duration") or 100, "Direction": "Received"})

    def _action_userevent(self, session: Session, request: Request) -> None:
        # main/manager.c action_userevent: every header but Action and
        # UserEvent goes into the event, ActionID included
        reply(session, request, "Success", "Event Sent")
        fields: dict[str, object] = {"Event": "UserEvent", "Privilege": "user,all",
                                     "UserEvent": request.get("UserEvent")}
        for key, value in request.pairs:
            if key.lower() not in ("action", "userevent"):
                fields[key] = value
        self.emit(fields)

    # -- CLI (main/manager.c action_command) ------------------------------

    def _action_command(self, session: Session, request: Request) -> None:
        cli = " ".join(request.get("Command").split())
        if not cli:
            error(session, request, "No command provided")
            return
        lines = self._cli(cli)
        if lines is None:
            words = cli.split()
            # main/cli.c: "No such command '%s' (type 'core show help %s' for
            # other possible commands)"; Asterisk names the words up to the
            # first one no command starts with; two words is what it named
            # in the captures, an approximation of its full command table
            hint = " ".join(words[:2])
            reply(session, request, "Error", "Command output follows",
                        ("Output", f"No such command '{cli}' (type 'core show help {hint}' "
                                   "for other possible commands)"))
            return
        reply(session, request, "Success", "Command output follows",
                    *[("Output", line) for line in lines])

    def _cli(self, cli: str) -> list[str] | None:
        if cli == "core show version":
            return ["Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on "
                    "2026-11-26 00:19:46 UTC"]
        if cli == "core show channels":
            head = (f"{'Channel':<64} {'Location':<32} {'State':<7} "
                    f"{'Application(Data)':<30}")
            rows = [f"{c.name[:64]:<64} {f'{c.exten}@{c.context}:{c.priority}'[:32]:<32} "
                    f"{STATE_DESC.get(c.state, 'Unknown')[:7]:<7} "
                    f"{f'{c.application}({c.data})'[:30]:<30}" for c in self.channels.values()]
            calls = self._calls()
            return [head, *rows, f"{len(self.channels)} active channels",
                    f"{calls} active call{'' if calls == 1 else 's'}",
                    f"{self.processed_calls} calls processed"]
        if cli == "dialplan reload":
            # pbx/pbx_config.c handle_cli_dialplan_reload: "Dialplan reloaded.\n"
            self.reloads.append("dialplan")
            return ["Dialplan reloaded."]
        return None
