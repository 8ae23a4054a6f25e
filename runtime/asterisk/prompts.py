"""Recorded prompts: which of a flow's prompts are sound files, and which are there per language.

The lookup is `ccf serve`'s own (agi_media), so `ccf prompts check` sees what a call
would find (docs/asterisk.md "Prompts"). Reads files only; never talks to Asterisk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.core.channel import PLAYABLE

# the names the AGI channel accepts (agi_media._SOUND_NAME, _LANGUAGE)
_SOUND_NAME = names.SOUND_NAME  # the AGI channel's rule: the check and the server agree
_LANGUAGE = names.LANGUAGE_TAG
FAILING = ("missing", "unplayable", "invalid")


@dataclass(frozen=True)
class PromptCheck:
    """One variant of one prompt of a flow."""

    flow: str
    prompt: str
    language: str
    status: str  # present, missing, unplayable, invalid, dynamic, tts
    name: str | None = None  # the sound file's name, for file variants
    files: tuple[str, ...] = ()  # what was found, relative to the sounds folder

    @property
    def ok(self) -> bool:
        return self.status not in FAILING

    def to_json(self) -> dict:
        return {"flow": self.flow, "prompt": self.prompt, "language": self.language,
                "status": self.status, "name": self.name, "files": list(self.files)}


def check_flow(ir: dict, sounds_dir: str) -> list[PromptCheck]:
    """Every variant of every prompt the flow declares or uses, in the
    order of prompt names and then languages."""
    flow = ir["flow"]["name"]
    return [check_variant(flow, prompt, language, variant, sounds_dir)
            for prompt, language, variant in variants(ir)]


def variants(ir: dict) -> Iterator[tuple[str, str, dict]]:
    for prompt in sorted(ir.get("prompts") or {}):
        decl = ir["prompts"][prompt]
        for language in sorted(decl["variants"]):
            yield prompt, language, decl["variants"][language]


def check_variant(flow: str, prompt: str, language: str, variant: dict,
                  sounds_dir: str) -> PromptCheck:
    if variant["kind"] != "file":
        return PromptCheck(flow, prompt, language, "tts")
    text = variant["text"]
    if "lit" not in text:
        return PromptCheck(flow, prompt, language, "dynamic", name=_template(text))
    name = str(text["lit"])
    if not _SOUND_NAME.fullmatch(name) or len(name) > 200 or not _LANGUAGE.fullmatch(language):
        return PromptCheck(flow, prompt, language, "invalid", name=name)
    found = recorded_files(sounds_dir, language, name)
    playable = tuple(f for f in found if os.path.splitext(f)[1][1:] in PLAYABLE)
    if playable:
        return PromptCheck(flow, prompt, language, "present", name=name, files=playable)
    return PromptCheck(flow, prompt, language, "unplayable" if found else "missing",
                       name=name, files=found)


def recorded_files(sounds_dir: str, language: str, name: str) -> tuple[str, ...]:
    """The files the server would take for a prompt: in
    <sounds>/<language>/<dirs of name>/, named <last part of name>.<ext>.
    Paths relative to the sounds folder, sorted."""
    base = os.path.join(sounds_dir, language, *name.split("/"))
    folder, stem = os.path.split(base)
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return ()
    rel = os.path.relpath(folder, sounds_dir)
    return tuple(os.path.join(rel, entry) for entry in entries
                 if entry != stem and os.path.splitext(entry)[0] == stem
                 and os.path.isfile(os.path.join(folder, entry)))


def _template(text: dict) -> str:
    """`digits/${n}` for an interpolated name, to show what it depends on."""
    parts = []
    for part in text.get("interp", []):
        if "lit" in part:
            parts.append(str(part["lit"]))
        elif "var" in part:
            parts.append("${" + str(part["var"]) + "}")
        else:
            parts.append("${...}")
    return "".join(parts) or "${...}"
