"""`ccf test` and `ccf validate` as a flow author meets them when a test or its flow is
wrong: the fault is found where the author can see it (validate, the editor) and every
report (text, JSON, JUnit) says where it is and what happened."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf
from cut_off import CUT_OFF, round_and_round, run_loop

TESTS = """test "welcome is played":
  call from "+8613900000000"
  expect played welcome

test "a misspelt prompt":
  call from "+8613900000000"
  expect played welcom
"""


@pytest.fixture
def desk(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(TESTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_block_that_does_not_compile_fails_at_its_faulty_line(desk: Path) -> None:
    # CI annotates the failure's file:line: the misspelt name's line, not the header's
    result = ccf("test", ".", "--format", "json", "--junit", "report.xml")
    assert result.exit_code == 1
    [case] = [t for t in json.loads(result.stdout)["tests"] if t["outcome"] == "error"]
    assert (case["name"], case["line"]) == ("a misspelt prompt", 5)
    [failure] = case["failures"]
    assert (failure["file"], failure["line"], failure["column"]) == ("desk.test.ccf", 7, 17)
    assert "desk.test.ccf:7:17: E303" in case["details"]
    error = ET.parse(desk / "report.xml").getroot().find(".//testcase/error")
    assert error.text.startswith("desk.test.ccf:7: the test does not compile")
    text = ccf("test", ".")
    # the text quotes the faulty line once, as the diagnostic does
    assert text.stdout.count("expect played welcom\n") == 1


# the caller never presses a key: the menu gives up, and the step goes round again
ROUND_AND_ROUND = round_and_round("""test "the caller is let go":
  call from "+8613900000000"
  expect hangup

test "the caller hangs up after a minute":
  call from "+8613900000000"
  hangup after 60s
  expect hangup
