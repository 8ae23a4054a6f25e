"""`-` as the path: `ccf validate -`, `ccf compile -` and `ccf fmt -` read one flow from
standard input, the format-on-save contract editors use; --stdin-filename names it."""

from __future__ import annotations

import json
from pathlib import Path

from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE
from tests.ccf_cli import ccf

MESSY = 'flow demo\non start:\n    answer\n    hangup\n    play tts "x"    # ccf: ignore[W206]\n'
TIDY = 'flow demo\n\non start:\n  answer\n  hangup\n  play tts "x"  # ccf: ignore[W206]\n'
BROKEN = "flow demo\n\non start:\n  answer\n  x = = 1\n  hangup\n"
USES = 'flow main\n\nuse helper\n\non start:\n  answer\n  play tts helper.bye\n  hangup\n'


def folder_with_helper(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "helper.ccf").write_text('flow helper\n\nconst bye = "Goodbye."\n', "utf-8")
    return flows


# ---- fmt -------------------------------------------------------------------------------------

def test_fmt_writes_the_formatted_text_to_stdout() -> None:
    result = ccf("fmt", "-", input=MESSY)
    assert result.exit_code == OK
    assert result.stdout == TIDY
    assert result.stderr == "reformatted 1 of 1 file\n"


def test_fmt_gives_back_formatted_text_unchanged() -> None:
    result = ccf("fmt", "-", input=TIDY)
    assert (result.exit_code, result.stdout) == (OK, TIDY)
    assert result.stderr == "reformatted 0 of 1 file\n"


def test_fmt_check_prints_nothing_and_fails_when_it_would_change() -> None:
    result = ccf("fmt", "-", "--check", input=MESSY)
    assert (result.exit_code, result.stdout) == (PROBLEMS, "")
    assert result.stderr == "would reformat 1 of 1 file\n"
    assert ccf("fmt", "-", "--check", input=TIDY).exit_code == OK


def test_fmt_diff_shows_the_change_under_the_stdin_filename() -> None:
    result = ccf("fmt", "-", "--diff", "--stdin-filename", "flows/demo.ccf", input=MESSY)
    assert result.exit_code == PROBLEMS
    assert result.stdout.startswith("--- flows/demo.ccf (original)\n+++ flows/demo.ccf (formatted)")


def test_fmt_of_a_syntax_error_writes_nothing_to_stdout() -> None:
    result = ccf("fmt", "-", input=BROKEN)
    assert result.exit_code == PROBLEMS
    assert result.stdout == ""
    assert "error[E001]" in result.stderr
    assert " --> <stdin>:5:" in result.stderr
    assert "5 |   x = = 1" in result.stderr  # quoted from the text read, not a file


def test_fmt_names_the_file_editors_give() -> None:
    result = ccf("fmt", "-", "--stdin-filename", "flows/demo.ccf", "-f", "concise",
                 input=BROKEN)
    assert result.stderr.startswith("flows/demo.ccf:5:")


def test_fmt_of_text_that_is_not_utf8() -> None:
    result = ccf("fmt", "-", input=b"flow demo\n\xff\n")
    assert result.exit_code == PROBLEMS
    assert result.stdout == ""
    assert "error[E007]: `<stdin>` is not UTF-8 text" in result.stderr


def test_fmt_keeps_a_windows_file_in_one_layout() -> None:
    result = ccf("fmt", "-", input=TIDY.replace("\n", "\r\n"))
    assert (result.exit_code, result.stdout) == (OK, TIDY)


# ---- validate and compile --------------------------------------------------------------------

def test_validate_reads_stdin_as_stdin() -> None:
    result = ccf("validate", "-", "-f", "concise", input=BROKEN)
    assert result.exit_code == PROBLEMS
    assert result.stdout.startswith("<stdin>:5:")
    assert ccf("validate", "-", input=TIDY).stdout == "no errors or warnings in 1 file\n"


def test_use_resolves_beside_the_stdin_filename(tmp_path, monkeypatch) -> None:
    folder_with_helper(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "-", "--stdin-filename", "flows/main.ccf", input=USES)
    assert (result.exit_code, result.stdout) == (OK, "no errors or warnings in 1 file\n")


def test_without_a_name_modules_come_from_the_current_directory(tmp_path, monkeypatch) -> None:
    flows = folder_with_helper(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "-", "-f", "json", input=USES)
    assert result.exit_code == PROBLEMS
    first = json.loads(result.stdout)[0]
    assert (first["file"], first["code"]) == ("<stdin>", "E103")
    assert "in the current directory (give the flow's path with --stdin-filename)" in \
        first["help"]
    monkeypatch.chdir(flows)
    assert ccf("validate", "-", input=USES).exit_code == OK


def test_the_text_read_wins_over_the_file_it_names(tmp_path, monkeypatch) -> None:
    """An editor sends the unsaved buffer: the file on disk is older."""
    monkeypatch.chdir(tmp_path)
    Path("demo.ccf").write_text(TIDY, encoding="utf-8")
    result = ccf("validate", "-", "--stdin-filename", "demo.ccf", "-f", "concise", input=BROKEN)
    assert result.stdout.startswith("demo.ccf:5:")


def test_suppressions_and_warnings_as_errors_apply_to_stdin() -> None:
    flow = 'flow demo\n\non start:\n  answer\n  hangup\n  play tts "x"\n'
    assert ccf("validate", "-", "--warnings-as-errors", input=flow).exit_code == PROBLEMS
    silenced = flow.replace('"x"', '"x"  # ccf: ignore[W206]')
    assert ccf("validate", "-", "--warnings-as-errors", input=silenced).exit_code == OK


def test_compile_reads_stdin(tmp_path, monkeypatch) -> None:
    folder_with_helper(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = ccf("compile", "-", "--stdin-filename", "flows/main.ccf", input=USES)
    assert result.exit_code == OK
    assert json.loads(result.stdout)["flow"]["name"] == "main"
    broken = ccf("compile", "-", input=BROKEN)
    assert (broken.exit_code, broken.stdout) == (PROBLEMS, "")


def test_an_empty_stdin_is_an_empty_flow() -> None:
    result = ccf("validate", "-", input="")
    assert result.exit_code == PROBLEMS
    assert "error[E009]: `<stdin>` is empty" in result.stdout


# ---- usage errors ----------------------------------------------------------------------------

def test_stdin_cannot_be_mixed_with_paths(tmp_path) -> None:
    for command in ("validate", "fmt"):
        result = ccf(command, "-", str(tmp_path), input=TIDY)
        assert result.exit_code == USAGE
        assert result.stderr == "error: `-` (standard input) cannot be mixed with other paths\n"


def test_stdin_filename_needs_stdin(tmp_path) -> None:
    flow = tmp_path / "demo.ccf"
    flow.write_text(TIDY, encoding="utf-8")
    for command in ("validate", "fmt", "compile"):
        result = ccf(command, str(flow), "--stdin-filename", "x.ccf")
        assert result.exit_code == USAGE
        assert "give `-` as the path" in result.stderr


def test_a_test_file_on_stdin_is_checked_with_its_flow() -> None:
    result = ccf("validate", "-", "--stdin-filename", "flows/demo.test.ccf", input=TIDY)
    assert result.exit_code == USAGE
    assert "is a test file" in result.stderr
    # formatting one is fine
    assert ccf("fmt", "-", "--stdin-filename", "flows/demo.test.ccf", input=TIDY).exit_code == OK
