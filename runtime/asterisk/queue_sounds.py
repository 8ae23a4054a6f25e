"""The queue messages' sound files `ccf deploy` puts in place, per language, for app_queue's
periodic-announce: text rendered by the TTS command, a recorded prompt copied.

Writes files under the sounds folder only; never talks to Asterisk, never deletes a file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from ccdsl.runtime.asterisk import in_queue, names, prompts
from ccdsl.runtime.asterisk.files_undo import temp_path
from ccdsl.runtime.asterisk.tts import TtsError, TtsRenderer


class QueueSoundError(Exception):
    """A message that cannot become a sound file: the deploy is refused."""


@dataclass(frozen=True)
class MessageSound:
    """One file of one queue message: `language` None is the file without
    a language, Asterisk's choice when the channel's language has none."""

    prompt: str  # the qualified prompt name
    language: str | None
    variant: str  # the prompt's language this file speaks
    kind: str  # tts | file
    text: str  # the text to speak, or the recorded prompt's name
    target: str  # the absolute path written, with its extension
    source: str = ""  # a recorded prompt: the file copied

    def describe(self) -> str:
        what = (f"text-to-speech ({self.variant})" if self.kind == "tts"
                else f"copy of {self.source}")
        return f"{self.target}  <- {self.prompt}: {what}"


def planned(flows: Mapping[str, dict], sounds_dir: str) -> list[MessageSound]:
    """Every file the flows' queue messages need, in path order. Asterisk
    looks up an absolute periodic-announce `<dir>/<name>` as
    `<dir>/<language>/<name>.<ext>`, then `<dir>/<name>.<ext>` (main/file.c
    fileexists_test, the old layout for absolute names): one file per
    language of the prompt, and one without a language speaking the flow's
    default (else its first) language, as a prompt falls back in a call."""
    found: dict[str, MessageSound] = {}
    for flow in sorted(flows):
        ir = flows[flow]
        default = ((ir.get("flow") or {}).get("languages") or [None])[0]
        for prompt in _message_prompts(ir):
            decl = (ir.get("prompts") or {}).get(prompt)
            if decl is None:
                raise QueueSoundError(f"flow {flow}: the queue message {prompt} is no "
                                      "declared prompt")
            variants = decl.get("variants") or {}
            base = in_queue.message_file(prompt, sounds_dir)
            fallback = default if default in variants else next(iter(sorted(variants)), None)
            picks = [(lang, lang) for lang in sorted(variants)]
            if fallback is not None:
                picks.append((None, fallback))
            for language, variant in picks:
                sound = _sound(flow, prompt, base, language, variant, variants[variant],
                               sounds_dir)
                same = found.get(sound.target)
                if same is not None and (same.kind, same.text) != (sound.kind, sound.text):
                    raise QueueSoundError(
                        f"the queue message {prompt} says different things in two flows "
                        f"({sound.target}); give one of the prompts another name")
                found[sound.target] = sound
    return [found[k] for k in sorted(found)]


def _message_prompts(ir: dict) -> list[str]:
    out: list[str] = []
    for decl in (ir.get("queues") or {}).values():
        out += in_queue.message_prompts(decl.get("options") or {})
    return list(dict.fromkeys(out))


def _sound(flow: str, prompt: str, base: str, language: str | None, variant: str,
           spec: dict, sounds_dir: str) -> MessageSound:
    if not names.LANGUAGE_TAG.fullmatch(variant):
        raise QueueSoundError(f"flow {flow}: prompt {prompt}: {variant!r} is not a language tag")
    text = spec.get("text") or {}
    if "lit" not in text:
        raise QueueSoundError(f"flow {flow}: the queue message {prompt} ({variant}) is built "
                              "at run time; app_queue plays one file to every caller, so its "
                              "text must be written out")
    value = str(text["lit"])
    head, stem = os.path.split(base)
    folder = os.path.join(head, language) if language else head
    if spec.get("kind") != "file":
        return MessageSound(prompt, language, variant, "tts", value,
                            os.path.join(folder, stem + ".wav"))
    check = prompts.check_variant(flow, prompt, variant, spec, sounds_dir)
    if check.status != "present":
        where = os.path.join(sounds_dir, variant, value)
        raise QueueSoundError(f"flow {flow}: the queue message {prompt} ({variant}) is the "
                              f"recorded prompt {value}, {check.status} in the sounds folder "
                              f"({where}.wav or another format Asterisk plays)")
    source = os.path.join(sounds_dir, check.files[0])
    ext = os.path.splitext(source)[1]
    return MessageSound(prompt, language, variant, "file", value,
                        os.path.join(folder, stem + ext), source)


async def put_in_place(sounds: list[MessageSound], renderer: TtsRenderer) -> list[str]:
    """Render or copy each file, each by an atomic rename (a caller never
    hears half a file). What was done, as lines."""
    done = []
    for sound in sounds:
        try:
            if sound.kind == "tts":
                source = await renderer.render(sound.text, sound.variant) + ".wav"
            else:
                source = sound.source
            os.makedirs(os.path.dirname(sound.target), exist_ok=True)
            tmp = temp_path(sound.target)
            shutil.copyfile(source, tmp)
            os.replace(tmp, sound.target)
        except TtsError as exc:
            raise QueueSoundError(f"the queue message {sound.prompt} ({sound.variant}): "
                                  f"{exc}") from None
        except OSError as exc:
            raise QueueSoundError(f"cannot write {sound.target}: {exc.strerror or exc}"
                                  ) from None
        done.append(sound.target)
    return done
