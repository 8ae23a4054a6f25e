"""`ccf calls list`, `ccf calls show` and `ccf voicemail list`, in-process,
against a call store filled with real simulated calls
(runtime.sim.scenario.run_simulation with store_path)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from ccf_cli import ccf

from calls.world import OWNER_MESSAGE, RECORDING, compiled
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.sim.caller import Speak
from ccdsl.runtime.sim.scenario import run_simulation, simulation

LI = AgentSpec(id="li", skills={"general": 0}, answer_after_ms=3000)


def three_calls(folder: Path) -> str:
    """A call store in `folder`: sim-1 recorded, known caller C1, answered by li; sim-2
    recorded, unknown caller, nobody answers; sim-3 a message for zhang. Its path."""
    crm = folder / "crm"
    crm.mkdir()
    (crm / "customers.csv").write_text("id,phone,owner\nC1,+8613800000001,zhang\n",
                                       encoding="utf-8")
    path = str(folder / "calls.db")
    recording = compiled(RECORDING)
    run_simulation(recording, simulation(recording, caller="+8613800000001",
                                         at="2026-11-30 10:00", agents=(LI,)),
                   crm_folder=str(crm), store_path=path)
    run_simulation(recording, simulation(recording, caller="+8613900000000",
                                         at="2026-11-30 11:00"),
                   crm_folder=str(crm), store_path=path)
    message = compiled(OWNER_MESSAGE)
    run_simulation(message, simulation(message, caller="+8613800000001",
                                       at="2026-11-30 23:00", actions=(Speak(20_000),)),
                   crm_folder=str(crm), store_path=path)
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return Path(three_calls(tmp_path_factory.mktemp("calls")))


def listed(*args: str) -> list[dict]:
    result = ccf(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_calls_list_newest_first_with_the_recording(store):
    rows = listed("calls", "list", "--store", str(store))
    assert [r["call_id"] for r in rows] == ["sim-3", "sim-2", "sim-1"]
    first = rows[-1]
    assert (first["caller"], first["customer_id"], first["agent"]) == \
        ("+8613800000001", "C1", "li")
    assert os.path.basename(first["recording"]).startswith("sim-1-")
    table = ccf("calls", "list", "--store", str(store)).stdout
    assert table.splitlines()[0].split() == ["call", "started", "caller", "customer", "agent",
                                             "outcome", "length", "recording"]
    assert "sim-1" in table and "voicemail" in table


def test_calls_list_filters(store):
    assert [r["call_id"] for r in listed("calls", "list", "--store", str(store),
                                         "--customer", "C1")] == ["sim-3", "sim-1"]
    assert [r["call_id"] for r in listed("calls", "list", "--store", str(store),
                                         "--agent", "li")] == ["sim-1"]
    assert [r["call_id"] for r in listed("calls", "list", "--store", str(store),
                                         "--since", "2026-11-30 10:30+00:00")] == \
        ["sim-3", "sim-2"]
    assert [r["call_id"] for r in listed("calls", "list", "--store", str(store),
                                         "--limit", "1")] == ["sim-3"]
    # a date alone is its midnight, in the zone of the machine's clock
    assert len(listed("calls", "list", "--store", str(store), "--since", "2026-12-02")) == 0


def test_since_reads_spans_dates_and_times():
    from datetime import datetime, timedelta, timezone

    from ccdsl.runtime.operations.since import QueryError, parse_since

    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("3d", now) == now - timedelta(days=3)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("1w", now) == now - timedelta(weeks=1)
    assert parse_since("2026-11-29", now) == datetime(2026, 11, 29, tzinfo=now.tzinfo)
    assert parse_since("2026-11-29 10:00", now) == datetime(2026, 11, 29, 10,
                                                             tzinfo=now.tzinfo)
    assert parse_since("2026-11-29T10:00+00:00", now).utcoffset() == timedelta(0)
    with pytest.raises(QueryError, match="expected a span such as 2h"):
        parse_since("last week", now)
    # found by hypothesis: a span back before the year 1 was an internal error
    with pytest.raises(QueryError, match="reaches back before the year 1"):
        parse_since("110000w", now)


def test_a_since_too_far_back_is_a_usage_error(store):
    result = ccf("calls", "list", "--store", str(store), "--since", "110000w")
    assert result.exit_code == 2
    assert "--since '110000w' reaches back before the year 1" in result.stderr


def test_calls_show_has_events_path_recording_and_wrapup(store):
    result = ccf("calls", "show", "sim-1", "--store", str(store))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("Events:", "Path through the flow:", "Recordings:", "Wrap-up:"):
        assert heading in out
    assert "agent li answers after 3s" in out  # the trace renderer's words
    assert re.search(r"recording_line.ccf:\d+ +\| record call\n", out)  # the line quoted
    assert "CRM log_call(" in out and "automatic: true" in out
    assert "(not on this machine)" in out  # the simulator's recording folder is gone
    assert "agent li, customer C1" in out
    data = json.loads(ccf("calls", "show", "sim-1", "--store", str(store),
                          "--format", "json").stdout)
    assert data["call"]["call_id"] == "sim-1"
    assert [e["seq"] for e in data["events"]] == sorted(e["seq"] for e in data["events"])
    assert data["recordings"][0]["exists"] is False and data["recordings"][0]["agent"] == "li"
    assert [v["node"] for v in data["path"]] == ["on start", "queue service"]  # the wait too


def test_calls_show_notes_a_recording_on_disk(store, tmp_path):
    import sqlite3

    copy = tmp_path / "calls.db"
    copy.write_bytes(store.read_bytes())
    wav = tmp_path / "take.wav"
    wav.write_bytes(b"RIFF")
    raw = sqlite3.connect(copy)
    raw.execute("UPDATE recordings SET file = ? WHERE call_id = 'sim-1'", (str(wav),))
    raw.commit()
    raw.close()
    out = ccf("calls", "show", "sim-1", "--store", str(copy)).stdout
    assert f"{wav}  (on disk)" in out


def test_voicemail_list_for_an_agent(store):
    rows = listed("voicemail", "list", "--store", str(store))
    assert [r["call_id"] for r in rows] == ["sim-3"]
    assert (rows[0]["mailbox"], rows[0]["customer_id"], rows[0]["called_back"]) == \
        ("zhang", "C1", None)
    assert listed("voicemail", "list", "--store", str(store), "--for", "li") == []
    table = ccf("voicemail", "list", "--store", str(store), "--for", "zhang").stdout
    assert table.splitlines()[1].split()[:3] == ["sim-3", "2026-11-30T23:00:00+00:00",
                                                 "+8613800000001"]


def test_bad_input_is_a_message_and_a_non_zero_exit(store, tmp_path):
    unknown = ccf("calls", "show", "sim-99", "--store", str(store))
    assert unknown.exit_code == 2 and "no call 'sim-99'" in unknown.output
    missing = ccf("calls", "list", "--store", str(tmp_path / "none.db"))
    assert missing.exit_code == 2 and "there is no call store at" in missing.output
    assert not (tmp_path / "none.db").exists()
    since = ccf("voicemail", "list", "--store", str(store), "--since", "yesterday")
    assert since.exit_code == 2 and "--since 'yesterday'" in since.output
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite", encoding="utf-8")
    broken = ccf("calls", "list", "--store", str(junk))
    assert broken.exit_code == 2 and "cannot be read as a call store" in broken.output


def test_the_store_comes_from_the_config(store, tmp_path):
    config = tmp_path / "ccf.toml"
    config.write_text(f'[paths]\nstore = "{store}"\n', encoding="utf-8")
    rows = listed("calls", "list", "--config", str(config))
    assert len(rows) == 3


@pytest.mark.parametrize(("command", "sentence", "options"), [
    (("calls", "list"), "List the calls in the call store, newest first.",
     ["--store", "--config", "--customer", "--agent", "--since", "--limit", "--format"]),
    (("calls", "show"), "Show one call: its record, events, path through the flow, "
                        "recording and wrap-up.", ["--store", "--config", "--format"]),
    (("voicemail", "list"), "List the stored voicemail messages, newest first.",
     ["--for", "--since", "--store", "--format"]),
])
def test_each_command_explains_itself(command, sentence, options):
    result = ccf(*command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert sentence in text
    for option in options:
        assert option in text
