"""The TextMate grammar (editors/vscode/syntaxes/ccf.tmLanguage.json) as VS Code applies it:
tokenized by vscode-textmate with vscode-oniguruma, the engine of the editor itself."""

from __future__ import annotations

import textwrap

import pytest

from tests.editors import parsed_names
from tests.editors.conftest import ROOT, tokenize

PURPOSE_MADE = textwrap.dedent("""\
    flow demo:
      title "Demo"
    use orders as o
    const patience = 3s
    const greeting = "Hi ${caller.number}\\t${len(o.name)}!"
    prompt hello:
      en-US tts "Hello"
    queue sales skills [general] max_wait 2m
    routing to_sales:
      queue sales
      otherwise -> hangup
    sub ask(who):
      return who
    step main:  # ccf: ignore[W206]
      menu retries 3 timeout 5s:
        prompt hello
        1, 2 -> goto main
        "*" -> hangup
        timeout -> goto main
      record = crm.find(type: "order") on error -> hangup
      wait 1.5s
      digits = collect digits 6..10
    on answered by agent:
      screen_pop call
    test "the menu":
      at "2026-11-30 10:00 Asia/Shanghai"
      press "1"
      expect step main
    """)


@pytest.fixture(scope="module")
def lines(node_modules, tmp_path_factory):
    path = tmp_path_factory.mktemp("tm") / "demo.ccf"
    path.write_text(PURPOSE_MADE, encoding="utf-8")
    return tokenize(path)[str(path)]


def scopes(lines, number: int, text: str, nth: int = 0) -> list[str]:
    """The scopes of the nth token spelt `text` on line `number` (1-based)."""
    found = [t["scopes"] for t in lines[number - 1] if t["text"] == text]
    assert len(found) > nth, f"no token {text!r} on line {number}: {lines[number - 1]}"
    return found[nth]


def innermost(lines, number: int, text: str, nth: int = 0) -> str:
    return scopes(lines, number, text, nth)[-1]


def test_declarations_name_what_they_declare(lines):
    assert innermost(lines, 1, "flow") == "storage.type.declaration.ccf"
    assert innermost(lines, 1, "demo") == "entity.name.namespace.flow.ccf"
    assert innermost(lines, 3, "orders") == "entity.name.namespace.module.ccf"
    assert innermost(lines, 4, "patience") == "variable.other.constant.ccf"
    assert innermost(lines, 6, "hello") == "entity.name.type.prompt.ccf"
    assert innermost(lines, 8, "sales") == "entity.name.type.queue.ccf"
    assert innermost(lines, 9, "to_sales") == "entity.name.type.routing.ccf"
    assert innermost(lines, 12, "ask") == "entity.name.function.sub.ccf"
    assert innermost(lines, 14, "main") == "entity.name.function.step.ccf"
    assert innermost(lines, 23, "answered by agent") == "entity.name.function.handler.ccf"
    assert scopes(lines, 25, '"the menu"')[1:] == ["string.quoted.double.ccf",
                                                  "entity.name.function.test.ccf"]


def test_strings_with_interpolation_and_escapes(lines):
    assert innermost(lines, 5, "Hi ") == "string.quoted.double.ccf"
    assert innermost(lines, 5, "${") == "punctuation.section.interpolation.begin.ccf"
    assert "meta.interpolation.ccf" in scopes(lines, 5, "caller")
    assert innermost(lines, 5, "caller") == "variable.language.builtin.ccf"
    assert innermost(lines, 5, "len") == "support.function.builtin.ccf"
    assert innermost(lines, 5, "\\t") == "constant.character.escape.ccf"
    assert innermost(lines, 5, "}", 1) == "punctuation.section.interpolation.end.ccf"
    # back in the string after the second interpolation
    assert scopes(lines, 5, "!")[1:] == ["string.quoted.double.ccf"]


def test_numbers_durations_and_dates(lines):
    assert innermost(lines, 4, "3") == "constant.numeric.duration.ccf"
    assert innermost(lines, 4, "s") == "keyword.other.unit.ccf"
    assert innermost(lines, 8, "2") == "constant.numeric.duration.ccf"
    assert innermost(lines, 8, "m") == "keyword.other.unit.ccf"
    assert innermost(lines, 21, "1.5") == "constant.numeric.duration.ccf"
    assert innermost(lines, 15, "3") == "constant.numeric.ccf"
    assert innermost(lines, 22, "6") == "constant.numeric.ccf"
    assert innermost(lines, 22, "..") == "keyword.operator.range.ccf"
    assert innermost(lines, 22, "10") == "constant.numeric.ccf"


def test_keywords_are_contextual(lines):
    assert innermost(lines, 15, "menu") == "keyword.control.ccf"
    assert innermost(lines, 10, "queue") == "keyword.other.statement.ccf"
    assert innermost(lines, 21, "wait") == "keyword.other.statement.ccf"
    assert innermost(lines, 22, "collect") == "keyword.other.statement.ccf"
    # `record = ...` assigns a variable named record; `crm.` is the namespace, not the test word
    assert innermost(lines, 20, "record") == "variable.other.ccf"
    assert innermost(lines, 20, "crm") == "support.class.builtin.ccf"
    assert innermost(lines, 20, "find") == "support.function.builtin.ccf"
    assert innermost(lines, 20, "on") == "keyword.control.ccf"
    assert innermost(lines, 13, "return") == "keyword.control.ccf"
    assert innermost(lines, 26, "at") == "keyword.other.test.ccf"
    assert innermost(lines, 28, "expect") == "keyword.other.test.ccf"


