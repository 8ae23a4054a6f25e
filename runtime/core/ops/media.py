"""Ops that talk and listen: play, say, collect, menu, wait, recording and
voicemail, and how a play source becomes sounds in the call's language.
Must not import the routing engine or the CRM.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import lru_cache
from typing import Any

from ccdsl.limits import MAX_WAIT_MS, MAX_WAIT_WORDS
from ccdsl.runtime.core.call import CallRuntime, Frame, OpFn, eval_in, text_value
from ccdsl.runtime.core.channel import Digits, Sound
from ccdsl.runtime.core.errors import CallHungUp, FlowError
from ccdsl.runtime.core.evaluate import (
    NOT_LEAF,
    described,
    evaluate,
    is_number,
    kind_of,
    literal,
    truthy,
    value_of_leaf,
)
from ccdsl.runtime.core.ops.pausing import resume
from ccdsl.runtime.core.speech import spoken, spoken_value
from ccdsl.runtime.core.values import Duration, TimeOfDay, to_text

ALL_KEYS = "0123456789*#"


def sound_json(sounds: list[Sound]) -> list[dict]:
    return [{"kind": s.kind, "text": s.text, "language": s.language} for s in sounds]


def pick_variant(rt: CallRuntime, variants: dict) -> tuple[str, dict]:
    """The call's language, else the flow's default, else the prompt's
    first language (a module's prompt may not have the entry's)."""
    for language in (rt.language, rt.program.default_language):
        if language in variants:
            return language, variants[language]
    language = next(iter(variants))
    return language, variants[language]


async def sounds_of(rt: CallRuntime, source: dict | None, frame: Frame,
                    loc: dict | None) -> tuple[list[Sound], str | None]:
    """The sounds of a play source, and the prompt's name when it is one."""
    if source is None:
        return [], None
    if "prompt" in source:
        name = source["prompt"]
        memo = rt.program.memo
        sound = memo.get(("prompt", name, rt.language))
        if sound is not None and not source.get("args"):
            return [sound], name
        decl = rt.program.prompts.get(name)
        if decl is None:
            raise FlowError(f"no prompt named `{name}`", loc)
        local = dict.fromkeys(decl["params"])
        for param, expr in source.get("args", {}).items():
            local[param] = await evaluate(expr, frame, loc)
        language, variant = pick_variant(rt, decl["variants"])
        text_expr = variant["text"]
        if variant["kind"] == "tts":
            text = await tts_text(text_expr, Frame(rt, local), loc, language)
        else:
            text = to_text(await evaluate(text_expr, Frame(rt, local), loc))
        sound = Sound(variant["kind"], text, language)
        if not local and "lit" in text_expr:
            # a prompt without parameters whose text is a literal sounds the
            # same on every call in this language: made once per program
            memo[("prompt", name, rt.language)] = sound
        return [sound], name
    if "tts" in source:
        return [Sound("tts", await tts_text(source["tts"], frame, loc, rt.language),
                      rt.language)], None
    expr = source["file"]
    if "lit" in expr:
        # a file named by a literal is the same Sound on every call in this
        # language: made once per program, as a literal prompt's is
        key = ("file", expr["type"], expr["lit"], rt.language)
        sound = rt.program.memo.get(key)
        if sound is None:
            sound = rt.program.memo[key] = Sound("file", to_text(literal(expr)), rt.language)
        return [sound], None
    text = to_text(await evaluate(expr, frame, loc))
    return [Sound("file", text, rt.language)], None


def _spoken_text(value: Any, language: str) -> str:
    words = spoken_value(value, language)
    return to_text(value) if words is None else words


async def tts_text(expr: dict, frame: Frame, loc: dict | None, language: str) -> str:
    """The words of a `tts` text: a date, time or moment among its values
    (`${order.eta}`) spoken in the language (runtime/core/speech.py); the
    text the author wrote, and any other value, as it reads."""
    if "interp" in expr:
        return "".join([_spoken_text(await evaluate(part, frame, loc), language)
                        for part in expr["interp"]])
    return _spoken_text(await evaluate(expr, frame, loc), language)


