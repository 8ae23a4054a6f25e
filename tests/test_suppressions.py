"""Selecting, ignoring and suppressing warnings: `--select`, `--ignore`,
`--warnings-as-errors` and `# ccf: ignore[CODE]` comments, through `ccf
validate` and `ccf compile`, and compile_file itself (which the language
server and `ccf test` call too)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE
from ccdsl.code_selection import AS_ERROR_NOTE, SelectionError, selection
from ccdsl.compiler.formatter import format_source
from ccdsl.compiler.pipeline import compile_file
from tests.ccf_cli import ccf

ROOT = Path(__file__).resolve().parent.parent
SEVERAL = str(ROOT / "tests" / "golden" / "formats" / "several.ccf")  # W601, E300, W206

# only warnings: W601 on line 5, W206 on line 8
WARNINGS = """\
flow warn

on start:
  answer
  unused = 1
  play tts "Hello."
  hangup
  play tts "never"
"""


def codes(result) -> list[str]:
    return [d["code"] for d in json.loads(result.stdout)]


def write(tmp_path: Path, text: str, name: str = "flow.ccf") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---- --select and --ignore -------------------------------------------------------------------

def test_select_keeps_the_warnings_named_and_every_error() -> None:
    result = ccf("validate", SEVERAL, "-f", "json", "--select", "W206")
    assert codes(result) == ["E300", "W206"]
    assert result.exit_code == PROBLEMS


def test_ignore_takes_codes_prefixes_commas_and_repeats() -> None:
    assert codes(ccf("validate", SEVERAL, "-f", "json", "--ignore", "W6")) == ["E300", "W206"]
    assert codes(ccf("validate", SEVERAL, "-f", "json", "--ignore", "w601,W206")) == ["E300"]
    assert codes(ccf("validate", SEVERAL, "-f", "json", "--ignore", "W601",
                     "--ignore", "W206")) == ["E300"]
    assert codes(ccf("validate", SEVERAL, "-f", "json", "--ignore", "W")) == ["E300"]


def test_ignore_wins_over_select() -> None:
    assert codes(ccf("validate", SEVERAL, "-f", "json", "--select", "W",
                     "--ignore", "W601")) == ["E300", "W206"]


def test_an_error_code_cannot_be_selected_or_ignored() -> None:
    result = ccf("validate", SEVERAL, "--ignore", "E300")
    assert result.exit_code == USAGE
    assert "only warnings (W...) can be selected or ignored" in result.stderr
    result = ccf("validate", SEVERAL, "--select", "E")
    assert result.exit_code == USAGE
    assert "to see the errors alone, --ignore W" in result.stderr


def test_an_unknown_code_is_a_usage_error_with_a_suggestion() -> None:
    result = ccf("validate", SEVERAL, "--ignore", "W260")
    assert result.exit_code == USAGE
    assert result.stderr.strip() == ("error: --ignore `W260`: no diagnostic code is or starts "
                                     "with it; did you mean `W206`? (`ccf explain --list` "
                                     "lists them)")
    assert ccf("compile", SEVERAL, "--select", "X1").exit_code == USAGE


def test_selection_parses_once_and_refuses_what_names_no_warning() -> None:
    chosen = selection(["W6, w2"], None)
    assert chosen.select == ("W6", "W2")
    assert chosen.reports("W601") and chosen.reports("E300") and not chosen.reports("W401")
    for bad in (["E"], ["E3"], ["W9"], ["W6011"], ["601"]):
        try:
            selection(None, bad)
        except SelectionError:
            continue
        raise AssertionError(f"--ignore {bad} was accepted")


# ---- --warnings-as-errors --------------------------------------------------------------------

def test_warnings_pass_until_they_are_errors(tmp_path) -> None:
    flow = write(tmp_path, WARNINGS)
    assert ccf("validate", flow).exit_code == OK
    result = ccf("validate", flow, "--warnings-as-errors")
    assert result.exit_code == PROBLEMS
    assert "error[W601]: the variable `unused` is assigned but never read" in result.stdout
    assert f"= note: {AS_ERROR_NOTE}" in result.stdout
    assert "2 errors, 0 warnings in 1 file" in result.stdout
    assert result.stderr == "failed: 2 warnings reported as errors (--warnings-as-errors)\n"


def test_warnings_as_errors_counts_only_the_warnings_still_reported(tmp_path) -> None:
    flow = write(tmp_path, WARNINGS)
    assert ccf("validate", flow, "--warnings-as-errors", "--ignore", "W206,W601").exit_code == OK
    result = ccf("validate", flow, "--warnings-as-errors", "--select", "W206", "-f", "json")
    [only] = json.loads(result.stdout)
    assert (only["code"], only["severity"]) == ("W206", "error")


def test_compile_writes_no_ir_when_warnings_are_errors(tmp_path) -> None:
    flow = write(tmp_path, WARNINGS)
    plain = ccf("compile", flow)
    assert plain.exit_code == OK and json.loads(plain.stdout)["flow"]["name"] == "warn"
    strict = ccf("compile", flow, "--warnings-as-errors")
    assert strict.exit_code == PROBLEMS
    assert strict.stdout == ""
    assert "error[W206]" in strict.stderr and "(--warnings-as-errors)" in strict.stderr
    ignored = ccf("compile", flow, "--warnings-as-errors", "--ignore", "W")
    assert ignored.exit_code == OK and ignored.stdout.startswith("{")


# ---- suppression comments --------------------------------------------------------------------

def test_a_trailing_comment_silences_its_line_only(tmp_path) -> None:
    text = WARNINGS.replace('  play tts "never"', '  play tts "never"  # ccf: ignore[W206]')
    result = ccf("validate", write(tmp_path, text), "-f", "json")
    assert codes(result) == ["W601"]


def test_a_comment_on_the_line_above_silences_nothing(tmp_path) -> None:
    text = WARNINGS.replace('  play tts "never"', '  # ccf: ignore[W206]\n  play tts "never"')
    result = ccf("validate", write(tmp_path, text), "-f", "concise")
    assert result.stdout.splitlines()[:-1] == [
        f"{tmp_path}/flow.ccf:5:3: W601 the variable `unused` is assigned but never read",
        f"{tmp_path}/flow.ccf:8:17: W603 this suppression of W206 silences nothing: no W206 "
        "is reported on this line",
        f"{tmp_path}/flow.ccf:9:3: W206 this statement never runs",
    ]


def test_several_codes_in_one_comment(tmp_path) -> None:
    text = WARNINGS.replace("  unused = 1", "  unused = 1  # ccf: ignore[W601, W206]")
    found = compile_file(write(tmp_path, text), lower=False).diagnostics
    assert [(d.code, d.span.line) for d in found] == [("W603", 5), ("W206", 8)]


def test_errors_are_never_suppressed(tmp_path) -> None:
    text = 'flow e\n\non start:\n  answer\n  x = "a" + 1  # ccf: ignore[E300]\n  hangup\n'
    found = compile_file(write(tmp_path, text)).diagnostics
    assert sorted(d.code for d in found) == ["E300", "W601", "W604"]


def test_suppressions_in_a_used_module_count(tmp_path) -> None:
    write(tmp_path, "flow helper\n\nconst spare = 1  # ccf: ignore[W602]\n", "helper.ccf")
    main = write(tmp_path, "flow main\n\nuse helper\n\non start:\n  answer\n  hangup\n")
    assert compile_file(main, lower=False).diagnostics == []


def test_no_unused_report_while_the_flow_does_not_parse(tmp_path) -> None:
    text = WARNINGS.replace("  unused = 1", "  unused = = 1  # ccf: ignore[W601]")
    found = compile_file(write(tmp_path, text), lower=False).diagnostics
    assert [d.code for d in found] == ["E001"]


def test_ignore_turns_off_the_reports_about_comments(tmp_path) -> None:
    text = WARNINGS.replace("  hangup", "  hangup  # ccf: ignore[W206]")
    flow = write(tmp_path, text)
    assert "W603" in codes(ccf("validate", flow, "-f", "json"))
    assert "W603" not in codes(ccf("validate", flow, "-f", "json", "--ignore", "W603"))


def test_the_formatter_keeps_a_suppression_on_its_line(tmp_path) -> None:
    messy = ('flow warn\non start:\n    answer\n    unused = 1     # ccf: ignore[W601]\n'
             '    hangup\n')
    formatted, problems = format_source(messy, "flow.ccf")
    assert problems == []
    assert "  unused = 1  # ccf: ignore[W601]\n" in formatted
    assert format_source(formatted, "flow.ccf")[0] == formatted
    assert compile_file(write(tmp_path, formatted), lower=False).diagnostics == []


def test_explain_knows_the_new_codes() -> None:
    for code in ("W603", "W604"):
        result = ccf("explain", code)
        assert result.exit_code == OK
        assert result.stdout.startswith(f"# {code}: ")


# ---- the property: a suppression removes exactly its diagnostics -------------------------------

def flow_text(used: list[bool], unreachable: bool) -> str:
    lines = ["flow prop", "", "on start:", "  answer"]
    for i, is_used in enumerate(used):
        lines.append(f"  v{i} = {i}")
        if is_used:
            lines.append(f'  play tts "${{v{i}}}"')
    lines.append("  hangup")
    if unreachable:
        lines.append('  play tts "after"')
    return "\n".join(lines) + "\n"


def with_comments(text: str, wanted: dict[int, list[str]]) -> str:
    lines = text.split("\n")
    for line, names in wanted.items():
        lines[line - 1] += f"  # ccf: ignore[{', '.join(names)}]"
    return "\n".join(lines)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(used=st.lists(st.booleans(), min_size=1, max_size=6), unreachable=st.booleans(),
       data=st.data())
def test_a_suppression_removes_exactly_its_diagnostics(tmp_path, used, unreachable, data) -> None:
    text = flow_text(used, unreachable)
    path = write(tmp_path, text)
    before = compile_file(path, lower=False).diagnostics
    # any of the reported warnings, plus suppressions of codes never raised on statement lines
    chosen = data.draw(st.sets(st.sampled_from([(d.span.line, d.code) for d in before]))
                       if before else st.just(set()))
    statement_lines = range(4, text.count("\n") + 1)
    stale = data.draw(st.sets(st.tuples(st.sampled_from(statement_lines),
                                        st.sampled_from(["W200", "W401", "W602"])), max_size=3))
    wanted: dict[int, list[str]] = {}
    for line, code in sorted(chosen | stale):
        wanted.setdefault(line, []).append(code)
    after = compile_file(write(tmp_path, with_comments(text, wanted)), lower=False).diagnostics

    def key(d):
        return (d.code, d.span.line, d.span.column, d.message)

    kept = [key(d) for d in before if (d.span.line, d.code) not in chosen]
    assert sorted(key(d) for d in after if d.code != "W603") == sorted(kept)
    assert sorted((d.span.line, d.message.split()[3]) for d in after if d.code == "W603") == \
        sorted(stale)


def test_a_directive_inside_a_string_is_text(tmp_path) -> None:
    text = WARNINGS.replace('  play tts "never"', '  play tts "# ccf: ignore[W206]"')
    assert [d.code for d in compile_file(write(tmp_path, text), lower=False).diagnostics] == \
        ["W601", "W206"]


def test_validate_help_shows_the_suppression_comment_whole() -> None:
    # rich markup would eat an unescaped `[W206]`
    assert "# ccf: ignore[W206]" in ccf("validate", "--help", env={"COLUMNS": "120"}).stdout
