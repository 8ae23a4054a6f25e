"""Languages of prompts: E400 missing, W401 undeclared, E402 malformed
tags, E403 duplicates, W404 used modules without the flow's languages."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.checks.languages import canonical_tag, tag_problem
from ccdsl.compiler.pipeline import compile_file

CODES = {"E400", "W401", "E402", "E403", "W404"}


def diags(tmp_path: Path, text: str, name: str = "flow.ccf") -> list:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return [d for d in compile_file(str(path), lower=False).diagnostics if d.code in CODES]


def test_complete_prompts_are_quiet(tmp_path: Path) -> None:
    assert diags(tmp_path, """
        flow demo:
          languages zh-CN, en-US

        prompt welcome:
          en-US tts "Welcome."
          zh-CN file "iws/welcome"

        on start:
          language "en-US"
          play welcome
          hangup
    """) == []


def test_missing_languages_are_named(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo:
          languages zh-CN, en-US, fr

        prompt welcome:
          zh-CN tts "欢迎"

        on start:
          play welcome
          hangup
    """)
    assert [(d.code, d.span.line, d.span.column, d.span.end_column) for d in result] == [
        ("E400", 4, 8, 15)]
    assert result[0].message == "prompt `welcome` is missing the declared languages en-US, fr"


def test_undeclared_variant_language(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo:
          languages en-US

        prompt welcome:
          en-US tts "Welcome."
          fr-FR tts "Bienvenue."

        on start:
          language "de-DE"
          play welcome
          hangup
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("W401", 6, 3), ("W401", 9, 12)]
    assert "fr-FR" in result[0].message and "de-DE" in result[1].message


def test_malformed_tags_with_a_suggested_spelling(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo:
          languages en_us, zh-hans-cn, english

        prompt welcome:
          en_us tts "Welcome."
          zh-hans-cn tts "欢迎"
          english tts "Welcome."

        on start:
          language "EN"
          hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("E402", 2)] * 3 + [("E402", 5), (
        "E402", 6), ("E402", 7), ("E402", 10)]
    assert result[0].help.startswith("write `en-US`")
    assert result[1].help.startswith("write `zh-Hans-CN`")
    assert result[-1].help.startswith("write `en`")


def test_duplicate_languages(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo:
          languages en-US, en-US

        prompt welcome:
          en-US tts "Welcome."
          en-US tts "Hello."

        on start:
          hangup
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("E403", 2, 20), ("E403", 6, 3)]
    assert result[1].notes == ("first on line 5",)


def test_flow_without_languages_line_is_not_held_to_any(tmp_path: Path) -> None:
    assert diags(tmp_path, """
        flow demo

        prompt welcome:
          en-US tts "Welcome."

        on start:
          play welcome
          hangup
    """) == []


def test_used_module_without_a_language_of_the_entry(tmp_path: Path) -> None:
    (tmp_path / "greetings.ccf").write_text(textwrap.dedent("""
        flow greetings:
          languages en-US

        prompt hello:
          en-US tts "Hello."

        sub greet():
          play hello
    """).lstrip(), encoding="utf-8")
    result = diags(tmp_path, """
        flow demo:
          languages en-US, fr-FR

        use greetings

        on start:
          greetings.greet()
          hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("W404", 4)]
    assert result[0].message == ("module `greetings` has prompts without fr-FR, which this "
                                 "flow declares")
    # a module of the author's own: the fix is in it
    assert result[0].help == "add fr-FR variants to the prompts of `greetings`"


def test_a_module_used_twice_is_warned_of_once(tmp_path: Path) -> None:
    # the second `use` is E101 already; the module's languages are one problem
    result = diags(tmp_path, """
        flow demo:
          languages en-US, fr-FR

        use stdlib.survey
        use stdlib.survey

        on start:
          hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("W404", 4)]


def test_used_module_with_the_same_languages_is_quiet(tmp_path: Path) -> None:
    assert diags(tmp_path, """
        flow demo:
          languages zh-CN, en-US

        use stdlib.voicemail

        on start:
          stdlib.voicemail.leave(for: "service")
          hangup
    """) == []


def test_tag_helpers() -> None:
    assert tag_problem("zh-CN") is None
    assert tag_problem("zh-Hans-CN") is None
    assert tag_problem("fr") is None
    assert tag_problem("zh-cn") is not None
    assert canonical_tag("EN_gb") == "en-GB"
    assert canonical_tag("english") is None