async def option(rt: CallRuntime, options: dict, name: str, frame: Frame, loc: dict | None,
                 default: Any = None) -> Any:
    expr = options.get(name)
    if expr is None:
        return default
    if "every" in expr:
        expr = expr["every"]
    value = value_of_leaf(expr, frame)  # most options are literals
    return await evaluate(expr, frame, loc) if value is NOT_LEAF else value


def option_now(options: dict, name: str, frame: Frame, default: Any = None) -> Any:
    """What `option` gives when that needs no awaiting (the option left
    out, a literal, a variable: nearly every option of the hot ops), else
    NOT_LEAF. Why: a coroutine made and awaited per option cost more than
    reading a literal, and a menu reads three options per call."""
    expr = options.get(name)
    if expr is None:
        return default
    return value_of_leaf(expr["every"] if "every" in expr else expr, frame)


def ms_of(value: Any, what: str, loc: dict | None, *, longest: int | None = MAX_WAIT_MS
          ) -> int | None:
    """A duration option's milliseconds (negative as 0); over `longest` (None: no bound;
    MAX_WAIT_WORDS says the default), a flow error: the phone system could not wait that long."""
    if value is None:
        return None
    if not isinstance(value, Duration):
        raise FlowError(f"{what} must be a duration, not {kind_of(value)}", loc)
    if longest is not None and value.ms > longest:
        raise FlowError(f"{what} of {value} is longer than a call can wait "
                        f"(at most {MAX_WAIT_WORDS})", loc)
    return max(value.ms, 0)


def count_of(value: Any, what: str, loc: dict | None) -> int:
    if not is_number(value) or value < 0:
        raise FlowError(f"{what} must be a number of at least 0, not {to_text(value)!r}", loc)
    return int(value)


def _line_entries(rt: CallRuntime) -> list | tuple:
    """The line's own log (a ChannelLog, when it keeps one)."""
    return getattr(getattr(rt.channel, "log", None), "entries", ())


def line_mark(rt: CallRuntime) -> int:
    """Where the line's own log ends now."""
    return len(_line_entries(rt))


def emit_played(rt: CallRuntime, sounds: list[Sound], prompt: str | None, started: dt.datetime,
                interrupted: str | None, loc: dict | None, *, timed: bool = True,
                mark: int | None = None) -> None:
    """A prompt_played event, stamped when the playback started; `ms` is
    how long it played (left out when the channel played it together with
    something else, a menu's wait for keys or a voicemail's message).
    With `mark` (line_mark before the playback), each sound the line
    skipped for want of its file follows as a log line naming it."""
    data: dict[str, Any] = {"sounds": sound_json(sounds), "prompt": prompt,
                            "interrupted_by": interrupted}
    if timed:
        data["ms"] = max(0, round((rt.services.clock.now() - started).total_seconds() * 1000))
    rt.emit("prompt_played", data, loc, at=started)
    if mark is not None:
        # the line notes `sound_missing` (Asterisk answered STREAM FILE with
        # -1; the simulator's sounds folder lacks it) and goes on; the trace
        # says so as it says the simulator's other problems, in a log line
        for kind, skipped in _line_entries(rt)[mark:]:
            if kind == "sound_missing":
                language = f" [{skipped['language']}]" if skipped.get("language") else ""
                rt.emit("log", {"message": f"sound file {skipped.get('text')}{language} is "
                                           "missing: skipped"}, loc, at=started)


async def play_sounds(rt: CallRuntime, sounds: list[Sound], prompt: str | None,
                      barge_in: bool, loc: dict | None) -> str | None:
    """Play, and report it as prompt_played (also when the caller hangs up
    in the middle: they heard the start)."""
    interrupted: str | None = None
    started = rt.services.clock.now()
    mark = line_mark(rt)
    try:
        interrupted = await rt.line().play(sounds, interrupt_keys=ALL_KEYS if barge_in else "")
        return interrupted
    except CallHungUp:
        interrupted = "hangup"
        raise
    finally:
        emit_played(rt, sounds, prompt, started, interrupted, loc, mark=mark)