""")


@pytest.mark.parametrize("via", ["sim", "asterisk"])
def test_a_call_that_never_ends_says_it_was_cut_off(tmp_path: Path, monkeypatch,
                                                    via: str) -> None:
    result = run_loop(tmp_path, monkeypatch, ROUND_AND_ROUND, "--via", via)
    assert result.exit_code == 1
    first, second = json.loads(result.stdout)["tests"]
    assert first["failures"][0]["happened"] == CUT_OFF
    # a caller the test hangs up is no call cut off
    assert second["failures"][0]["happened"] == "the flow did not hang up"
    text = ccf("test", "loop.ccf")
    assert "= happened: the flow did not hang up; the call was still going after 2 hours" \
        in text.stdout


def test_k_matches_a_name_however_its_accents_were_composed(tmp_path: Path,
                                                            monkeypatch) -> None:
    # an editor (macOS's) may save `é` as `e` and a combining accent; a terminal types it
    # as one character: the same name to a reader, and to -k
    import unicodedata

    test = '\ntest "café au lait":\n  call from "+8613900000000"\n  expect played welcome\n'
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + unicodedata.normalize("NFD", test),
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for typed in ("CAFÉ", unicodedata.normalize("NFD", "Café au")):
        result = ccf("test", ".", "-k", typed)
        assert result.exit_code == 0, result.output
        assert "1 passed, 0 failed" in result.stdout
    # a letter without its accent is another letter
    assert ccf("test", ".", "-k", "cafe").exit_code == 2


def test_a_flow_named_twice_is_tested_once(desk: Path) -> None:
    # CI scripts often pass a folder and a file in it, or the test file itself
    result = ccf("test", "desk.ccf", "./desk.ccf", "desk.test.ccf", ".", f"{desk}/desk.ccf",
                 "--junit", "report.xml")
    assert result.exit_code == 1
    assert "1 passed, 1 failed" in result.stdout
    assert len(list(ET.parse(desk / "report.xml").getroot().iter("testcase"))) == 2


SET_UP = {
    "an unknown agent state": ('  agent li state "avialable"\n  call from "+8613900000000"\n',
                               'agent state "avialable"', 'did you mean'),
    "an HTTP status past 599": ('  http get "https://x.example/y" status 999\n'
                                '  call from "+8613900000000"\n', "HTTP status", "100 to 599"),
    "a negative HTTP status": ('  http get "https://x.example/y" status -1\n'
                               '  call from "+8613900000000"\n', "HTTP status", "not -1"),
    "a negative seed": ('  call from "+8613900000000" seed -1\n', "seed", "0 or more"),
}


@pytest.mark.parametrize("name", sorted(SET_UP))
def test_a_set_up_value_no_call_can_have_is_found_by_validate(
        tmp_path: Path, monkeypatch, name: str) -> None:
    # ccf validate (and the editor) must see what ccf test would refuse to set up
    body, words, hint = SET_UP[name]
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + f'\ntest "{name}":\n{body}',
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    checked = ccf("validate", ".", "--format", "json")
    assert checked.exit_code == 1, checked.output
    [diag] = json.loads(checked.stdout)
    assert diag["code"] == "E303" and words in diag["message"], diag
    assert hint in (diag["help"] or "") + diag["message"]
    assert diag["line"] == 13
    result = ccf("test", ".")
    assert "error: the test does not compile" in result.stdout


def test_a_whole_seed_written_with_a_point_is_one_ccf_test_runs_with(
        tmp_path: Path, monkeypatch) -> None:
    # the runner takes `seed 7.0` as 7: validate must not refuse what ccf test can set up
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + '\ntest "seeded":\n'
                                       '  call from "+8613900000000" seed 7.0\n'
                                       '  expect played welcome\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert ccf("validate", ".").exit_code == 0
    result = ccf("test", ".")
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout


def test_the_compiler_knows_every_agent_state_the_simulator_does() -> None:
    from ccdsl.runtime.operations.agents_file import AGENT_STATES
    from ccdsl.test_words import AGENT_STATE_WORDS

    assert tuple(AGENT_STATES) == AGENT_STATE_WORDS


def test_two_tests_of_one_name_are_pointed_out_by_the_run(tmp_path: Path, monkeypatch) -> None:
    # warnings do not fail tests, but this one is about the run's own reports: two
    # alike are one in GitLab's view and to -k
    twice = '\ntest "welcome":\n  call from "+8613900000000"\n  expect played welcome\n'
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + twice + twice, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for fmt in ("text", "json"):
        result = ccf("test", ".", "--format", fmt)
        assert result.exit_code == 0
        # as `ccf validate` prints a warning: the line quoted, the first named, the fix
        assert result.stderr.startswith(
            'warning[W605]: the test "welcome" is declared twice\n  --> desk.ccf:16:6\n')
        assert '= note: the first "welcome" is the test at line 12' in result.stderr
        assert "tell tests apart by their names" in result.stderr
    assert ccf("test", ".", "--ignore", "W605").stderr == ""


def test_a_path_made_of_control_characters_is_shown_escaped(tmp_path: Path,
                                                            monkeypatch) -> None:
    twice = '\ntest "welcome":\n  call from "+8613900000000"\n  expect played welcome\n'
    (tmp_path / "d\x1b]0;x\x07esk.ccf").write_text(WELCOME_FLOW + twice + twice,
                                                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".")
    assert result.exit_code == 0
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert " --> d\\x1b]0;x\\x07esk.ccf:16:6\n" in result.stderr


def test_a_k_that_selects_nothing_quotes_a_name_on_one_line(tmp_path: Path,
                                                           monkeypatch) -> None:
    # a name's newline or tab (`\n`, `\t` in its string) stays escaped in the one line
    (tmp_path / "desk.ccf").write_text(
        WELCOME_FLOW + '\ntest "two\\nlines\\tand a tab":\n  call from "+8613900000000"\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".", "-k", "nothing like it")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "\t" not in result.stderr
    assert "desk.ccf::two\\nlines\\tand a tab" in result.stderr


@pytest.mark.parametrize("name", ["", "   "])
def test_a_test_without_a_name_is_e303(tmp_path: Path, monkeypatch, name: str) -> None:
    # the reports and -k know a test by its name: a blank one is no way to find it
    (tmp_path / "desk.ccf").write_text(
        WELCOME_FLOW + f'\ntest "{name}":\n  call from "+8613900000000"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [diag] = json.loads(ccf("validate", ".", "--format", "json").stdout)
    assert (diag["code"], diag["line"], diag["column"]) == ("E303", 12, 6)
    assert diag["message"] == "a test needs a name that says what it checks"
    result = ccf("test", ".")
    assert result.exit_code == 1
    assert "error: the test does not compile" in result.stdout


def test_a_test_of_a_module_without_on_start_is_e303(tmp_path: Path, monkeypatch) -> None:
    # a module's subs are tested through a flow that uses it; its own tests' calls
    # would have nowhere to begin
    (tmp_path / "greet.ccf").write_text("""flow greet:
  languages en-US

