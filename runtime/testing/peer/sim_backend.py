"""The FastAGI test peer's simulated caller: each AGI command answered by running a SimChannel.

Does no protocol: framing, 510, 511, 520 and the HANGUP line are AgiCaller's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import wave
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import quote as url_quote

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.dial_options import TRANSFER_DIAL_VARIABLE
from ccdsl.runtime.core.channel import DialTarget, QueueRequest, QueueRing, Sound
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.core.events import Event, EventSink
from ccdsl.runtime.sim.channel import SimChannel
from ccdsl.runtime.testing.peer.agi_caller import (
    DEFAULT_TIMEOUT_S,
    FOREVER_MS,
    KNOWN_APPS,
    SAMPLES_PER_MS,
    AgiCaller,
    AgiCommand,
    Backend,
    CallerLine,
    number,
)
from ccdsl.runtime.testing.peer.app_options import (
    announcement,
    forced_caller_id,
    parse_options,
)
from ccdsl.runtime.testing.peer.app_queue import AppQueue
from ccdsl.runtime.testing.peer.sim_queues import exec_queue

AnsweredLeg = Callable[[str, str], Awaitable[None]]  # (call id, agent) -> the agent's leg ran
# (the caller's call id, the ring, the Queue()'s request) -> a member's ring
# (app_queue's AgentCalled, AgentRingNoAnswer) told to the flow straight, as
# ccf serve's AMI link would (AnswerHooks.ring) where no AMI double carries
# it; an awaitable returned is awaited before the queue goes on
QueueRings = Callable[[str, QueueRing, QueueRequest], Awaitable[None] | None]

# what res_agi cuts off the end of a recording a key ended
KEY_CUT_MS = 200

_DIALSTATUS = {"answered": "ANSWER", "no_answer": "NOANSWER", "busy": "BUSY",
               "unavailable": "CHANUNAVAIL", "failed": "CONGESTION"}


def agent_leg(host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT_S,
              caller_number: str = "", caller_name: str = "") -> AnsweredLeg:
    """What the dialplan's `ccf-answered` Gosub does on the agent's channel
    before it is bridged: `AGI(agi://HOST:PORT/ccf-answered?call=ID&agent=A)`,
    on a line where nothing happens, until the server closes it. `channel`:
    the agent's channel, which names the agent when A is empty (Queue()'s
    gosub gets the call id only)."""
    count = [0]

    async def run(call_id: str, agent: str, channel: str | None = None) -> None:
        count[0] += 1
        script = (f"{names.ANSWERED_SCRIPT}?call={url_quote(call_id, safe='')}"
                  f"&agent={url_quote(agent, safe='')}")
        channel = channel or f"PJSIP/{agent}-{count[0]:08x}"
        line = CallerLine(script=script, channel=channel, uniqueid=f"{call_id}-{count[0]}",
                          callerid=caller_number or None, calleridname=caller_name or None,
                          context=names.ANSWERED_SUB, extension="s", priority=1)
        backend = Backend(caller_number=caller_number, caller_name=caller_name,
                          channel=channel)
        backend.answered = True
        await AgiCaller(host, port, backend, line, timeout=timeout).run()

    run.takes_channel = True  # type: ignore[attr-defined]  # sim_queues passes the channel
    return run


class SimBackend(Backend):
    """A runtime.sim.SimChannel on the line: its scripted caller presses
    keys and hangs up, its SimCentre's agents answer, on its VirtualClock
    (shared with the server in-process, so time in the flow and at the
    peer agree). Each AGI command of the brief's op -> AGI table is played
    back as the SimChannel operation it stands for.

    `watch(sink)` wraps the server's event sink: `step_entered` reaches
    the simulated caller (`hang up in step S`), and `keys` (a key read
    ended) tells the peer that the next WAIT FOR DIGIT starts a new read,
    which is when the simulator lets an untimed press go."""

    def __init__(self, sim: SimChannel, *, sounds_dir: str = "",
                 agent_interface: str = "PJSIP/{extension}",
                 answered: AnsweredLeg | None = None, missing: frozenset[str] = frozenset(),
                 default_ring_ms: int = 20_000, rings: QueueRings | None = None,
                 app_queue: AppQueue | None = None) -> None:
        info = sim.info
        super().__init__(caller_number=info.caller_number, caller_name=info.caller_name or "",
                         channel=info.channel, language=info.language or "en")
        self.sim = sim
        self.clock = sim.clock
        self.sounds_dir = os.path.abspath(sounds_dir) if sounds_dir else ""
        self.answered_leg = answered
        self.rings = rings  # the flow told of each queue member's ring (no AMI), or None
        # app_queue at this peer: given (the AMI double's, shared with a test),
        # else made from the simulated centre at the first Queue()
        self.app_queue = app_queue
        self.agent_interface = agent_interface
        self.environment: dict[str, str] = {}  # the agi_ variables this line sent
        self.up_since: datetime | None = None  # when the caller's channel was answered
        self.missing = missing  # file names to answer as missing (result=-1 endpos=0)
        self.default_ring_ms = default_ring_ms
        self.queues = {names.queue_name(name): cfg for name, cfg in sim.centre.queues.items()}
        pattern = re.escape(agent_interface).replace(r"\{extension\}", "(?P<extension>[^,&]+)")
        self._interface = re.compile(pattern.replace(r"\{agent\}", "(?P<agent>[^,&/]+)"))
        self._listened = False  # this read of keys has let the caller's press go
        self.transferred: DialTarget | None = None  # a blind transfer done on close

    def header(self, writes: list[bytes]) -> list[bytes]:
        """Keep the agi_ variables sent: app_queue's AMI events name the
        caller's channel by them (its Uniqueid, context, extension, priority)."""
        for line in b"".join(writes).decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                self.environment[key] = value
        return writes

    def watch(self, sink: EventSink) -> PeerWatch:
        return PeerWatch(sink, self)

    def notify(self, event: Event) -> None:
        if event.kind == "step_entered":
            self.sim.notify_step(str(event.data.get("step", "")))
        elif event.kind == "keys":
            self._listened = False

    def gone(self) -> bool:
        sim = self.sim
        if sim.ended_by is None:
            hang = sim.caller.hangup_at()
            if hang is not None and hang <= self.clock.now():
                sim._end("caller")
        return sim.ended_by in ("caller", "flow")

    async def execute(self, cmd: AgiCommand) -> str | None:
        if cmd.verb != "WAIT FOR DIGIT":
            self._listened = False  # a prompt or anything else: the next wait starts a read
        try:
            return await super().execute(cmd)
        except CallHungUp:
            return "200 result=-1"

    # -- the line --------------------------------------------------------------

    async def do_answer(self, cmd: AgiCommand) -> str:
        await self.sim.answer()
        self._up()
        return "200 result=0"

    def _up(self) -> None:
        if not self.answered:
            self.answered = True
            self.up_since = self.clock.now()

    async def do_hangup(self, cmd: AgiCommand) -> str:
        if cmd.args and cmd.args[0] != self.channel:
            return "200 result=-1"
        await self.sim.hangup()
        return "200 result=1"

    async def closed(self) -> None:
        """The server ended the AGI: where the dialplan goes next. In the
        transfer context the call is handed over (a blind transfer)."""
        sim = self.sim
        if self.context == names.TRANSFER_CONTEXT and self.extension and sim.ended_by is None:
            target = self._extension_target(self.extension)
            self.transferred = target
            # the transfer context's Dial(device,,${CCF_TRANSFER_DIAL}) (dialplan.py)
            options = parse_options(self.variables.get(TRANSFER_DIAL_VARIABLE, ""))
            with contextlib.suppress(CallHungUp):
                await sim.transfer(target, mode="blind", ring_ms=self.default_ring_ms,
                                   **self._transfer_asks(options))

    # -- sounds and keys ----------------------------------------------------------

    def sound_of(self, path: str) -> Sound | None:
        """The Sound a STREAM FILE plays: text to speech when the TTS cache
        left a `<file>.json` beside it, a recorded prompt under the sounds
        folder (`<sounds>/<language>/<name>`), else one of Asterisk's own
        sounds by name. None: a file to answer as missing."""
        if path in self.missing:
            return None
        sidecar = path + ".json"
        if os.path.isabs(path) and os.path.exists(sidecar):
            with open(sidecar, encoding="utf-8") as handle:
                said = json.load(handle)
            return Sound("tts", str(said.get("text", "")), str(said.get("language", "")))
        if self.sounds_dir and path.startswith(self.sounds_dir + os.sep):
            language, _, name = path[len(self.sounds_dir) + 1:].partition(os.sep)
            return Sound("file", name.replace(os.sep, "/"), language)
        return Sound("file", path, "")

    async def do_stream_file(self, cmd: AgiCommand) -> str:
        if len(cmd.args) > 2:
            number(cmd.args[2])
        sound = self.sound_of(cmd.args[0])
        if sound is None:
            return "200 result=-1 endpos=0"
        start = self.clock.now()
        try:
            key = await self.sim.play([sound], interrupt_keys=cmd.args[1])
        except CallHungUp:
            return f"200 result=-1 endpos={self._samples_since(start)}"
        return f"200 result={ord(key) if key else 0} endpos={self._samples_since(start)}"

    async def do_get_option(self, cmd: AgiCommand) -> str:
        sound = self.sound_of(cmd.args[0])
        escape = cmd.args[1]
        start = self.clock.now()
        try:
            key = await self.sim.play([sound] if sound else [], interrupt_keys=escape)
            if key is None and len(cmd.args) > 2:
                await self.sim.caller.listen(self.clock.now())
                limit = number(cmd.args[2])
                key = self.sim._pass(FOREVER_MS if limit < 0 else limit, accept=escape.__contains__)
        except CallHungUp:
            return f"200 result=-1 endpos={self._samples_since(start)}"
        return f"200 result={ord(key) if key else 0} endpos={self._samples_since(start)}"

    async def do_wait_for_digit(self, cmd: AgiCommand) -> str:
        """One key, as the simulator reads keys: the first wait of a read lets
        the caller's next press go (caller.listen), later ones only take
        the keys of that press."""
        limit = number(cmd.args[0])
        sim = self.sim
        if not self._listened:
            self._listened = True
            await sim.caller.listen(self.clock.now())
        key = sim._pass(FOREVER_MS if limit < 0 else limit, accept=_any_key)
        if key is None:
            self._listened = False  # a timed-out wait ends the read
            return "200 result=0"
        return f"200 result={ord(key)}"

    async def do_get_data(self, cmd: AgiCommand) -> str:
        timeout = number(cmd.arg(1, "0")) or 5_000  # 0: the channel's digit timeout
        most = number(cmd.arg(2, "1024"))
        sound = self.sound_of(cmd.args[0]) if cmd.args[0] else None
        got = await self.sim.read_digits([sound] if sound else [], max_digits=max(most, 1),
                                         timeout_ms=timeout, inter_digit_ms=timeout,
                                         end_key="#")
        return f"200 result={got.keys}" + (" (timeout)" if got.timed_out else "")

    async def _say(self, kind: str, value: str) -> str:
        await self.sim.say(kind, value, self.language)
        return "200 result=0"

    async def do_say_digits(self, cmd: AgiCommand) -> str:
        number(cmd.args[0])  # res_agi reads a number first (sscanf %d)
        return await self._say("digits", cmd.args[0])

    async def do_say_number(self, cmd: AgiCommand) -> str:
        return await self._say("number", str(number(cmd.args[0])))

    async def do_say_alpha(self, cmd: AgiCommand) -> str:
        return await self._say("alpha", cmd.args[0])

    async def do_say_phonetic(self, cmd: AgiCommand) -> str:
        return await self._say("alpha", cmd.args[0])

    async def do_say_date(self, cmd: AgiCommand) -> str:
        return await self._say("date", self._moment(cmd.args[0]).date().isoformat())

    async def do_say_time(self, cmd: AgiCommand) -> str:
        moment = self._moment(cmd.args[0])
        return await self._say("time", f"{moment.hour:02d}:{moment.minute:02d}")

    async def do_say_datetime(self, cmd: AgiCommand) -> str:
        return await self.do_say_time(cmd)

    def _moment(self, epoch: str) -> datetime:
        return datetime.fromtimestamp(number(epoch), UTC).astimezone(self.clock.now().tzinfo)

    async def do_record_file(self, cmd: AgiCommand) -> str:
        """Voicemail: RECORD FILE <dir>/voicemail/<mailbox>/<id> ... <max ms>."""
        limit = number(cmd.args[3])
        mailbox = os.path.basename(os.path.dirname(cmd.args[0])) or "default"
        got = await self.sim.voicemail(mailbox, greeting=(),
                                       max_length_ms=FOREVER_MS if limit < 0 else limit)
        endpos = got.duration_ms * SAMPLES_PER_MS
        if self.sim.ended_by == "caller":
            reply = f"200 result=-1 (hangup) endpos={endpos}"
        elif limit >= 0 and got.duration_ms >= limit:
            reply = f"200 result=0 (timeout) endpos={endpos}"
        else:
            # res_agi rewinds a recording a key ended by 0.2 s (the key's own
            # tone) and truncates there (fastagi-record-silence-audio-dtmf.txt)
            endpos = max(0, endpos - KEY_CUT_MS * SAMPLES_PER_MS)
            reply = f"200 result={ord('#')} (dtmf) endpos={endpos}"
        # Asterisk writes the file however little was said: a caller who
        # said nothing leaves a WAV header and no audio (44 bytes)
        _write_wav(f"{cmd.args[0]}.{cmd.args[1]}", endpos)
        return reply

    def _samples_since(self, start: datetime) -> int:
        return round((self.clock.now() - start).total_seconds() * 1000) * SAMPLES_PER_MS

    # -- applications -------------------------------------------------------------

    async def do_exec(self, cmd: AgiCommand) -> str:
        app = cmd.args[0].lower()
        data = cmd.arg(1)
        if self.gone():
            return "200 result=0" if app in KNOWN_APPS else "200 result=-2"
        run = {"wait": self._wait, "musiconhold": self._music, "mixmonitor": self._record,
               "stopmixmonitor": self._stop_record, "dial": self._dial, "queue": self._queue,
               "playback": self._playback, "answer": self._answer_app,
               "hangup": self._hangup_app}.get(app)
        if run is None:
            return await super().do_exec(cmd)
        return await run(data)

    async def _answer_app(self, data: str) -> str:
        await self.sim.answer()
        self._up()
        return "200 result=0"

    async def _hangup_app(self, data: str) -> str:
        await self.sim.hangup()
        return "200 result=-1"

    async def _wait(self, data: str) -> str:
        await self.sim.wait(_ms(data.split(",")[0]))
        return "200 result=0"

    async def _music(self, data: str) -> str:
        music, _, seconds = data.partition(",")
        await self.sim.wait(_ms(seconds) if seconds else FOREVER_MS, music=music or None)
        return "200 result=0"

    async def _playback(self, data: str) -> str:
        files = data.split(",")[0].split("&")
        sounds = [s for s in (self.sound_of(f) for f in files if f) if s is not None]
        await self.sim.play(sounds)
        self.variables["PLAYBACKSTATUS"] = "SUCCESS" if len(sounds) == len(files) else "FAILED"
        return "200 result=0"

    async def _record(self, data: str) -> str:
        path = data.split(",")[0]
        await self.sim.start_recording(path[:-4] if path.endswith(".wav") else path)
        return "200 result=0"

    async def _stop_record(self, data: str) -> str:
        await self.sim.stop_recording()
        return "200 result=0"

    def _target(self, interface: str, agent: str | None = None) -> DialTarget:
        """Who a Dial interface rings: the agent the answered Gosub names,
        else the agent whose extension the interface template gives, else
        the number (`Local/<number>@...`, `PJSIP/<number>@trunk`)."""
        interface = interface.split("&")[0]
        match = self._interface.fullmatch(interface)
        groups = match.groupdict() if match else {}
        centre = self.sim.centre
        found = centre.agent(agent or groups.get("agent") or "")
        if found is not None:
            return DialTarget("agent", found.id, found.extension or groups.get("extension"))
        if groups.get("extension"):
            return self._extension_target(groups["extension"])
        return DialTarget("number", interface.split("/", 1)[-1].split("@", 1)[0])

    def _extension_target(self, extension: str) -> DialTarget:
        """An agent's extension, else a number (a blind transfer's SET EXTENSION)."""
        for candidate in self.sim.centre.agents():
            if candidate.extension == extension:
                return DialTarget("agent", candidate.id, extension)
        return DialTarget("number", extension)

    async def _dial(self, data: str) -> str:
        fields = app_args(data)
        ring_s = fields[1] if len(fields) > 1 and fields[1] else ""
        ring_ms = _ms(ring_s) if ring_s else self.default_ring_ms
        gosub = _gosub_args(fields[2] if len(fields) > 2 else "")
        for name in ("DIALSTATUS", "ANSWEREDTIME_MS", "DIALEDTIME_MS", "ANSWEREDTIME",
                     "DIALEDTIME"):
            self.variables.pop(name, None)
        agent = gosub[2] if gosub is not None and len(gosub) > 2 and gosub[2] != "-" else None
        target = self._target(fields[0], agent=agent)
        start = self.clock.now()
        if gosub is None:
            return await self._attended(target, ring_ms, start,
                                        fields[2] if len(fields) > 2 else "")
        fired: list[bool] = []

        async def on_answer(party: str) -> None:
            fired.append(True)
            await self._run_leg(gosub[1] if len(gosub) > 1 else "", party)

        # app_dial's f(): the connected line the called party is shown
        shown = forced_caller_id(parse_options(fields[2])) or self.variables.get("CALLERID(num)")
        try:
            outcome = await self.sim.dial(target, ring_ms=ring_ms, on_answer=on_answer,
                                          caller_id=shown)
        except CallHungUp:
            self._dial_times("ANSWER" if fired else "CANCEL", start, None)
            return "200 result=-1"
        conversation = outcome.conversation
        self._dial_times(_DIALSTATUS[outcome.status], start,
                         conversation.talk_ms if conversation else None)
        return "200 result=0"

    def _transfer_asks(self, options: dict[str, str | None]) -> dict:
        """What a transfer's Dial() options ask: the caller id f(x) shows the
        called party, the file A(x) plays to it (app_dial)."""
        file = announcement(options)
        sound = self.sound_of(file) if file else None
        return {"caller_id": forced_caller_id(options),
                "announce": [sound] if sound is not None else []}

    async def _attended(self, target: DialTarget, ring_ms: int, start: datetime,
                        options: str = "") -> str:
        """A Dial without the answered Gosub: the channel's attended transfer."""
        outcome = await self.sim.transfer(target, mode="attended", ring_ms=ring_ms,
                                          **self._transfer_asks(parse_options(options)))
        status = {"transferred": "ANSWER", "no_answer": "NOANSWER"}.get(outcome.status)
        if status is None:
            status = "BUSY" if " is busy" in outcome.reason else "CHANUNAVAIL"
        self._dial_times(status, start, 0 if status == "ANSWER" else None)
        # Asterisk 22.10.1: -1 once the talk ended, the caller's channel still up
        # (captures/fastagi-queue-key-attended-transfer.txt)
        return "200 result=-1" if status == "ANSWER" else "200 result=0"

    def _dial_times(self, status: str, start: datetime, talk_ms: int | None) -> None:
        """DIALSTATUS, and for a bridged call the times app_dial.c's
        end_bridge_callback sets on Asterisk 22: ANSWEREDTIME is the
        *caller's* channel's up time and DIALEDTIME its whole duration
        (ast_channel_get_up_time_ms / _get_duration_ms), not the talk with
        the party dialled (checked against a real Asterisk 22.10.1)."""
        self.variables["DIALSTATUS"] = status
        if talk_ms is None:
            return
        now = self.clock.now()
        lasted = round((now - self.sim.info.started).total_seconds() * 1000)
        up = round((now - self.up_since).total_seconds() * 1000) if self.up_since else 0
        for name, ms in (("DIALEDTIME", lasted), ("ANSWEREDTIME", up)):
            self.variables[f"{name}_MS"] = str(ms)
            self.variables[name] = str(ms // 1000)

    async def _run_leg(self, call_id: str, party: str) -> None:
        if self.answered_leg is not None:
            agent = party if self.sim.centre.agent(party) is not None else "-"
            await self.answered_leg(call_id, agent)

    async def _queue(self, data: str) -> str:
        """Queue(name,options,URL,announce,timeout,AGI,gosub,...) as app_queue
        runs it at this peer (peer/sim_queues.py)."""
        fields = app_args(data)
        gosub = next((g for g in map(_gosub_args, fields[5:]) if g is not None), None)
        return await exec_queue(self, fields, gosub)


class PeerWatch:
    """The server's event sink, seen by the peer (SimBackend.watch)."""

    def __init__(self, sink: EventSink, backend: SimBackend) -> None:
        self.sink = sink
        self.backend = backend

    def emit(self, event: Event) -> None:
        self.backend.notify(event)
        self.sink.emit(event)


def _any_key(key: str) -> bool:
    return True


def _ms(seconds: str) -> int:
    """Seconds as Asterisk applications take them ("12", "2.500") in ms."""
    try:
        return max(0, round(float(seconds) * 1000))
    except ValueError:
        return 0


def _gosub_args(option_text: str) -> list[str] | None:
    """The `ccf-answered` Gosub of Dial's U() option (`ccf-answered^ARG^ARG`)
    or of Queue's gosub argument (`ccf-answered,ARG`, which app_queue.c
    splits at its first comma), as [context, args...]; None when there is
    none."""
    match = re.search(re.escape(names.ANSWERED_SUB) + r"([\^,][^)]*)?", option_text)
    if match is None:
        return None
    return re.split(r"[\^,]", match.group(0))


def app_args(data: str) -> list[str]:
    """An application's arguments as Asterisk's ast_app_separate_args splits
    them (main/app.c): at commas outside double quotes and brackets; the
    quotes are removed and a backslash keeps the next character."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    escaped = False
    for ch in data:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif quoted:
            current.append(ch)
        elif ch in "([{":
            depth += 1
            current.append(ch)
        elif ch in ")]}" and depth:
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out


def _write_wav(path: str, samples: int) -> None:
    """The file RECORD FILE leaves: 8 kHz 16-bit mono, `samples` of
    silence. Only into a folder that exists (res_agi makes none)."""
    if not path.endswith(".wav") or not os.path.isdir(os.path.dirname(path) or "."):
        return
    with contextlib.suppress(OSError), wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(2 * samples))