def test_menu_keys_and_step_references(lines):
    assert innermost(lines, 17, "1") == "constant.other.key.ccf"
    assert innermost(lines, 17, "2") == "constant.other.key.ccf"
    assert innermost(lines, 18, '"*"') == "constant.other.key.ccf"
    assert innermost(lines, 19, "timeout") == "constant.other.key.ccf"
    assert innermost(lines, 17, "->") == "keyword.operator.arrow.ccf"
    assert innermost(lines, 17, "main") == "entity.name.function.step.ccf"
    assert innermost(lines, 11, "otherwise") == "keyword.control.ccf"
    assert innermost(lines, 27, '"1"') == "constant.other.key.ccf"
    # an option line of the menu is no arm
    assert innermost(lines, 16, "hello") == "variable.other.ccf"


def test_comments_and_the_suppression_comment(lines):
    assert "comment.line.number-sign.suppression.ccf" in scopes(lines, 14, "#")
    assert innermost(lines, 14, "ignore") == "keyword.other.suppression.ccf"
    assert innermost(lines, 14, "W206") == "constant.other.diagnostic-code.ccf"


def test_the_example_hotline(node_modules):
    path = ROOT / "examples" / "iws" / "hotline.ccf"
    lines = tokenize(path)[str(path)]
    text = path.read_text(encoding="utf-8").splitlines()

    def at(marker: str, token: str) -> str:
        number = next(i for i, line in enumerate(text, 1) if marker in line)
        return innermost(lines, number, token)

    assert at("# The IWS customer-service hotline", " The IWS customer-service hotline: the "
              "example call centre of ccdsl.") == "comment.line.number-sign.ccf"
    assert at("step main_menu:", "main_menu") == "entity.name.function.step.ccf"
    assert at("on start:", "start") == "entity.name.function.handler.ccf"
    assert at("max_wait 120s", "120") == "constant.numeric.duration.ccf"
    assert at("closed 2026-01-01", "2026-01-01") == "constant.numeric.date.ccf"
    assert at("mon-fri 09:00-18:00", "09:00") == "constant.numeric.time.ccf"
    assert at("0 -> goto agent", "0") == "constant.other.key.ccf"
    assert at('"error" -> goto agent', '"error"') == "constant.other.key.ccf"
    assert at("not logged in the CRM", "${") == "punctuation.section.interpolation.begin.ccf"
    assert at("not logged in the CRM", "id") == "variable.other.ccf"
    assert at("play welcome", "play") == "keyword.other.statement.ccf"
    assert at("if not office.open():", "not") == "keyword.operator.logical.ccf"
    assert at("zh-CN tts \"对不起", "对不起，您的选择无效。") == "string.quoted.double.ccf"
    # every line tokenizes to its own text: nothing lost or doubled
    assert ["".join(t["text"] for t in tokens) for tokens in lines] == text + [""] * (
        len(lines) - len(text))


# the scopes a name must never have where the parser reads a name
NOT_A_NAME_SCOPES = ("keyword.", "storage.", "string.", "comment.", "constant.language")


def test_a_name_spelt_like_a_keyword_is_scoped_as_a_name(node_modules):
    """Every place the parser reads a name (a parameter, a named argument, a record's field,
    a variable) in every flow of the repository is scoped as a name, never as the keyword
    it is spelt like: `sub leave(for)`, `call: call.id`, `prompt: text`, `for ?? "x"`."""
    flows = parsed_names.flows()
    tokenized = tokenize(*flows)
    wrong = []
    for path in flows:
        lines = tokenized[str(path)]
        for name in parsed_names.names(path):
            column = 1  # in code points, as the parser counts
            for token in lines[name.line - 1]:
                if column <= name.column < column + len(token["text"]):
                    if token["scopes"][-1].startswith(NOT_A_NAME_SCOPES):
                        wrong.append((str(path.relative_to(ROOT)), name.line, name.text,
                                      token["scopes"][-1]))
                    break
                column += len(token["text"])
    assert wrong == []


def test_call_and_agent_open_a_tests_line_and_are_builtins_elsewhere(node_modules, tmp_path):
    path = tmp_path / "words.ccf"
    path.write_text('  call from "+1"\n  agent ann skills [general]\n  screen_pop call\n'
                    "  x = agent.id\n  play closed\n  play tts \"hi\"\n", encoding="utf-8")
    lines = tokenize(path)[str(path)]
    assert innermost(lines, 1, "call") == "keyword.other.test.ccf"
    assert innermost(lines, 2, "agent") == "keyword.other.test.ccf"
    assert innermost(lines, 3, "call") == "variable.language.builtin.ccf"
    assert innermost(lines, 4, "agent") == "variable.language.builtin.ccf"
    assert innermost(lines, 5, "closed") == "variable.other.ccf"
    assert innermost(lines, 6, "tts") == "keyword.other.ccf"