prompt hello:
  en-US tts "Hello."

sub say_hello():
  play hello
""", encoding="utf-8")
    (tmp_path / "greet.test.ccf").write_text(
        'test "hello is played":\n  call from "+8613900000000"\n  expect played hello\n',
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [diag] = json.loads(ccf("validate", ".", "--format", "json").stdout)
    assert (diag["code"], diag["file"], diag["line"]) == ("E303", "./greet.test.ccf", 1)
    assert diag["message"] == ("test \"hello is played\": the flow `greet` has no `on start`, "
                               "so a call has nowhere to begin")
    result = ccf("test", ".")
    assert result.exit_code == 1
    assert "error: the test does not compile" in result.stdout


def test_a_prompts_sound_file_is_shown_with_its_prompt(tmp_path: Path, monkeypatch) -> None:
    # `expect played` matches a prompt or a file it plays; what happened names the
    # prompts, each file beside its prompt, not as one more thing played
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW.replace(
        'en-US tts "Welcome."', 'en-US file "desk/welcome"') + """
test "goodbye is played":
  call from "+8613900000000"
  expect played "desk/goodbye"

test "the file is played":
  call from "+8613900000000"
  expect played "desk/welcome"
""", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".", "--format", "json")
    first, second = json.loads(result.stdout)["tests"]
    assert first["failures"][0]["happened"] == "played: welcome (file desk/welcome)"
    assert second["outcome"] == "passed"


SET_TWICE = {
    "the clock": ('  at "2026-11-30 10:00 Asia/Shanghai"\n  at "2026-11-28 22:00 Asia/Shanghai"\n'
                  '  call from "+8613900000000"\n',
                  "a test sets the clock once; this is a second `at` line",
                  "the first `at` is on line 13"),
    "an agent": ('  agent li state "offline"\n  agent li state "available"\n'
                 '  call from "+8613900000000"\n',
                 "the agent `li` is declared twice in this test",
                 "the first `agent li` is on line 13"),
}


@pytest.mark.parametrize("what", sorted(SET_TWICE))
def test_a_set_up_line_given_twice_is_e303(tmp_path: Path, monkeypatch, what: str) -> None:
    # the second one silently won: a copied line left behind changed what the test tested
    body, message, note = SET_TWICE[what]
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + f'\ntest "twice":\n{body}',
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [diag] = json.loads(ccf("validate", ".", "--format", "json").stdout)
    assert (diag["code"], diag["line"], diag["message"]) == ("E303", 14, message)
    assert diag["notes"] == [note]


def test_the_slowest_tests_name_their_file_escaped(tmp_path: Path, monkeypatch) -> None:
    one = '\ntest "welcome":\n  call from "+8613900000000"\n  expect played welcome\n'
    (tmp_path / "d\x1b]0;x\x07esk.ccf").write_text(WELCOME_FLOW + one, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".", "--durations", "0")
    assert result.exit_code == 0, result.output
    assert "slowest 1 test:" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout, result.stdout
    assert "d\\x1b]0;x\\x07esk.ccf:" in result.stdout
