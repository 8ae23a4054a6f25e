"""Every command's --help prints its bracketed words ([paths], [api]) as written, at 80
columns too; shell completion answers through click's protocol, in-process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ccf_cli import ccf, every_command

ROOT = Path(__file__).resolve().parent.parent
_BRACKETED = re.compile(r"\\?\[[A-Za-z_][\w.-]*\]")


def declared_words(command) -> set[str]:
    """The bracketed words in a command's docstring and its parameters' help, as the
    reader must see them (a `\\[` written for rich markup prints as `[`)."""
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    return {word.lstrip("\\") for text in texts for word in _BRACKETED.findall(text)}


COMMANDS = list(every_command().items())


def test_the_help_declares_bracketed_words_to_check() -> None:
    # the examples: these must be among the words the test below checks
    words = {w for _, command in COMMANDS for w in declared_words(command)}
    assert {"[api]", "[paths]", "[agents]", "[outbound]"} <= words


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize(("words", "command"), COMMANDS,
                         ids=[" ".join(w) or "ccf" for w, _ in COMMANDS])
def test_help_prints_bracketed_words_as_written(words, command, columns) -> None:
    result = ccf(*words, "--help", env={"COLUMNS": str(columns), "TERMINAL_WIDTH": str(columns)})
    assert result.exit_code == 0, result.output
    for word in declared_words(command):
        assert word in result.output, f"`ccf {' '.join(words)} --help` lost {word}"
    assert "\\[" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= columns


def test_status_help_names_the_api_section() -> None:
    out = ccf("status", "--help", env={"COLUMNS": "80"}).output
    assert "at the [api] address of ccf.toml" in " ".join(out.split())


# ---- shell completion -----------------------------------------------------------------------


def complete(words: str, cword: int | None = None) -> list[str]:
    """What bash completion offers for the command line `words` (the cursor on the last
    word), as `ccf`'s completion script asks for it."""
    parts = words.split(" ")
    result = ccf(env={"_CCF_COMPLETE": "complete_bash", "COMP_WORDS": words,
                      "COMP_CWORD": str(len(parts) - 1 if cword is None else cword)})
    assert result.exit_code == 0, result.output
    # one completion a line, as bash reads them (IFS=\n)
    return [line for line in result.stdout.splitlines() if line]


def test_commands_complete() -> None:
    assert complete("ccf expl") == ["explain"]
    assert complete("ccf cr") == ["crm"]
    assert complete("ccf crm ") == ["import", "show"]
    assert complete("ccf cache ") == ["info", "clear"]


def test_diagnostic_codes_complete_for_explain() -> None:
    from ccdsl.codes import CODES

    offered = complete("ccf explain E30")
    assert offered == [code for code in CODES if code.startswith("E30")]
    assert "E300" in offered and "E301" in offered
    assert complete("ccf explain W6") == [code for code in CODES if code.startswith("W6")]


