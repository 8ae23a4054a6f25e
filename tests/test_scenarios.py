"""Scenario tests: every test block of examples/, of the standard library's
scenario flows (tests/scenarios/) and of any flow in stdlib_flows/ runs as
a simulated call and must pass; and the pieces (runtime.testing, runtime.sim)
that turn a test block into a call and judge its expectations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scenario_runs import compiled, explain

from ccdsl.compiler.pipeline import find_flow_files
from ccdsl.runtime.core.crm.folder import crm_type_of
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.sim.caller import HangUp, Press, Silence, Speak
from ccdsl.runtime.sim.script import flow_zone, parse_at, parse_press
from ccdsl.runtime.testing.blocks import scenario_from_test
from ccdsl.runtime.testing.expectations import CallFacts, Expectation, check
from ccdsl.runtime.testing.runner import run_test

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIRS = [ROOT / "examples", ROOT / "stdlib_flows", ROOT / "tests" / "scenarios"]


def all_tests() -> list:
    files, _ = find_flow_files([str(d) for d in SCENARIO_DIRS])
    params = []
    for path in files:
        ir = compiled(path)
        for index, test in enumerate(ir["tests"]):
            rel = Path(path).relative_to(ROOT)
            params.append(pytest.param(path, index, id=f"{rel}::{test['name']}"))
    return params


@pytest.mark.parametrize(("path", "index"), all_tests())
def test_every_scenario_passes(path: str, index: int) -> None:
    ir = compiled(path)
    result = run_test(ir, ir["tests"][index])
    assert result.passed, explain(result)


def test_every_example_and_stdlib_module_has_scenarios() -> None:
    """The issue's rule: every example and stdlib flow has scenario tests.
    A library module is exercised by a scenario flow that uses it."""
    tested = {Path(p.values[0]).name for p in all_tests()}
    assert "hotline.ccf" in tested
    used = set()
    for path in (ROOT / "tests" / "scenarios").glob("*.ccf"):
        used.update(compiled(str(path))["modules"])
    stdlib = {f"stdlib.{p.stem}" for p in (ROOT / "stdlib_flows").glob("*.ccf")
              if not p.name.endswith(".test.ccf")}
    assert stdlib <= used, f"stdlib modules without a scenario flow: {sorted(stdlib - used)}"


def test_the_hotline_has_a_test_for_every_path() -> None:
    names = [t["name"] for t in compiled(str(ROOT / "examples/iws/hotline.ccf"))["tests"]]
    for word in ("business hours", "after hours", "holiday", "owner", "VIP", "skills",
                 "found", "not found", "exhausted", "voicemail", "hang-up"):
        assert any(word in n for n in names), word


# ---- time -----------------------------------------------------------------------------


def test_at_reads_the_zone_written_else_the_flow_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_at("2026-11-30 10:00 Asia/Shanghai") == datetime(2026, 11, 30, 10, 0,
                                                                 tzinfo=shanghai)
    assert parse_at("2026-11-30 10:00", shanghai).utcoffset() == timedelta(hours=8)
    assert parse_at("2026-11-30 10:00").tzinfo is UTC
    assert parse_at("2026-11-30T09:05:30 UTC") == datetime(2026, 11, 30, 9, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["tomorrow", "2026-11-30", "2026-02-30 10:00",
                                  "2026-11-30 10:00 Mars/Base"])
def test_a_bad_at_says_what_to_write(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_at(text)
    assert "2026" in str(err.value) or "time zone" in str(err.value)


def test_the_flow_zone_comes_from_its_hours() -> None:
    ir = compiled(str(ROOT / "examples/iws/hotline.ccf"))
    assert flow_zone(ir)[1] == "Asia/Shanghai"
    assert flow_zone({"hours": {}})[1] == "UTC"
    two = {"hours": {"a": {"tz": "Asia/Shanghai"}, "b": {"tz": "Europe/Paris"}}}
    assert flow_zone(two)[1] == "UTC"


def test_a_test_without_at_starts_on_a_fixed_monday_morning() -> None:
    ir = compiled(str(ROOT / "tests/scenarios/voicemail_line.ccf"))
    scenario = scenario_from_test(ir, ir["tests"][0])
    assert (scenario.start.year, scenario.start.month, scenario.start.day,
            scenario.start.hour, scenario.start.weekday()) == (2026, 11, 30, 10, 0)


# ---- from a test block to a scenario ---------------------------------------------------


def test_a_test_block_becomes_a_world_and_a_script() -> None:
    ir = compiled(str(ROOT / "examples/iws/hotline.ccf"))
    by_name = {t["name"]: t for t in ir["tests"]}
    vip = scenario_from_test(
        ir, by_name["VIP priority: a VIP caller queues with priority when the owner is busy"])
    assert vip.caller == "+8613800000002"
    assert vip.crm == (("customer", {"id": "C2002", "phone": "+8613800000002",
                                     "owner": "zhang", "tier": "vip"}),)
    assert [(a.id, a.state, a.skills) for a in vip.agents] == [
        ("zhang", "busy", {"general": 1}), ("li", "available", {"general": 1})]
    assert vip.actions == (Press("0"),)
    assert [e.describe() for e in vip.expectations] == [
        "expect queue service", "expect answered by li"]
    hang = scenario_from_test(ir, by_name["hang-up mid-menu"])
    assert hang.actions == (HangUp(2000, "main_menu"),)
    survey = scenario_from_test(ir, by_name["survey after talking to an agent"])
    assert survey.actions == (Press("0"), Press("5"))


def test_press_scripts_for_simulate() -> None:
    assert parse_press("1 20261128#, 5s 0 hangup") == (
        Press("1"), Press("20261128#"), Silence(5000), Press("0"), HangUp(after_ms=0))
    assert parse_press("") == ()
    with pytest.raises(InputError, match="`x1` is not something a caller can do"):
        parse_press("x1")
    # talking into voicemail: only a caller who speaks leaves a message
    assert parse_press("1 speak:20s 5") == (Press("1"), Speak(20_000), Press("5"))
    with pytest.raises(InputError, match="`speak:soon` is not something a caller can do"):
        parse_press("speak:soon")
    # both overflowed the simulated clock (an internal error) before
    with pytest.raises(InputError, match="longer than a day"):
        parse_press("99999999999999999999s")
    with pytest.raises(InputError, match="between the years 1900 and 9000"):
        parse_at("9999-12-31 23:59")


def test_fixture_file_names_give_record_types() -> None:
    assert [crm_type_of(n) for n in ("customers.csv", "order.json", "callback_tasks.csv",
                                     "address.csv")] == [
        "customer", "order", "callback_task", "address"]


def test_agents_file_toml_and_json(tmp_path: Path) -> None:
    agents = load_agents(str(ROOT / "examples/iws/agents.toml"))
    assert {a.id for a in agents} >= {"zhang", "li", "wang"}
    zhang = next(a for a in agents if a.id == "zhang")
    assert zhang.skills["general"] == 8 and zhang.answer_after_ms == 4000
    path = tmp_path / "agents.json"
    path.write_text('{"agents": [{"id": "li", "skills": ["general"], '
                    '"state": "ringing-no-answer"}]}', encoding="utf-8")
    [li] = load_agents(str(path))
    assert (li.skills, li.state, li.answer_after_ms) == ({"general": 1}, "available", None)


@pytest.mark.parametrize(("text", "message"), [
    ("[[agents]]\nname = 'x'\n", "needs an `id`"),
    ("[[agents]]\nid = 'x'\nstate = 'asleep'\n", 'state "asleep"'),
    ("[[agents]]\nid = 'x'\ncolour = 'red'\n", "unknown key `colour`"),
    ("[[agents]]\nid = 'x'\nanswer_after = 'soon'\n", "not a duration"),
    ("agents = 3\n", "needs a list `agents`"),
    ("[[agents\n", "not valid TOML"),
])
def test_bad_agents_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        load_agents(str(path))


# ---- judging expectations --------------------------------------------------------------

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def ev(kind: str, **data) -> Event:
    return Event("c1", 0, T0, kind, data)


def exp(what: str, value: str | None = None, *, negated: bool = False,
        kind: str | None = None) -> Expectation:
    return Expectation(what, negated, value, None, {"file": "f.ccf", "line": 3, "column": 3},
                       kind)


EVENTS = [
    ev("step_entered", step="main_menu"),
    ev("prompt_played", prompt="welcome",
       sounds=[{"kind": "file", "text": "iws/welcome", "language": "zh-CN"}]),
    ev("prompt_played", prompt="menu_choices",
       sounds=[{"kind": "tts", "text": "For order status press 1", "language": "en-US"}]),
    ev("queue_joined", queue="service", priority=0, position=1),
    ev("agent_offered", agent="li", via="queue"),
    ev("agent_answered", agent="li", ring_ms=2000),
    ev("voicemail", mailbox="zhang", stored=False, file=None, duration_ms=0),
    ev("transfer", target="+862150001234", mode="blind", status="transferred"),
    ev("hangup", by="caller", step="main_menu"),
]


@pytest.mark.parametrize(("expectation", "passed"), [
    (exp("played", "welcome", kind="prompt"), True),
    (exp("played", "iws/welcome", kind="text"), True),
    (exp("played", "goodbye", kind="prompt"), False),
    (exp("played", "goodbye", kind="prompt", negated=True), True),
    (exp("heard", "order status", kind="text"), True),
    (exp("heard", "Goodbye", kind="text"), False),
    (exp("queue", "service", kind="queue"), True),
    (exp("queue", "support", kind="queue"), False),
    (exp("routed", "li", kind="agent"), True),
    (exp("routed", "service", kind="queue"), True),
    (exp("routed", "zhang", kind="agent"), False),
    (exp("answered"), True),
    (exp("answered", "li", kind="agent"), True),
    (exp("answered", "zhang", kind="agent"), False),
    # a message that was not stored was not left
    (exp("voicemail"), False),
    (exp("voicemail", negated=True), True),
    (exp("transfer", "+862150001234", kind="text"), True),
    # the caller hung up, not the flow
    (exp("hangup"), False),
    (exp("step", "main_menu", kind="step"), True),
    (exp("step", "agent", kind="step"), False),
    (exp("crm", "ticket", kind="text"), True),
    (exp("crm", "survey_answer", kind="text"), False),
])
def test_expectations_against_a_call(expectation: Expectation, passed: bool) -> None:
    [outcome] = check([expectation], CallFacts(EVENTS, created=["ticket"]))
    assert outcome.passed is passed
    assert outcome.happened


def test_a_failed_expectation_says_what_happened_instead() -> None:
    [outcome] = check([exp("answered", "zhang", kind="agent")], CallFacts(EVENTS))
    assert outcome.happened == "answered by: li"
    [outcome] = check([exp("queue", "support", kind="queue")], CallFacts([]))
    assert outcome.happened == "the call joined no queue"
    assert exp("played", "welcome", negated=True, kind="prompt").describe() == \
        "expect not played welcome"
    assert exp("heard", "Hi", kind="text").describe() == 'expect heard "Hi"'
