"""What callers, the CRM and peers send reaches the terminal escaped (issue 11, item 9):
rich markup in a caller's number is shown as written, never read as markup (`ccf status`
exited 3 on `[/]`), and control characters (ESC, BEL, CR, C1, bidi overrides) are
shown as visible escapes, never written raw, by every command that prints them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from asterisk.centre import compiled
from ccf_cli import ccf
from http_stand_in import JsonHandler, serving
from ops.test_status import STATUS, config_for, status_server

from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.sim.caller import Speak
from ccdsl.runtime.sim.scenario import run_simulation, simulation

NUMBER = "+86[/]13[bold]x"  # rich markup: a closing tag with nothing open
NAME = "\x1b[31mred\x1b]0;title\x07"  # colour, then an OSC that retitles the terminal
NAME_SHOWN = r"\x1b[31mred\x1b]0;title\x07"
OWNER = "zh[/]ang\u202eevil"  # markup and a right-to-left override
OWNER_SHOWN = r"zh[/]ang\u202eevil"
AGENT = "li[b]\x9b2J"  # markup and C1 CSI (ESC [ in one byte on some terminals)
AGENT_SHOWN = r"li[b]\x9b2J"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

FLOW = """\
flow hostile_line:
  languages en-US

queue service skills [general] max_wait 20s

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  name = customer.name ?? "stranger"
  play tts "Hello ${name}."
  log "caller ${caller.number} is ${name}"
  queue service on error -> log "no queue"
  voicemail for customer.owner ?? "night-desk"
  hangup
"""


def raw_bytes(text: str) -> list[str]:
    """The control characters a terminal would act on, as found."""
    return RAW.findall(text)


def output(result) -> str:
    return result.stdout + (result.stderr or "")


@pytest.fixture(scope="module")
def flow(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "crm").mkdir()
    # the CRM's name and owner come from whoever fills the CRM
    (folder / "crm" / "customers.csv").write_text(
        f"id,phone,name,owner\nC1,{NUMBER},{NAME},{OWNER}\n", encoding="utf-8")
    path = folder / "hostile_line.ccf"
    path.write_text(FLOW, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(flow: Path) -> Path:
    """sim-1: answered by an agent whose id a FastAGI peer chose; sim-2: a
    message left for the CRM's owner."""
    ir = compiled(flow)
    path = flow.parent / "calls.db"
    crm = str(flow.parent / "crm")
    agent = AgentSpec(id=AGENT, skills={"general": 0}, answer_after_ms=2000)
    run_simulation(ir, simulation(ir, caller=NUMBER, at="2026-11-30 10:00", agents=(agent,)),
                   crm_folder=crm, store_path=str(path))
    run_simulation(ir, simulation(ir, caller=NUMBER, at="2026-11-30 11:00",
                                  actions=(Speak(20_000),)),
                   crm_folder=crm, store_path=str(path))
    return path


# ---- the one escaping function ----------------------------------------------------------


def test_visible_escapes_controls_and_bidi_and_keeps_everything_else() -> None:
    from ccdsl.terminal_text import visible

    assert visible(NAME) == NAME_SHOWN
    assert visible("a\rb\nc\td\x00e\x7ff\x85g") == r"a\rb\nc\td\x00e\x7ff\x85g"
    assert visible("\u202e\u2066\u200f\u2028") == r"\u202e\u2066\u200f\u2028"
    assert visible("\ud800") == r"\ud800"  # a lone surrogate cannot even be written
    kept = "您好 [bold]x[/] café 👍🏽 \\x1b"
    assert visible(kept) == kept
    assert visible(42) == "42"


# ---- ccf simulate ----------------------------------------------------------------------


def test_simulate_trace_shows_the_caller_and_the_crm_name_literally(flow: Path) -> None:
    result = ccf("simulate", str(flow), "--caller", NUMBER, "--at", "2026-11-30 10:00",
                 "--press", "speak:20s")
    assert result.exit_code == 0, output(result)
    assert raw_bytes(output(result)) == []
    assert f"call from {NUMBER}" in result.stdout
    assert f'"Hello {NAME_SHOWN}."' in result.stdout
    assert f"log: caller {NUMBER} is {NAME_SHOWN}" in result.stdout
    assert f"voicemail for {OWNER_SHOWN}" in result.stdout


