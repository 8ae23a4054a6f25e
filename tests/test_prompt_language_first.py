"""A prompt's line without its language (`tts "Welcome."` under `prompt welcome:`) is told
to start with the language, the flow's own first language in the example, instead of a
list of tokens that reads `tts` as the language."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.compiler.pipeline import compile_file

FLOW = """flow main:
  languages {languages}

prompt welcome:
  {line}

on start:
  play welcome
  hangup
"""


@pytest.mark.parametrize(("line", "languages", "suggested"), [
    ('tts "Welcome."', "zh-CN, en-US", 'zh-CN tts "Welcome."'),
    ('file "iws/welcome"', "en-US", 'en-US file "iws/welcome"'),
    ('tts "Hello # there"  # greeting', "en-US", 'en-US tts "Hello # there"'),
])
def test_a_prompt_line_without_its_language(tmp_path: Path, line: str, languages: str,
                                            suggested: str) -> None:
    flow = tmp_path / "main.ccf"
    flow.write_text(FLOW.format(line=line, languages=languages), encoding="utf-8")
    [problem] = compile_file(str(flow), lower=False).diagnostics
    assert problem.code == "E001"
    assert problem.message == "a prompt's line starts with its language"
    assert (problem.span.line, problem.span.column, problem.span.end_column) == \
        (5, 3, 3 + len(line.split()[0]))
    assert f"`{suggested}`" in (problem.help or "")
    result = ccf("validate", str(flow))
    assert result.exit_code == 1 and "starts with its language" in result.output


def test_a_prompt_line_with_its_language_compiles(tmp_path: Path) -> None:
    flow = tmp_path / "main.ccf"
    flow.write_text(FLOW.format(line='en-US tts "Welcome."', languages="en-US"),
                    encoding="utf-8")
    assert not compile_file(str(flow), lower=False).diagnostics
