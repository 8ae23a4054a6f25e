"""The per-prompt shortcuts of a `play` give what the long way gave: a literal file's
Sound made once per program and language, the system clock read without a method."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

from ccdsl.runtime.core.channel import Sound
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.ops.media import sounds_of


class _Frame:
    def __init__(self, **values) -> None:
        self.values = values

    def get_var(self, name: str):
        return self.values.get(name)


def _rt(memo: dict, language: str) -> SimpleNamespace:
    return SimpleNamespace(program=SimpleNamespace(memo=memo), language=language)


def _sounds(rt, source: dict, frame: _Frame | None = None):
    return asyncio.run(sounds_of(rt, source, frame or _Frame(), None))


def test_a_literal_file_sounds_in_each_calls_language():
    memo: dict = {}
    source = {"file": {"lit": "beep", "type": "text"}}
    first = _sounds(_rt(memo, "en-US"), source)
    again = _sounds(_rt(memo, "en-US"), source)
    chinese = _sounds(_rt(memo, "zh-CN"), source)
    assert first == ([Sound("file", "beep", "en-US")], None)
    assert again == first
    assert chinese == ([Sound("file", "beep", "zh-CN")], None)


def test_literals_equal_in_python_but_not_in_text_stay_apart():
    # True == 1 as dict keys: the literal's type keeps their files apart
    memo: dict = {}
    rt = _rt(memo, "en-US")
    number = _sounds(rt, {"file": {"lit": 1, "type": "number"}})
    flag = _sounds(rt, {"file": {"lit": True, "type": "bool"}})
    assert number[0][0].text == "1"
    assert flag[0][0].text != "1"


def test_a_file_named_by_a_variable_is_read_on_every_play():
    memo: dict = {}
    rt = _rt(memo, "en-US")
    source = {"file": {"var": "greeting"}}
    assert _sounds(rt, source, _Frame(greeting="morning"))[0] == [
        Sound("file", "morning", "en-US")]
    assert _sounds(rt, source, _Frame(greeting="evening"))[0] == [
        Sound("file", "evening", "en-US")]


def test_the_system_clock_reads_aware_utc_now():
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert before <= now <= after
