"""The Asterisk commands from the command line, in-process: their help,
`ccf test --via asterisk`, and `ccf serve` refusing a bad ccf.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf

ROOT = Path(__file__).resolve().parents[2]

HELP = {
    ("serve",): ("Run the deployed flows for Asterisk until stopped",
                 ["--config", "--port", "--no-ami", "--grace"]),
    ("deploy",): ("", ["--dry-run", "--rollback", "--config"]),
    ("flows",): ("", ["--config"]),
    ("config", "check"): ("Check a ccf.toml and show the settings in effect", ["--config"]),
    ("test",): ("Run every test block", ["--via"]),
}


@pytest.mark.parametrize("command", sorted(HELP))
def test_each_asterisk_command_explains_itself(command: tuple[str, ...]) -> None:
    result = ccf(*command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    sentence, options = HELP[command]
    assert sentence in text
    for option in options:
        assert option in text


def test_top_level_help_lists_serve_deploy_flows_and_config() -> None:
    text = ccf("--help").stdout
    for command in ("serve", "deploy", "flows", "config"):
        assert command in text


def test_the_example_tests_pass_through_the_fastagi_server() -> None:
    result = ccf("test", str(ROOT / "examples" / "iws"), "--via", "asterisk")
    assert result.exit_code == 0, result.output
    assert "18 passed, 0 failed" in result.stdout


def test_a_failing_test_fails_through_the_fastagi_server_too(tmp_path: Path) -> None:
    flow = tmp_path / "tiny.ccf"
    flow.write_text(
        "flow tiny:\n"
        "  languages en-US\n\n"
        "prompt hello:\n"
        '  en-US tts "Hello"\n\n'
        "on start:\n"
        "  answer\n"
        "  play hello\n"
        "  hangup\n\n"
        'test "hears goodbye":\n'
        '  call from "+8613800000001"\n'
        '  expect heard "Goodbye"\n', encoding="utf-8")
    assert ccf("validate", str(flow)).exit_code == 0
    result = ccf("test", str(flow), "--via", "asterisk")
    assert result.exit_code == 1
    assert "0 passed, 1 failed" in result.stdout
    assert 'heard: "Hello"' in result.stdout


def test_serve_refuses_an_invalid_configuration(tmp_path: Path) -> None:
    config = tmp_path / "ccf.toml"
    config.write_text('[ami]\nport = "five"\nsecret = "hunter2"\n', encoding="utf-8")
    result = ccf("serve", "--config", str(config))
    assert result.exit_code == 2
    assert "not started" in result.output
    assert "hunter2" not in result.output  # a secret written in the file is never echoed
    assert "CCF_AMI_SECRET" in result.output


def test_serve_says_which_path_it_cannot_open(tmp_path: Path) -> None:
    config = tmp_path / "ccf.toml"
    config.write_text('[paths]\nstore = "/proc/no/calls.db"\n[api]\nport = 0\n',
                      encoding="utf-8")
    result = ccf("serve", "--config", str(config), "--port", "0", "--no-ami")
    assert result.exit_code == 2
    assert "the call store /proc/no/calls.db cannot be opened" in result.output
    assert "[paths] store" in result.output and "not started" in result.output


def test_serve_reads_the_grace_as_ccf_toml_writes_durations(tmp_path: Path) -> None:
    # `--grace 3s` was refused ("not a valid float range") where ccf.toml says grace = "30s"
    config = tmp_path / "ccf.toml"
    config.write_text('[paths]\nstore = "/proc/no/calls.db"\n', encoding="utf-8")
    bad = ccf("serve", "--config", str(config), "--grace", "soon")
    assert bad.exit_code == 2
    assert "--grace: 'soon' is not a duration such as 30s" in bad.stderr
    for grace in ("3s", "500ms", "2"):  # a bare number is seconds, as before
        result = ccf("serve", "--config", str(config), "--grace", grace)
        assert "--grace" not in result.output and "not started" in result.output
