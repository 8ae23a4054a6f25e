"""The `ccf` command, called in-process: every command, every format, the
exit codes CI relies on, bad input, and help text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ccf_cli import ccf, every_command

from ccdsl.cli.main import main
from ccdsl.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"

GOOD = """flow demo

on start:
  answer
  play tts "Welcome."
  hangup
"""

SYNTAX_ERROR = """flow demo

on start:
  answer
  if caller.number = "1":
    hangup
  hangup
"""





@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.ccf"
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.ccf"
    path.write_text(SYNTAX_ERROR, encoding="utf-8")
    return path


# ---- validate --------------------------------------------------------------------


def test_validate_clean_flow_exits_0(good: Path) -> None:
    result = ccf("validate", str(good))
    assert result.exit_code == 0
    assert "no errors or warnings in 1 file" in result.stdout


def test_validate_example_directory_recursively() -> None:
    result = ccf("validate", str(ROOT / "examples"))
    assert result.exit_code == 0, result.stdout


def test_validate_text_quotes_the_line_with_a_caret(broken: Path) -> None:
    result = ccf("validate", str(broken))
    assert result.exit_code == 1
    out = result.stdout
    assert "error[E001]: `=` assigns; to compare in `if` write `==`" in out
    assert f" --> {broken}:5:20" in out
    assert '5 |   if caller.number = "1":' in out
    assert "  |                    ^\n" in out
    assert "= help:" in out
    assert "1 error, 0 warnings in 1 file" in out
    assert "\x1b[" not in out  # no colour when not writing to a terminal


def test_validate_concise(broken: Path) -> None:
    result = ccf("validate", "--format", "concise", str(broken))
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first == f"{broken}:5:20: E001 `=` assigns; to compare in `if` write `==`"


def test_validate_json_is_a_list_of_objects(broken: Path, good: Path) -> None:
    result = ccf("validate", "--format", "json", str(broken), str(good))
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    for key in ("file", "line", "column", "end_line", "end_column", "severity", "code",
                "message", "help"):
        assert key in item
    assert (item["file"], item["line"], item["column"], item["code"], item["severity"]) == \
        (str(broken), 5, 20, "E001", "error")
    assert item["end_line"] == 5 and item["end_column"] == 21
    assert "2 files" in result.stderr  # the summary stays out of the JSON


def test_validate_json_clean_is_an_empty_list(good: Path) -> None:
    result = ccf("validate", "-f", "json", str(good))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_validate_github_annotations(broken: Path) -> None:
    result = ccf("validate", "--format", "github", str(broken))
    assert result.exit_code == 1
    line = result.stdout.splitlines()[0]
    assert line.startswith(f"::error file={broken},line=5,col=20,endLine=5,endColumn=21,"
                           "title=E001::")
    # the help line is joined with an escaped newline: one command per line
    assert "%0Ahelp: " in line


def test_github_escapes_properties_and_data() -> None:
    from ccdsl.diagnostics import diagnostic
    from ccdsl.render import render
    from ccdsl.source import Span

    d = diagnostic("E100", "50% of\r\nlines", Span("a,b:c.ccf", 1, 2, 1, 3))
    out = render([d], {}, "github")
    assert out == ("::error file=a%2Cb%3Ac.ccf,line=1,col=2,endLine=1,endColumn=3,title=E100"
                   "::50%25 of%0D%0Alines\n")


def test_validate_warnings_only_exit_0(monkeypatch, good: Path) -> None:
    import ccdsl.compiler.pipeline
    from ccdsl.diagnostics import diagnostic
    from ccdsl.source import Span

    real = ccdsl.compiler.pipeline.compile_file

    def with_a_warning(path, **kwargs):
        result = real(path, **kwargs)
        warning = diagnostic("W602", "constant `x` is never used", Span(path, 5, 3, 5, 9))
        result.diagnostics = [*result.diagnostics, warning]
        return result

    monkeypatch.setattr(ccdsl.compiler.pipeline, "compile_file", with_a_warning)
    result = ccf("validate", str(good))
    assert result.exit_code == 0
    assert "warning[W602]: constant `x` is never used" in result.stdout
    assert "0 errors, 1 warning in 1 file" in result.stdout


def test_validate_unknown_format_is_a_usage_error(good: Path) -> None:
    result = ccf("validate", "--format", "xml", str(good))
    assert result.exit_code == 2


def test_validate_without_paths_is_a_usage_error() -> None:
    result = ccf("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_validate_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ccf"
    result = ccf("validate", str(missing))
    assert result.exit_code == 2
    assert f"error[E006]: `{missing}` does not exist" in result.stdout


def test_validate_directory_without_flows(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = ccf("validate", str(empty))
    assert result.exit_code == 2
    assert f"`{empty}` has no .ccf files" in result.stdout


def test_validate_latin1_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.ccf"
    path.write_bytes("flow demo\n# café\n".encode("latin-1"))
    result = ccf("validate", str(path))
    assert result.exit_code == 1
    assert "E007" in result.stdout and "is not UTF-8 text: byte 0xe9 at line 2" in result.stdout


def test_validate_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ccf"
    path.write_text("", encoding="utf-8")
    result = ccf("validate", str(path))
    assert result.exit_code == 1
    assert f"error[E009]: `{path}` is empty" in result.stdout


def test_validate_ten_megabyte_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.ccf"
    line = "# " + "x" * 98 + "\n"
    path.write_text(GOOD + line * 100_000, encoding="utf-8")
    assert path.stat().st_size > 10_000_000
    result = ccf("validate", str(path))
    assert result.exit_code == 1
    assert "E008" in result.stdout and "MiB" in result.stdout


def test_validate_reports_each_problem_file_and_keeps_going(tmp_path: Path, good: Path,
                                                             broken: Path) -> None:
    result = ccf("validate", "-f", "concise", str(broken), str(tmp_path / "gone.ccf"),
                 str(good))
    assert result.exit_code == 2  # a missing path: a usage error, the rest still checked
    codes = [line.split(": ")[1].split()[0] for line in result.stdout.splitlines()[:2]]
    assert sorted(codes) == ["E001", "E006"]
    assert "in 3 files" in result.stdout


# ---- compile ----------------------------------------------------------------------


def test_compile_prints_schema_valid_ir() -> None:
    from ccdsl.compiler.ir_schema import validate_ir

    result = ccf("compile", str(HOTLINE))
    assert result.exit_code == 0, result.stderr
    ir = json.loads(result.stdout)
    assert "ir_version" in ir
    assert validate_ir(ir) == []


def test_compile_writes_out_file(tmp_path: Path) -> None:
    out = tmp_path / "hotline.ir.json"
    result = ccf("compile", str(HOTLINE), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["ir_version"]


def test_compile_errors_go_to_stderr_and_exit_1(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = ccf("compile", str(broken), "-o", str(out))
    assert result.exit_code == 1
    assert "error[E001]" in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_compile_missing_file(tmp_path: Path) -> None:
    result = ccf("compile", str(tmp_path / "none.ccf"))
    assert result.exit_code == 2
    assert "E006" in result.stderr


# ---- fmt ----------------------------------------------------------------------------


def test_fmt_check_lists_changes_and_rewrites_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "messy.ccf"
    path.write_text("flow demo\non start:\n    answer\n    hangup\n", encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    result = ccf("fmt", "--check", str(path))
    assert result.exit_code == 1
    assert f"would reformat {path}" in result.stdout
    assert path.read_text(encoding="utf-8") == before
    result = ccf("fmt", str(path))
    assert result.exit_code == 0
    after = path.read_text(encoding="utf-8")
    assert after != before
    result = ccf("fmt", "--check", str(path))
    assert result.exit_code == 0, "formatting is idempotent"
    assert path.read_text(encoding="utf-8") == after


def test_fmt_diff_shows_a_unified_diff(tmp_path: Path) -> None:
    path = tmp_path / "messy.ccf"
    path.write_text("flow demo\non start:\n    answer\n    hangup\n", encoding="utf-8")
    result = ccf("fmt", "--diff", str(path))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"--- {path} (original)\n+++ {path} (formatted)\n")
    assert "-    answer\n" in result.stdout


def test_fmt_keeps_crlf_line_endings(tmp_path: Path) -> None:
    # a flow saved on Windows: reformatting changes the layout, not every line's ending
    path = tmp_path / "windows.ccf"
    path.write_bytes(b"flow demo:\r\n  languages en-US\r\non start:\r\n    hangup\r\n")
    assert ccf("fmt", str(path)).exit_code == 0
    assert path.read_bytes() == \
        b"flow demo:\r\n  languages en-US\r\n\r\non start:\r\n  hangup\r\n"
    assert ccf("fmt", "--check", str(path)).exit_code == 0


def test_fmt_leaves_files_with_syntax_errors_alone(broken: Path) -> None:
    before = broken.read_text(encoding="utf-8")
    result = ccf("fmt", str(broken))
    assert result.exit_code == 1
    assert "error[E001]" in result.stderr
    assert broken.read_text(encoding="utf-8") == before
    # the summary says why the exit is 1 when nothing would be reformatted
    assert result.stderr.endswith("reformatted 0 of 1 file; 1 not formatted: it has errors\n")
    check = ccf("fmt", "--check", str(broken))
    assert check.exit_code == 1
    assert check.stderr.endswith("would reformat 0 of 1 file; 1 not formatted: it has errors\n")


def test_fmt_example_is_already_formatted(tmp_path: Path) -> None:
    copy = tmp_path / "hotline.ccf"
    shutil.copy(HOTLINE, copy)
    ccf("fmt", str(copy))
    result = ccf("fmt", "--check", str(copy))
    assert result.exit_code == 0


def test_fmt_empty_directory(tmp_path: Path) -> None:
    result = ccf("fmt", str(tmp_path))
    assert result.exit_code == 2
    assert "has no .ccf files" in result.stderr


# ---- explain -----------------------------------------------------------------------------


def test_explain_prints_the_explanation_with_an_example() -> None:
    result = ccf("explain", "E001")
    assert result.exit_code == 0
    assert result.stdout.startswith("# E001: syntax error")
    assert "## Example" in result.stdout


def test_explain_is_case_insensitive() -> None:
    assert ccf("explain", "e001").stdout == ccf("explain", "E001").stdout


def test_explain_unknown_code_suggests_a_close_one() -> None:
    result = ccf("explain", "E0001")
    assert result.exit_code == 2
    assert "is not a ccdsl diagnostic code" in result.stderr
    assert "did you mean" in result.stderr and "E001" in result.stderr


def test_explain_list_shows_every_code_with_its_title() -> None:
    result = ccf("explain", "--list")
    assert result.exit_code == 0
    for info in CODES.values():
        assert f"{info.code}  {info.severity.value:<7}  {info.title}" in result.stdout


def test_explain_without_a_code_is_a_usage_error() -> None:
    assert ccf("explain").exit_code == 2


# ---- help, version and internal errors -----------------------------------------------------

COMMANDS = {
    "validate": ["--format"],
    "compile": ["--output", "--format"],
    "fmt": ["--check", "--diff", "--format"],
    "explain": ["--list"],
}


BUILT = every_command()  # once, for every test below
# every command and subcommand `ccf` has, as the words that run it
WORDS = sorted(words for words in BUILT if words)


def test_every_command_is_found() -> None:
    assert {("validate",), ("crm", "import"), ("calls", "show"), ("serve",)} <= set(WORDS)


@pytest.mark.parametrize("words", WORDS, ids=" ".join)
def test_every_command_has_help(words: tuple[str, ...]) -> None:
    command = BUILT[words]
    result = ccf(*words, "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert command.help, f"`ccf {' '.join(words)}` has no help text"
    first_sentence = " ".join(command.help.split()).split(".")[0]
    assert first_sentence in text
    for option in COMMANDS.get(" ".join(words), ()):
        assert option in text


def test_top_level_help_lists_the_commands() -> None:
    result = ccf("--help")
    assert result.exit_code == 0
    for (command, *_) in WORDS:
        assert command in result.stdout


def test_version() -> None:
    result = ccf("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("ccf ")


def test_internal_error_is_a_short_message_and_exit_3(monkeypatch, capsys, good: Path) -> None:
    import ccdsl.compiler.pipeline

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ccdsl.compiler.pipeline, "compile_file", explode)
    monkeypatch.delenv("CCF_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        main(["validate", str(good)])
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err


# ---- the shape of the CLI ------------------------------------------------------------------

def _imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_command_module_uses_another_as_a_library() -> None:
    cli = Path(__file__).resolve().parent.parent / "cli"
    # the modules whose functions ccf runs as commands, read off the commands themselves
    # (a shared module below them needs no listing here)
    commands = {command.callback.__module__ for words, command in BUILT.items()
                if words and command.callback}
    for path in cli.glob("*.py"):
        if path.stem == "main":
            continue
        used = _imports(path) & commands - {f"ccdsl.cli.{path.stem}"}
        assert not used, f"cli/{path.name} imports {sorted(used)}: move what they share below"


def test_the_renderers_know_no_command_line() -> None:
    operations = Path(__file__).resolve().parent.parent / "runtime" / "operations"
    for name in ("trace.py", "tables.py"):
        used = _imports(operations / name)
        assert not {m for m in used if m.split(".")[0] in ("typer", "click", "rich")
                    or m.startswith("ccdsl.cli")}, name


def test_listing_the_commands_loads_no_server_stack() -> None:
    """Every `ccf` run imports the command modules: asyncio, the web stack and the
    runtime's servers load inside the commands that use them (start-up, issue 15)."""
    import subprocess
    import sys

    code = ("import sys, ccdsl.cli.main; print(sorted(m for m in sys.modules if m in "
            "('asyncio', 'starlette', 'uvicorn', 'jinja2', 'httpx', 'sqlite_utils')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", out