def emit_cut_off(rt: CallRuntime, sounds: list[Sound], prompt: str | None,
                 started: dt.datetime, loc: dict | None, mark: int) -> None:
    """The caller hung up while the channel played a prompt together with
    something else (a menu's or collect's wait for keys): a prompt_played
    as a `play` cut off leaves one, `interrupted_by: "hangup"` and `ms`
    heard, when the line's own log shows the hang-up cut a sound; heard
    whole (untimed, as usual) when it came in the wait after it. A line
    that keeps no log cannot tell: the prompt counts as cut off."""
    entries = _line_entries(rt)
    heard = [d for kind, d in entries[mark:] if kind == "heard"]
    if entries and heard and not any(d.get("interrupted_by") == "hangup" for d in heard):
        emit_played(rt, sounds, prompt, started, None, loc, timed=False, mark=mark)
        return
    if entries:
        data: dict[str, Any] = {"sounds": sound_json(sounds), "prompt": prompt,
                                "interrupted_by": "hangup",
                                "ms": sum(int(d.get("ms") or 0) for d in heard)}
        rt.emit("prompt_played", data, loc, at=started)
        return
    emit_played(rt, sounds, prompt, started, "hangup", loc, mark=mark)


async def read_keys(rt: CallRuntime, prompt: list[Sound], prompt_name: str | None,
                    loc: dict | None, **how: Any) -> Digits:
    """channel.read_digits with the prompt reported: prompt_played after the
    keys (untimed), or, when the caller hangs up, what they heard of it."""
    started = rt.services.clock.now()
    mark = line_mark(rt)
    try:
        got: Digits = await rt.line().read_digits(prompt, **how)
    except CallHungUp:
        if prompt:
            emit_cut_off(rt, prompt, prompt_name, started, loc, mark)
        raise
    if prompt:
        emit_played(rt, prompt, prompt_name, started, None, loc, timed=False, mark=mark)
    return got