def test_interactive_simulate_shows_what_the_caller_hears_escaped(monkeypatch, capsys) -> None:
    """The `caller hears:` line of --interactive quotes TTS text, here the
    CRM's name, before the keys are asked for."""
    import io

    from ccdsl.cli.common import TextFormat
    from ccdsl.cli.simulate import KeyReader, TracePrinter
    from ccdsl.runtime.sim.caller import Press

    monkeypatch.setattr("sys.stdin", io.StringIO("1\n"))
    reader = KeyReader(TracePrinter(TextFormat.text))
    keys = reader("1-3", [{"kind": "tts", "text": f"Hello {NAME}."},
                          {"kind": "file", "text": OWNER},
                          {"kind": "said", "said": "alpha", "value": NAME, "words": NAME}])
    err = capsys.readouterr().err
    assert keys == (Press("1"),)
    assert raw_bytes(err) == []
    assert f'caller hears: "Hello {NAME_SHOWN}."' in err
    assert f"caller hears: file {OWNER_SHOWN}" in err
    assert f"caller hears: alpha {NAME_SHOWN}" in err


def test_crm_show_prints_markup_and_escapes_literally(flow: Path, tmp_path: Path) -> None:
    """`ccf crm show` exited 3 (rich MarkupError) on a `[/]` in a CRM value."""
    db = tmp_path / "crm.db"
    imported = ccf("crm", "import", str(flow.parent / "crm" / "customers.csv"),
                   "--type", "customer", "--db", str(db))
    assert imported.exit_code == 0, output(imported)
    result = ccf("crm", "show", "--db", str(db))
    assert result.exit_code == 0, output(result)
    assert raw_bytes(output(result)) == []
    text = "".join(result.stdout.split())  # the table may fold a long value
    for shown in (NUMBER, NAME_SHOWN, OWNER_SHOWN):
        assert "".join(shown.split()) in text


# ---- the call store's commands -----------------------------------------------------------


def test_calls_list_and_show(store: Path) -> None:
    listed = ccf("calls", "list", "--store", str(store))
    assert listed.exit_code == 0, output(listed)
    assert raw_bytes(output(listed)) == []
    assert NUMBER in listed.stdout and AGENT_SHOWN in listed.stdout

    shown = ccf("calls", "show", "sim-1", "--store", str(store))
    assert shown.exit_code == 0, output(shown)
    assert raw_bytes(output(shown)) == []
    assert f"caller     {NUMBER}" in shown.stdout
    assert f"agent      {AGENT_SHOWN}" in shown.stdout
    assert f'"Hello {NAME_SHOWN}."' in shown.stdout
    # the JSON keeps the values as they are (JSON has its own escapes)
    data = json.loads(ccf("calls", "show", "sim-1", "--store", str(store),
                          "--format", "json").stdout)
    assert data["call"]["caller"] == NUMBER and data["call"]["agent"] == AGENT


def test_voicemail_list(store: Path) -> None:
    result = ccf("voicemail", "list", "--store", str(store))
    assert result.exit_code == 0, output(result)
    assert raw_bytes(output(result)) == []
    assert NUMBER in result.stdout and OWNER_SHOWN in result.stdout


def test_report_text_tables(store: Path) -> None:
    result = ccf("report", "--store", str(store), "--from", "2026-11-30")
    assert result.exit_code == 0, output(result)
    assert raw_bytes(output(result)) == []
    assert AGENT_SHOWN in result.stdout


def test_report_check_asterisk_differences() -> None:
    from ccdsl.runtime.operations.reports.model import Filters
    from ccdsl.runtime.operations.reports.reconcile import Check, Difference, Figure
    from ccdsl.runtime.operations.reports.reconcile_render import to_text

    check = Check("calls.db", Filters(), 3, (Figure(f"agent {AGENT}", 1, 0),),
                  (Difference("1795.1", ("agents",), f"answered by {AGENT}",
                              f"answered by {NAME}"),))
    text = to_text(check)
    assert raw_bytes(text) == []
    assert f"answered by {AGENT_SHOWN}; call store: answered by {NAME_SHOWN}" in text


# ---- ccf status ----------------------------------------------------------------------------


def hostile_status() -> dict:
    status = json.loads(json.dumps(STATUS))
    status["server"]["version"] = "[red]0001\x1b[0m"
    status["calls"][0].update(caller=NUMBER, step="[bold]menu[/]", flow="hot\rline")
    status["agents"][0].update(name=NAME, queues=["[/]service", "\x07"])
    status["queues"][0]["queue"] = "service\x1b[2J"
    return status


def test_status_shows_a_callers_markup_and_escapes_literally(tmp_path) -> None:
    with status_server(hostile_status()) as (port, _):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 0, output(result)
    assert raw_bytes(output(result)) == []
    out = result.stdout
    for shown in (NUMBER, "[bold]menu[/]", r"hot\rline", NAME_SHOWN, r"[/]service, \x07",
                  r"service\x1b[2J", r"[red]0001\x1b[0m"):
        assert shown in out, shown


