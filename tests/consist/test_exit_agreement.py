"""Exit statuses that agree across commands, by cli/exit_codes.py's meanings: a folder where
a flow file is wanted and an agent id nobody has are usage errors (2) everywhere; `ccf test`
that finds no test says so and exits NO_TESTS (5, as pytest's "no tests collected"); an
unusable --junit path is refused before any test runs, so its 2 never hides a failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf
from ports import free_port

from ccdsl.cli import exit_codes

ENV = {"CCF_AMI_SECRET": "s3cret", "CCF_CONSOLE_PASSWORD": "a long enough password",
       "CCF_CONFIG": "", "CCF_STORE": ""}


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    """A ccf.toml with one agent (li) and an AMI nobody listens on."""
    (tmp_path / "agents.toml").write_text('[[agents]]\nid = "li"\nextension = "8001"\n',
                                          encoding="utf-8")
    config = tmp_path / "ccf.toml"
    config.write_text(f'[ami]\nport = {free_port()}\n[agents]\nfile = "agents.toml"\n'
                      '[console]\nusers = "users.json"\n', encoding="utf-8")
    return config


def test_compile_of_a_folder_is_a_usage_error_as_for_graph_and_simulate(tmp_path):
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    statuses = {words: ccf(words, str(tmp_path)).exit_code
                for words in ("compile", "graph", "simulate")}
    assert statuses == {"compile": exit_codes.USAGE, "graph": exit_codes.USAGE,
                        "simulate": exit_codes.USAGE}
    assert "is a directory" in ccf("compile", str(tmp_path)).output


@pytest.mark.parametrize("words", [("agent", "pause"), ("agent", "unpause")])
def test_an_unknown_agent_is_a_usage_error_for_agent(centre, words):
    result = ccf(*words, "ghost", "--config", str(centre), env=ENV)
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "no agent 'ghost' in the agents file (the agents: li)" in result.output


def test_an_unknown_agent_is_a_usage_error_for_callback(centre, tmp_path):
    from ccdsl.runtime.operations.store import CallStore

    CallStore(tmp_path / "calls.db").close()
    result = ccf("callback", "1795.1", "--agent", "ghost", "--config", str(centre),
                 "--store", str(tmp_path / "calls.db"), env=ENV)
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "no agent 'ghost' in the agents file (the agents: li)" in result.output


def test_an_unknown_agent_is_a_usage_error_for_console_user_add(centre):
    result = ccf("console", "user", "add", "ghost", "--role", "agent", "--config",
                 str(centre), env=ENV)
    assert result.exit_code == exit_codes.USAGE, result.output


def test_no_tests_found_is_its_own_status(tmp_path):
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == exit_codes.NO_TESTS == 5
    assert "no tests found in 1 flow" in result.stderr
    result = ccf("test", str(tmp_path), "-f", "json")
    assert result.exit_code == exit_codes.NO_TESTS


def test_the_exit_table_and_the_help_name_the_no_tests_status():
    assert (exit_codes.NO_TESTS, "no tests: `ccf test` found no test blocks in the flows "
                                 "given") in exit_codes.TABLE
    assert "5 when it found no test" in " ".join(
        ccf("test", "--help").output.replace("│", " ").split())




def test_an_unusable_junit_path_is_refused_before_any_test_runs(tmp_path):
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + '\ntest "greets":\n  expect hangup\n',
                                       encoding="utf-8")
    result = ccf("test", str(tmp_path), "--junit", str(tmp_path / "no" / "such" / "j.xml"))
    assert result.exit_code == exit_codes.USAGE
    assert "--junit" in result.output and "no such folder" in result.output
    assert "passed" not in result.output  # nothing ran
    (tmp_path / "j.xml").mkdir()
    result = ccf("test", str(tmp_path), "--junit", str(tmp_path / "j.xml"))
    assert result.exit_code == exit_codes.USAGE
    assert "passed" not in result.output  # click refuses a folder before anything runs