def test_flow_files_complete(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert complete("ccf validate examples/iws/ho") == ["examples/iws/hotline.ccf",
                                                        "examples/iws/hotline.test.ccf"]
    assert complete("ccf simulate examples/iws/or") == ["examples/iws/orders.ccf"]
    # folders, which may hold flows; other files are not offered
    offered = complete("ccf test examples/iws/")
    assert "examples/iws/crm/" in offered and "examples/iws/hotline.ccf" in offered
    assert not [path for path in offered if path.endswith((".toml", ".csv"))]
    assert complete("ccf fmt examples/no-such-folder/x") == []


def test_formats_complete() -> None:
    assert complete("ccf validate --format ") == ["text", "concise", "json", "github", "sarif"]
    assert complete("ccf status --format j") == ["json"]


def bash_script(monkeypatch) -> str:
    """`ccf --show-completion bash`: the shell named, not detected from the process tree
    (typer reads this variable when it builds the command, before the run's env)."""
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    shown = ccf("--show-completion", "bash")
    assert shown.exit_code == 0, shown.output
    return shown.stdout


def test_completion_scripts_are_offered(monkeypatch) -> None:
    script = bash_script(monkeypatch)
    assert "_CCF_COMPLETE=complete_bash" in script
    assert "complete -o default -F _ccf_completion ccf" in script


def test_bash_loads_the_completion_script(tmp_path, monkeypatch) -> None:
    import subprocess

    script = bash_script(monkeypatch)
    (tmp_path / "ccf.bash").write_text(script, encoding="utf-8")
    done = subprocess.run(["bash", "-c", f"source {tmp_path / 'ccf.bash'} && complete -p ccf"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "_ccf_completion" in done.stdout


def test_warning_codes_complete_for_select_and_ignore() -> None:
    from ccdsl.codes import CODES

    warnings = [code for code in CODES if code.startswith("W6")]
    assert complete("ccf validate --select W6") == warnings
    assert complete("ccf compile --ignore W6") == warnings
    assert complete("ccf test --ignore W20") == ["W200", "W206"]
    assert complete("ccf validate --ignore E") == []  # errors cannot be chosen
    # after a comma: the codes already typed are kept
    assert complete("ccf validate --select W601,W60")[:2] == ["W601,W600", "W601,W601"]


def test_test_names_complete_for_k(tmp_path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text('flow desk\n\ntest "welcome is played":\n  call\n',
                                       encoding="utf-8")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "desk.test.ccf").write_text(
        'test "not found: the caller queues":\n  call\n\ntest "vip":\n  call\n'
        'test "问候 (zh)":\n  call\n', encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.ccf").write_text('test "hidden":\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert complete("ccf test -k ") == ['\\"not\\ found:\\ the\\ caller\\ queues\\"', "vip",
                                       "welcome\\ is\\ played", '\\"问候\\ \\(zh\\)\\"']
    assert complete("ccf test -k wel") == ["welcome\\ is\\ played"]
    # only the tests of the paths given
    assert complete("ccf test more -k v") == ["vip"]
    assert complete("ccf test more -k w") == []


@pytest.mark.parametrize("name", ["not found: the caller queues", "welcome is played",
                                  "问候 (zh)"])
def test_a_completed_k_selects_that_test_as_bash_reads_it(name, tmp_path, monkeypatch) -> None:
    import subprocess

    flow = ('flow desk\n\nprompt hi:\n  en-US tts "Hi."\n\non start:\n  answer\n  play hi\n'
            f'  hangup\n\ntest "{name}":\n  call from "+8613900000000"\n'
            '  expect played hi\n\ntest "found":\n  call from "+8613900000000"\n'
            '  expect played hi\n')
    (tmp_path / "desk.ccf").write_text(flow, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [offered] = [v for v in complete("ccf test desk.ccf -k ") if v != "found"]
    # the words bash makes of the completed command line
    words = subprocess.run(["bash", "-c", f"printf '%s\\n' {offered}"], capture_output=True,
                           text=True, timeout=30).stdout.splitlines()
    result = ccf("test", "desk.ccf", "-k", *words)
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed, 1 deselected" in result.stdout


def test_install_completion_for_bash_in_a_fresh_home(tmp_path, monkeypatch) -> None:
    import subprocess

    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    home = tmp_path / "home"
    home.mkdir()
    result = ccf("--install-completion", "bash", env={"HOME": str(home), "SHELL": "/bin/bash"})
    assert result.exit_code == 0, result.output
    script = home / ".bash_completions" / "ccf.sh"
    assert "_CCF_COMPLETE=complete_bash" in script.read_text(encoding="utf-8")
    assert f"source '{script}'" in (home / ".bashrc").read_text(encoding="utf-8")
    # a new shell of that user has ccf's completion
    done = subprocess.run(["bash", "-c", "source ~/.bashrc && complete -p ccf"],
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "-F _ccf_completion ccf" in done.stdout
    # installing again adds no second line
    ccf("--install-completion", "bash", env={"HOME": str(home), "SHELL": "/bin/bash"})
    assert (home / ".bashrc").read_text(encoding="utf-8").count("ccf.sh") == 1


# ---- the options that take a moment -----------------------------------------------------------

WHEN_OPTIONS = ("--at", "--since", "--now", "--from", "--to")


def _when_options():
    for words, command in COMMANDS:
        for param in getattr(command, "params", ()):
            names = set(getattr(param, "opts", ())) & set(WHEN_OPTIONS)
            if names and param.metavar != "NUMBER":  # simulate's --to is the number dialled
                yield words, names.pop(), param


def test_every_when_option_describes_its_forms_in_the_same_words() -> None:
    """--at, --since and --now read a moment (runtime/core/moments.py), --from and --to a
    local date or date and time, or such a moment: each option's help says so in
    cli/common.py's words."""
    from ccdsl.cli.common import MOMENT_FORMS_HELP, RANGE_FORMS_HELP

    found = list(_when_options())
    assert {name for _, name, _ in found} == set(WHEN_OPTIONS)
    for words, name, param in found:
        forms = RANGE_FORMS_HELP if name in ("--from", "--to") else MOMENT_FORMS_HELP
        assert forms in param.help, f"ccf {' '.join(words)} {name}: {param.help}"
    out = ccf("report", "--help", env={"COLUMNS": "120", "TERMINAL_WIDTH": "120"}).output
    shown = " ".join(out.replace("│", " ").split())  # the panel's borders, where lines wrap
    assert "[Zone]" in shown and "ISO 8601 such as 2026-11-30T10:00+08:00" in shown