def test_status_survives_a_status_of_the_wrong_shape(tmp_path) -> None:
    odd = {"server": {"calls_served": "many"}, "calls": ["[/]", {"caller": NUMBER}],
           "queues": [None], "agents": "none"}
    with status_server(odd) as (port, _):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 0, output(result)
    assert NUMBER in result.stdout


# ---- ccf wrapup's messages (what ccf serve answers) ------------------------------------------


@contextmanager
def wrapup_server(answer: dict, code: int = 200) -> Iterator[int]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_json(code, answer)

    with serving(Handler) as port:
        yield port


def test_wrapup_messages_from_the_server_are_escaped(tmp_path) -> None:
    stored = {"ok": True, "call_id": "1795.1", "stored": "now",
              "fields": {"reason": NAME, "note\u202e": "ok\x85"},
              "crm": f"the CRM said {NAME}"}
    with wrapup_server(stored) as port:
        result = ccf("wrapup", "1795.1", "-f", "reason=x", "--config",
                     config_for(tmp_path, port))
    assert result.exit_code == 0, output(result)
    assert raw_bytes(output(result)) == []
    assert f"the CRM said {NAME_SHOWN}" in output(result)

    refused = {"ok": False, "problems": [f"reason: expected one of a, b, got {NAME}"]}
    with wrapup_server(refused, 400) as port:
        result = ccf("wrapup", "1795.1", "-f", "reason=x", "--config",
                     config_for(tmp_path, port))
    assert result.exit_code == 1
    assert raw_bytes(output(result)) == []
    assert f"got {NAME_SHOWN}" in output(result)


# ---- ccf monitor --------------------------------------------------------------------------


def test_monitor_refuses_a_call_id_with_control_characters_visibly(tmp_path) -> None:
    from ops.peer_thread import write_config

    config = write_config(tmp_path, 5038)
    result = ccf("monitor", f"1795.9{NAME}", "-s", "8009", "--config", str(config),
                 env={"CCF_AMI_SECRET": "secret"})
    assert result.exit_code == 2  # not a call id: a usage error
    assert raw_bytes(output(result)) == []


def test_callback_prints_the_crm_number_task_and_reasons_escaped(capsys) -> None:
    from types import SimpleNamespace

    from ccdsl.cli.callback import _print

    plan = SimpleNamespace(mailbox=OWNER, call_id="sim-1", agent=SimpleNamespace(id=AGENT),
                           number=NUMBER, customer_id="C1", notes=[f"owner {OWNER}"],
                           task=None)
    result = SimpleNamespace(steps=[(2000, f"Dial to {NUMBER}: {NAME}")], ok=False,
                             reason=f"AMI said {NAME}")
    _print(SimpleNamespace(plan=plan, result=result, task_update=f"task for {NAME}"), True)
    out, err = capsys.readouterr()
    assert raw_bytes(out + err) == []
    assert f"call-back of voicemail for {OWNER_SHOWN} sim-1: agent {AGENT_SHOWN} -> {NUMBER}" \
        in out
    assert f"FAILED: AMI said {NAME_SHOWN}" in out and f"task for {NAME_SHOWN}" in out
    assert f"note: owner {OWNER_SHOWN}" in err


def test_a_failed_test_block_quotes_what_happened_escaped() -> None:
    """`ccf test`'s failure lines quote what the call did: a CRM name it
    heard, an error's text."""
    from ccdsl.cli.test import _result_text
    from ccdsl.runtime.testing.expectations import Expectation, Outcome
    from ccdsl.runtime.testing.runner import TestResult

    loc = {"file": "x.ccf", "line": 1, "column": 1}
    expectation = Expectation("heard", False, f"Hello {NAME}", None, loc, "text")
    failed = TestResult("greets", loc, (Outcome(expectation, False, f'"Hello {NAME}."'),))
    broken = TestResult("breaks", loc, error=f"no customer {NUMBER}: {NAME}")
    text = _result_text(failed, {}) + _result_text(broken, {})
    assert raw_bytes(text) == []
    assert f'happened: "Hello {NAME_SHOWN}."' in text
    assert f"error: no customer {NUMBER}: {NAME_SHOWN}" in text


def test_ccf_serves_log_shows_control_characters_escaped(capsys) -> None:
    import logging

    from ccdsl.cli.serve import _logging

    saved = logging.getLogger("ccdsl").handlers[:]
    try:
        _logging(logging.INFO)
        logging.getLogger("ccdsl.serve").warning("call from %s: %s", NUMBER, NAME)
    finally:
        logging.getLogger("ccdsl").handlers[:] = saved
    err = capsys.readouterr().err
    assert raw_bytes(err) == []
    assert "".join(f"call from {NUMBER}: {NAME_SHOWN}".split()) in "".join(err.split())
