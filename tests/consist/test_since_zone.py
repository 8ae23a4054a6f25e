"""`--since` without a zone is read in the centre's zone the call store was made with, as
`ccf report --from` reads its dates (docs/store.md "Times"), not in this machine's."""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

import pytest
from ccf_cli import ccf

FLOW = """\
flow early:
  languages en-US

hours office tz "Asia/Shanghai":
  mon-sun 00:00-24:00

prompt welcome:
  en-US tts "Welcome."

on start:
  answer
  play welcome
  hangup
"""


@pytest.fixture
def utc_machine(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(tmp_path: Path, utc_machine) -> Path:
    """A store of the centre in Asia/Shanghai holding one call at 07:00 there, on
    2026-11-30 (23:00 UTC the day before)."""
    flow = tmp_path / "early.ccf"
    flow.write_text(textwrap.dedent(FLOW), encoding="utf-8")
    path = tmp_path / "calls.db"
    result = ccf("simulate", str(flow), "--at", "2026-11-30 07:00 Asia/Shanghai",
                 "--store", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_calls_list_since_a_date_is_the_centres_midnight(store):
    result = ccf("calls", "list", "--store", str(store), "--since", "2026-11-30")
    assert result.exit_code == 0, result.output
    assert "2026-11-30T07:00:00+08:00" in result.output
    result = ccf("calls", "list", "--store", str(store), "--since", "2026-11-30 07:01")
    assert result.exit_code == 0, result.output
    assert "no calls" in result.output


def test_since_with_its_own_zone_is_that_instant(store):
    result = ccf("calls", "list", "--store", str(store), "--since", "2026-11-30 00:00 UTC")
    assert "no calls" in result.output
    result = ccf("calls", "list", "--store", str(store), "--since", "2026-11-29T22:59Z")
    assert "2026-11-30T07:00:00+08:00" in result.output


def test_graph_traffic_since_a_date_counts_the_call(store, tmp_path):
    flow = str(tmp_path / "early.ccf")
    result = ccf("graph", flow, "--store", str(store), "--since", "2026-11-30")
    assert result.exit_code == 0, result.output
    assert "early.ccf:10\\n1 call" in result.output
    result = ccf("graph", flow, "--store", str(store), "--since", "2026-11-30 07:01")
    assert "early.ccf:10\\n0 calls" in result.output


def test_a_bad_since_is_a_usage_error(store):
    result = ccf("calls", "list", "--store", str(store), "--since", "yesterday-ish")
    assert result.exit_code == 2
    assert "--since 'yesterday-ish'" in result.output


def test_the_help_says_whose_zone(utc_machine):
    result = ccf("calls", "list", "--help")
    assert "without a zone, the centre's" in re.sub(r"[│\s]+", " ", result.output)


# every command with a --since reads it with one parser: the same texts taken and the same
# refused, each refusal a usage error naming the text
SINCE_TEXTS = {"2h": 0, "3d": 0, "1w": 0, " 30m ": 0, "2026-11-30": 0, "2026-11-30 07:01": 0,
               "2026-11-30 00:00 UTC": 0, "2026-11-29T22:59Z": 0, "yesterday": 2, "2x": 2,
               "110000w": 2, "2026-13-01": 2, "": 2, "1.5h": 2}


def test_every_since_takes_and_refuses_the_same_texts(store, tmp_path):
    flow = str(tmp_path / "early.ccf")
    commands = {"calls list": ["calls", "list", "--store", str(store)],
                "voicemail list": ["voicemail", "list", "--store", str(store)],
                "graph": ["graph", flow, "--store", str(store)]}
    for text, status in SINCE_TEXTS.items():
        refusals = set()
        for name, argv in commands.items():
            result = ccf(*argv, "--since", text)
            assert result.exit_code == status, (name, text, result.output)
            assert "Traceback" not in result.output
            if status:
                error = result.output.strip().splitlines()[-1]
                assert f"--since {text!r}" in error, (name, error)
                refusals.add(error)
        assert len(refusals) <= 1, refusals  # one wording whichever command refused it
