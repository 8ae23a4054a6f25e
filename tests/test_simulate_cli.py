"""`ccf simulate`, called in-process: the trace people read, the JSON
events tools read, interactive key presses, the CRM and agents a call
meets, and the exit codes for bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from ccf_cli import ccf

ROOT = Path(__file__).resolve().parent.parent
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"
DEMO = ["--caller", "+8613900000000", "--at", "2026-11-30 10:00 Asia/Shanghai",
        "--press", "1 20261128# 0 5"]


SMALL = """flow small:
  languages en-US

prompt welcome:
  en-US tts "Welcome to the small line."

queue service skills [general] max_wait 60s

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  name = customer.name ?? "stranger"
  play tts "Hello ${name}."
  menu retries 1 timeout 5s:
    prompt welcome
    1 -> queue service
    timeout, invalid -> play tts "Sorry."
  hangup
"""




@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.ccf"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_help_names_every_option() -> None:
    result = ccf("simulate", "--help")
    assert result.exit_code == 0
    for option in ("--caller", "--at", "--press", "--crm", "--agents", "--interactive",
                   "--format"):
        assert option in result.output
    assert "Run one simulated call" in result.output


def test_the_demo_call_reads_as_a_trace() -> None:
    result = ccf("simulate", str(HOTLINE), *DEMO)
    assert result.exit_code == 0, result.output
    out = result.stdout
    # what the caller hears (the TTS text), keys, the CRM, routing, the agent, the end
    assert 'caller presses "1" for menu' in out
    assert 'caller presses "20261128" for collect' in out
    assert 'CRM find(type: "order", number: "20261128") -> order O-20261128' in out
    assert "plays orders.status_shipped: \"您的订单已发货" in out
    assert "routing to_service: skip (no account owner" in out
    assert re.search(r"agent \w+ answers after", out)
    assert "call ended: hangup" in out
    # set-up facts go to standard error, so the trace stays clean
    assert "agents: 4 from" in result.stderr
    assert "order record(s) from" in result.stderr


def test_every_line_has_its_time_and_ccf_line() -> None:
    out = ccf("simulate", str(HOTLINE), *DEMO).stdout
    lines = out.splitlines()
    assert lines
    for line in lines:
        assert re.match(r"^\+\d\d:\d\d\.\d{3}  ", line), line
    located = [line for line in lines if ".ccf:" in line]
    assert any(re.search(r"examples/iws/hotline\.ccf:\d+ ", line) for line in located)
    assert any(re.search(r"examples/iws/orders\.ccf:\d+ ", line) for line in located)


def test_json_is_one_event_per_line() -> None:
    result = ccf("simulate", str(HOTLINE), *DEMO, "--format", "json")
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["kind"] == "call_started"
    assert events[-1]["kind"] == "call_ended"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert all({"at", "offset_ms", "kind", "loc", "data"} <= set(e) for e in events)
    played = [e for e in events if e["kind"] == "prompt_played"]
    assert any(e["data"]["prompt"] == "orders.status_shipped" for e in played)
    assert events[-1]["offset_ms"] > 0


def test_the_same_call_gives_the_same_trace() -> None:
    def shape(out: str) -> list[str]:
        # CRM timings are real milliseconds; everything else is virtual
        return [re.sub(r" \([\d.]+ ms\)", "", line) for line in out.splitlines()]

    first = ccf("simulate", str(HOTLINE), *DEMO).stdout
    assert shape(first) == shape(ccf("simulate", str(HOTLINE), *DEMO).stdout)


def test_interactive_asks_for_keys_after_each_prompt() -> None:
    result = ccf("simulate", str(HOTLINE), "--at", "2026-11-30 10:00", "--interactive",
                 input="1\n20261128#\n\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("keys> ") >= 3
    assert "caller hears: \"请输入订单号" in result.stderr
    assert 'caller presses "20261128" for collect' in result.stdout
    # the empty line is silence: the menu times out
    assert "menu: timeout" in result.stdout
    # end of input hangs up
    assert "hang-up by caller" in result.stdout


def test_interactive_caller_can_leave_a_voicemail() -> None:
    # after hours the hotline takes a message: the person at the keyboard is asked
    # after the beep, and speak:20s (offered at every question) leaves one
    result = ccf("simulate", str(HOTLINE), "--at", "2026-11-30 22:00", "--interactive",
                 input="speak:20s\n")
    assert result.exit_code == 0, result.output
    assert "caller may leave a message after the beep: speak:20s talks for 20 s" \
        in result.stderr
    assert "voicemail for service: stored, 20s" in result.stdout


def test_interactive_caller_who_says_nothing_leaves_no_message() -> None:
    result = ccf("simulate", str(HOTLINE), "--at", "2026-11-30 22:00", "--interactive",
                 input="\n")
    assert result.exit_code == 0, result.output
    assert "voicemail for service: not stored" in result.stdout


def test_a_refused_line_is_echoed_with_its_control_characters_escaped(small: Path) -> None:
    # a pasted colour sequence: the error quotes it, the terminal does not act on it
    result = ccf("simulate", str(small), "--interactive", input="\x1b[31m1\n")
    assert "error: `\\x1b[31m1` is not something a caller can do" in result.stderr
    assert "\x1b" not in result.stderr
    pressed = ccf("simulate", str(small), "--press", "\x1b[2J")
    assert pressed.exit_code == 2
    assert "\\x1b[2J" in pressed.stderr and "\x1b" not in pressed.stderr


def test_crm_db_is_used_on_a_copy(small: Path, tmp_path: Path) -> None:
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM

    db = tmp_path / "crm.db"
    crm = SqliteCRM(db)
    crm.upsert("customer", [{"id": "C7", "name": "Ada", "phone": "+8613800000007"}])
    crm.close_now()
    before = db.read_bytes()
    result = ccf("simulate", str(small), "--caller", "+8613800000007", "--crm", str(db),
                 "--press", "2")
    assert result.exit_code == 0, result.output
    assert '"Hello Ada."' in result.stdout
    assert "CRM log_call" not in result.stdout  # the small flow logs nothing
    assert db.read_bytes() == before


def test_crm_db_copy_sees_commits_still_in_another_process_wal(small: Path,
                                                              tmp_path: Path) -> None:
    import sqlite3

    from ccdsl.runtime.core.crm.sqlite import SqliteCRM

    db = tmp_path / "crm.db"
    crm = SqliteCRM(db)
    crm.upsert("customer", [{"id": "C1", "name": "Ada", "phone": "+8613800000001"}])
    crm.close_now()
    # a live CRM user: WAL mode, no checkpoint, its connection still open
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with writer:
        writer.execute("insert into customer (id, name, phone) "
                       "values ('C8', 'Grace', '+8613800000008')")
    try:
        assert (tmp_path / "crm.db-wal").stat().st_size > 0  # the row is in the WAL only
        before = db.read_bytes()
        result = ccf("simulate", str(small), "--caller", "+8613800000008", "--crm", str(db),
                     "--press", "2")
        assert result.exit_code == 0, result.output
        assert '"Hello Grace."' in result.stdout
        assert db.read_bytes() == before
    finally:
        writer.close()


def test_a_crm_folder_beside_the_flow_is_imported(small: Path) -> None:
    folder = small.parent / "crm"
    folder.mkdir()
    (folder / "customers.csv").write_text("id,name,phone\nC9,Grace,+8613800000009\n",
                                          encoding="utf-8")
    result = ccf("simulate", str(small), "--caller", "+8613800000009", "--press", "2")
    assert '"Hello Grace."' in result.stdout
    assert "1 customer record(s) from" in result.stderr


def test_without_crm_or_agents_the_call_still_runs(small: Path) -> None:
    result = ccf("simulate", str(small), "--press", "1")
    assert result.exit_code == 0, result.output
    assert "CRM: empty" in result.stderr
    assert "agents: none" in result.stderr
    assert '"Hello stranger."' in result.stdout
    assert "leaves queue service: empty" in result.stdout


def test_agents_file_option(small: Path, tmp_path: Path) -> None:
    agents = tmp_path / "people.json"
    agents.write_text(json.dumps({"agents": [{"id": "ada", "skills": ["general"],
                                              "answer_after": "1s"}]}), encoding="utf-8")
    result = ccf("simulate", str(small), "--press", "1", "--agents", str(agents))
    assert "agent ada answers after 1s" in result.stdout


def test_at_without_a_zone_uses_the_flows_hours() -> None:
    result = ccf("simulate", str(HOTLINE), "--at", "2026-11-28 22:00", "--press", "1s hangup")
    assert "call at 2026-11-28 22:00 Asia/Shanghai (Saturday)" in result.stderr
    assert "step after_hours" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--at", "tomorrow"], '"tomorrow" is not a date and time'),
    (["--at", "2026-11-30 10:00 Mars/Base"], '"Mars/Base" is not a time zone'),
    (["--press", "1 x"], "`x` is not something a caller can do"),
    (["--press", "1", "--interactive"], "do not go together"),
    (["--crm", "/nonexistent/crm.db"], "there is no CRM database"),
    (["--agents", "/nonexistent/agents.toml"], "cannot read the agents file"),
])
def test_bad_input_is_exit_2_with_a_message(small: Path, args: list, message: str) -> None:
    result = ccf("simulate", str(small), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_missing_flow_is_exit_2(tmp_path: Path) -> None:
    result = ccf("simulate", str(tmp_path / "nope.ccf"))
    assert result.exit_code == 2
    assert "is not a file" in result.stderr


def test_a_flow_with_errors_is_exit_1_with_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "bad.ccf"
    path.write_text("flow bad\non start:\n  answer\n  goto nowhere\n", encoding="utf-8")
    result = ccf("simulate", str(path))
    assert result.exit_code == 1
    assert "error[E100]" in result.stderr or "error[" in result.stderr
    assert result.stdout == ""


def test_a_flow_with_errors_says_why_no_call_ran(tmp_path: Path) -> None:
    path = tmp_path / "bad.ccf"
    path.write_text("flow bad\non start:\n  answer\n  goto nowhere\n", encoding="utf-8")
    result = ccf("simulate", str(path))
    # the last line says what the diagnostics above it mean for the call
    assert result.stderr.strip().splitlines()[-1] == \
        f"error: {path} has errors: fix them to simulate it (`ccf validate {path}`)"


def test_a_broken_test_does_not_stop_the_flow_being_tried(small: Path) -> None:
    # an author writing a test with a mistake in it can still try the flow by hand
    small.with_name("small.test.ccf").write_text(
        'test "li answers":\n  call from "+8613900000000"\n  expect answered by li\n',
        encoding="utf-8")
    result = ccf("simulate", str(small), "--press", "hangup")
    assert result.exit_code == 0, result.stderr
    assert "error[E303]" in result.stderr  # the test's mistake is still shown
    assert "note: the errors are in test blocks: simulating the flow without them" \
        in result.stderr
    assert "Welcome to the small line" in result.stdout or "hang-up" in result.stdout


def test_example_folder_copied_elsewhere_keeps_its_crm_and_agents(tmp_path: Path) -> None:
    copy = tmp_path / "iws"
    shutil.copytree(HOTLINE.parent, copy)
    result = ccf("simulate", str(copy / "hotline.ccf"), *DEMO)
    assert result.exit_code == 0
    assert "agents: 4 from" in result.stderr
    assert "-> order O-20261128" in result.stdout


def test_a_crm_file_that_is_not_sqlite_is_exit_2(small: Path, tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("not a database\n", encoding="utf-8")
    result = ccf("simulate", str(small), "--crm", str(db))
    assert result.exit_code == 2
    assert f"cannot open the CRM database {db}" in result.stderr
    assert result.stdout == ""


def test_a_module_without_on_start_is_exit_2() -> None:
    result = ccf("simulate", str(ROOT / "stdlib_flows" / "voicemail.ccf"))
    assert result.exit_code == 2
    assert "has no `on start` handler" in result.stderr


def test_a_prompt_line_shows_when_it_started_and_how_long_it_played() -> None:
    out = ccf("simulate", str(HOTLINE), *DEMO).stdout
    # welcome (a 2 s file) starts with the call; main_menu is entered as it ends
    assert re.search(r"^\+00:00\.000  \S+hotline\.ccf:\d+ +plays welcome: .*\(2s\)$", out, re.M)
    assert re.search(r"^\+00:02\.000  \S+hotline\.ccf:\d+ +step main_menu$", out, re.M)
    # the date is said when the status prompt has ended, not stamped with its own end
    status = re.search(r"^\+00:(\d\d\.\d{3}) .*plays orders\.status_shipped.*\((\S+)s\)$", out,
                       re.M)
    said = re.search(r"^\+00:(\d\d\.\d{3}) .*says date", out, re.M)
    assert status and said
    assert float(status[1]) + float(status[2]) == pytest.approx(float(said[1]))


def test_an_interrupted_prompt_says_after_how_long() -> None:
    from ccdsl.runtime.operations.trace import describe

    text = describe("prompt_played", {"sounds": [{"kind": "tts", "text": "Hi", "language": "en"}],
                                      "prompt": "hi", "interrupted_by": "1", "ms": 1250})
    assert text == 'plays hi: "Hi" [en] (interrupted by 1 after 1.25s)'


def test_store_keeps_each_call_with_its_own_id(tmp_path: Path) -> None:
    import sqlite3

    store = tmp_path / "calls.db"
    args = ["simulate", str(HOTLINE), "--caller", "+8613800000001",
            "--at", "2026-11-30 10:00 Asia/Shanghai", "--press", "0", "--store", str(store)]
    first, second = ccf(*args), ccf(*args)
    assert first.exit_code == 0 and second.exit_code == 0
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT call_id, caller, outcome, agent FROM calls "
                          "ORDER BY call_id").fetchall()
        kinds = {k for (k,) in db.execute("SELECT DISTINCT kind FROM events")}
    assert rows == [("sim-1", "+8613800000001", "hangup", "zhang"),
                    ("sim-2", "+8613800000001", "hangup", "zhang")]
    assert {"call_started", "routing_decision", "agent_answered", "call_ended"} <= kinds


def test_without_a_store_nothing_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CCF_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    result = ccf("simulate", str(HOTLINE), *DEMO)
    assert result.exit_code == 0
    assert "call store: temporary" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seed", ["12345678901234567890", "-1", str(1 << 63)])
def test_a_seed_out_of_a_calls_range_is_refused_in_the_test_blocks_words(
        small: Path, seed: str) -> None:
    # the same rule as a test block's `seed` (ccdsl/test_words.py), in the same words
    from ccdsl.test_words import SEED_RULE

    result = ccf("simulate", str(small), "--seed", seed)
    assert result.exit_code == 2, result.output
    assert f"{SEED_RULE}, not {seed}" in _unboxed(result.stderr)
    assert result.stdout == ""


def _unboxed(text: str) -> str:
    """Click's usage error or help as one line of words, without rich's box."""
    return " ".join(w for w in text.split() if w != "│")


def test_the_largest_seed_runs_and_help_says_the_range(small: Path) -> None:
    result = ccf("simulate", str(small), "--seed", str((1 << 63) - 1))
    assert result.exit_code == 0, result.output
    assert "a whole number 0 or more, below 2**63" in _unboxed(ccf("simulate", "--help").output)


def test_typed_bytes_that_are_not_text_are_refused_and_asked_again(small: Path) -> None:
    # a terminal in another encoding: bad input, as a wrong key is, never the flow's ERROR
    result = ccf("simulate", str(small), "--interactive", input=b"\xff\xfe1\n1\n")
    assert result.exit_code == 0, result.output
    assert "is not something a caller can do" in result.stderr
    assert "ERROR" not in result.stdout
    assert result.stderr.count("keys> ") >= 2