async def op_play(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc = op["loc"]
    sounds, prompt = await sounds_of(rt, op["source"], frame, loc)
    barge_in = option_now(op["options"], "barge_in", frame, True)
    if barge_in is NOT_LEAF:
        barge_in = await option(rt, op["options"], "barge_in", frame, loc, True)
    await play_sounds(rt, sounds, prompt, truthy(barge_in, loc), loc)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def say_text(kind: str, value: Any, currency: str | None, loc: dict | None) -> str:
    """A value as the text channel.say speaks (an ISO date for dates)."""
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return value  # a CRM that keeps dates as text
    elif kind == "time":
        if isinstance(value, dt.datetime):
            return f"{value.hour:02d}:{value.minute:02d}"
        if isinstance(value, TimeOfDay):
            return str(value)
        if isinstance(value, str) and _HH_MM.fullmatch(value):
            return value
    elif kind == "money":
        if is_number(value):
            return f"{value:.2f}"
    elif kind == "number":
        if is_number(value):
            return to_text(value)
    elif kind == "digits":
        text = to_text(value)
        if is_number(value) or text.replace("+", "").replace("*", "").replace("#", "").isdigit():
            return text
    elif kind == "alpha":
        if isinstance(value, str):
            return value
    raise FlowError(f"`say {kind}` cannot say {described(value)}", loc)


async def op_say(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc = op["loc"]
    value = await eval_in(rt, op["value"], frame, op)
    if value is None:
        # null-safe like a field: an order without an eta says nothing
        rt.emit("log", {"message": f"say {op['kind']}: nothing to say (the value is null)"}, loc)
        return
    currency = await option(rt, op["options"], "currency", frame, loc)
    text = say_text(op["kind"], value, currency, loc)
    words = spoken(op["kind"], text, rt.language,
                   None if currency is None else to_text(currency))
    started = rt.services.clock.now()
    try:
        await rt.line().say(op["kind"], text, rt.language, words=words)
    finally:
        data = {"kind": op["kind"], "value": text, "language": rt.language, "words": words}
        if currency is not None:
            data["currency"] = to_text(currency)
        rt.emit("said", data, loc, at=started)  # like a prompt: when it began


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


async def op_collect(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc, options = op["loc"], op["options"]
    digits = options["digits"]
    low = count_of(await evaluate(digits["min"], frame, loc), "the least digits", loc)
    high = count_of(await evaluate(digits["max"], frame, loc), "the most digits", loc)
    # each option read as `option` would, in the same order; awaited only
    # when it is an expression (see option_now)
    end = option_now(options, "end", frame)
    if end is NOT_LEAF:
        end = await option(rt, options, "end", frame, loc)
    timeout = option_now(options, "timeout", frame)
    if timeout is NOT_LEAF:
        timeout = await option(rt, options, "timeout", frame, loc)
    timeout = ms_of(timeout, "timeout", loc)
    inter_digit = option_now(options, "inter_digit", frame)
    if inter_digit is NOT_LEAF:
        inter_digit = await option(rt, options, "inter_digit", frame, loc)
    inter_digit = ms_of(inter_digit, "inter_digit", loc)
    retries = option_now(options, "retries", frame, 0)
    if retries is NOT_LEAF:
        retries = await option(rt, options, "retries", frame, loc, 0)
    retries = count_of(retries, "retries", loc)
    barge_in = option_now(options, "barge_in", frame, True)
    if barge_in is NOT_LEAF:
        barge_in = await option(rt, options, "barge_in", frame, loc, True)
    barge_in = truthy(barge_in, loc)
    pattern_text = option_now(options, "pattern", frame)
    if pattern_text is NOT_LEAF:
        pattern_text = await option(rt, options, "pattern", frame, loc)
    try:
        pattern = None if pattern_text is None else _pattern(to_text(pattern_text))
    except re.error as err:
        raise FlowError(f"the pattern {pattern_text!r} is not a regular expression: {err}",
                        loc) from err
    prompt, prompt_name = await sounds_of(rt, options.get("prompt"), frame, loc)
    value: str | None = None
    attempts = 0
    for attempt in range(1, retries + 2):
        attempts = attempt
        got = await read_keys(
            rt, prompt, prompt_name, loc, max_digits=max(high, 1), timeout_ms=timeout or 0,
            inter_digit_ms=inter_digit or 0, end_key=to_text(end) if end else None,
            interruptible=barge_in)
        rt.emit("keys", {"keys": got.keys, "timed_out": got.timed_out, "purpose": "collect",
                         "attempt": attempt}, loc)
        keys = got.keys
        if low <= len(keys) <= high and (pattern is None or pattern.fullmatch(keys)):
            value = keys
            break
        if keys and options.get("invalid_prompt") is not None:
            sounds, name = await sounds_of(rt, options["invalid_prompt"], frame, loc)
            await play_sounds(rt, sounds, name, barge_in, loc)
    frame.set_var(op["name"], value)
    rt.emit("collected", {"name": op["name"], "value": value, "attempts": attempts}, loc)


async def op_menu(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc, options = op["loc"], op["options"]
    retries = option_now(options, "retries", frame, 3)
    if retries is NOT_LEAF:
        retries = await option(rt, options, "retries", frame, loc, 3)
    retries = count_of(retries, "retries", loc)
    timeout = option_now(options, "timeout", frame)
    if timeout is NOT_LEAF:
        timeout = await option(rt, options, "timeout", frame, loc)
    timeout = ms_of(timeout, "timeout", loc) or 0
    barge_in = option_now(options, "barge_in", frame, True)
    if barge_in is NOT_LEAF:
        barge_in = await option(rt, options, "barge_in", frame, loc, True)
    barge_in = truthy(barge_in, loc)
    for attempt in range(1, retries + 2):
        prompt, prompt_name = await sounds_of(rt, options.get("prompt"), frame, loc)
        got = await read_keys(rt, prompt, prompt_name, loc, max_digits=1, timeout_ms=timeout,
                              inter_digit_ms=timeout, end_key=None, interruptible=barge_in)
        rt.emit("keys", {"keys": got.keys, "timed_out": got.timed_out, "purpose": "menu",
                         "attempt": attempt}, loc)
        key = got.keys[:1]
        arm = op["keys"].get(key) if key else None
        if arm is not None:
            rt.emit("menu_choice", {"menu": loc, "key": key, "attempt": attempt}, arm["loc"])
            await rt.run_body(arm["body"], frame)
            return
        choice, body = ("invalid", op["on_invalid"]) if key else ("timeout", op["on_timeout"])
        rt.emit("menu_choice", {"menu": loc, "key": choice, "pressed": key or None,
                                "attempt": attempt}, loc)
        if body is not None:
            await rt.run_body(body, frame)
    rt.emit("menu_choice", {"menu": loc, "key": "exhausted", "attempt": retries + 1}, loc)
    if op.get("on_exhausted") is not None:
        await rt.run_body(op["on_exhausted"], frame)


async def op_wait(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc = op["loc"]
    ms = ms_of(await eval_in(rt, op["duration"], frame, op), "the wait", loc) or 0
    music = await option(rt, op["options"], "music", frame, loc)
    await rt.line().wait(ms, music=None if music is None else to_text(music))
    rt.emit("log", {"message": f"waited {Duration(ms)}"}, loc)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# the audio formats a recording may have: those Asterisk's MixMonitor writes
# (the simulator and the AGI channel agree); anything else records as wav
RECORDING_FORMATS = frozenset({"wav", "gsm", "wav49", "ulaw", "alaw", "sln", "g722"})


def recording_path(rt: CallRuntime, audio_format: Any) -> str:
    """`recordings/<call id>-<UTC time>.<format>`: built from the call id
    and the clock only, never from text a caller could influence."""
    call_id = _UNSAFE.sub("_", rt.call_id).strip("._") or "call"
    stamp = rt.services.clock.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    fmt = to_text(audio_format).lower()
    fmt = fmt if fmt in RECORDING_FORMATS else "wav"
    return os.path.join(rt.services.config.recordings_dir, f"{call_id}-{stamp}.{fmt}")


async def op_record_start(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc = op["loc"]
    if rt.recording is not None:
        # already recording: one file per recording stretch; a paused one resumes
        await resume(rt, loc)
        return
    options = op["options"]
    file_format = option_now(options, "format", frame, "wav")
    if file_format is NOT_LEAF:
        file_format = await option(rt, options, "format", frame, loc, "wav")
    path = recording_path(rt, file_format)
    beep = option_now(options, "beep", frame, False)
    if beep is NOT_LEAF:
        beep = await option(rt, options, "beep", frame, loc, False)
    if truthy(beep, loc):
        await play_sounds(rt, [Sound("file", "beep", rt.language)], None, False, loc)
    await rt.line().start_recording(path)
    rt.recording = path
    rt.recordings.append(path)
    rt.emit("recording_started", {"file": path}, loc)


async def op_record_stop(rt: CallRuntime, op: dict, frame: Frame) -> None:
    if rt.recording is None:
        return
    path, rt.recording = rt.recording, None
    rt.paused_at = None
    await rt.line().stop_recording()
    rt.emit("recording_stopped", {"file": path}, op["loc"])


async def op_voicemail(rt: CallRuntime, op: dict, frame: Frame) -> None:
    loc, options = op["loc"], op["options"]
    mailbox = text_value(await eval_in(rt, op["target"], frame, op), "a voicemail box", loc)
    greeting, greeting_name = await sounds_of(rt, options.get("greeting"), frame, loc)
    if truthy(await option(rt, options, "beep", frame, loc, True), loc):
        greeting = [*greeting, Sound("file", "beep", rt.language)]
    max_ms = ms_of(await option(rt, options, "max_length", frame, loc), "max_length", loc)
    started = rt.services.clock.now()
    mark = line_mark(rt)
    interrupted: str | None = None
    rt.voicemail_stored = False  # until this one stores a message
    try:
        outcome = await rt.line().voicemail(
            mailbox, greeting=greeting, max_length_ms=max_ms if max_ms is not None else 180_000)
    except CallHungUp:
        interrupted = "hangup"  # before the message began: the greeting was cut
        raise
    finally:
        # the greeting is a prompt like any other; the channel plays it and
        # records the message in one go, so its own length is not known
        if greeting:
            emit_played(rt, greeting, greeting_name, started, interrupted, loc, timed=False,
                        mark=mark)
    rt.voicemail_stored = outcome.stored  # `call.voicemail_stored` tells the flow
    if outcome.stored:
        rt.voicemail = outcome.mailbox or mailbox
    rt.emit("voicemail", {"mailbox": outcome.mailbox or mailbox, "stored": outcome.stored,
                          "file": outcome.file, "duration_ms": outcome.duration_ms}, loc)


OPS: dict[str, OpFn] = {
    "play": op_play,
    "say": op_say,
    "collect": op_collect,
    "menu": op_menu,
    "wait": op_wait,
    "record_start": op_record_start,
    "record_stop": op_record_stop,
    "voicemail": op_voicemail,
}
