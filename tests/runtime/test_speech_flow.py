"""The normalised words reach the line: `say` passes them to the channel
and reports them; a `tts` text speaks its typed dates and times in the
call's language and leaves the author's own text alone."""

from __future__ import annotations

from datetime import UTC, datetime

from scripted_channel import compile_flow, run_flow

from ccdsl.runtime.core.channel import CallInfo

FLOW = """\
flow t:
  languages zh-CN, en-US

prompt eta(day):
  zh-CN tts "预计${day}送达，单号2026-12-03。"
  en-US tts "Expected on ${day}; ref 2026-12-03."

on start:
  answer
  say date 2026-12-03
  say time 09:00
  say money 99.5
  play tts "${2026-12-03} 09:00"
  play eta(2026-12-03)
  hangup
"""


def said(run):
    return [(e.data["kind"], e.data["value"], e.data["words"]) for e in run.of("said")]


def spoken(run):
    return [s["text"] for e in run.of("prompt_played") for s in e.data["sounds"]]


def test_zh_cn_says_words_and_keeps_the_value(tmp_path):
    run = run_flow(compile_flow(tmp_path, FLOW))
    assert said(run) == [("date", "2026-12-03", "2026年12月3日"),
                         ("time", "09:00", "上午9点"),
                         ("money", "99.50", "99元5角")]
    # the typed date is spoken; the text the author wrote (09:00, the
    # reference 2026-12-03) is not rewritten
    assert spoken(run) == ["2026年12月3日 09:00", "预计2026年12月3日送达，单号2026-12-03。"]


def test_en_us_says_words(tmp_path):
    program = compile_flow(tmp_path, FLOW)
    info = CallInfo("call-1", "+8613800000001", None, "4001",
                    datetime(2026, 11, 30, 2, 0, tzinfo=UTC), language="en-US")
    run = run_flow(program, info=info)
    assert said(run) == [("date", "2026-12-03", "December 3, 2026"),
                         ("time", "09:00", "9 AM"),
                         ("money", "99.50", "ninety-nine dollars and fifty cents")]
    assert spoken(run) == ["December 3, 2026 09:00",
                           "Expected on December 3, 2026; ref 2026-12-03."]
