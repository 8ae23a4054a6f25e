"""Values turned into text use the language's own spelling everywhere: `${...}`, `log`,
the trace and run-time error messages say true/false/null, "text", 30s, [1, 2] and
{a: 1}, never Python's True, None or {'a': 1}.

The property: what `spell` writes is a literal a flow could write, and it
evaluates back to the same value; the trace spells an event's value alike."""

from __future__ import annotations

import asyncio
import datetime as dt
import textwrap
from pathlib import Path

from ccf_cli import ccf
from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.compiler.lower import lower_program
from ccdsl.compiler.pipeline import compile_file, program_scopes
from ccdsl.runtime.core.evaluate import equal, evaluate
from ccdsl.runtime.core.values import Duration, Ref, TimeOfDay, spell, to_json, to_text
from ccdsl.runtime.operations.trace import _value as trace_value

# the values an event keeps their kind in (values.to_json): times and dates
# become text there, so the trace can spell them only as their text
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10_000, 10_000),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
        ['"', "\\", "\n", "\t", "$", "{", "}"]), max_size=8),
    st.integers(1, 500).map(lambda n: Duration(n * 1000)),
)
scalars = st.one_of(json_scalars, st.integers(0, 1439).map(TimeOfDay),
                    st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
keys = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True),
                 st.text("ab-. 1", min_size=1, max_size=4))


def _nested(leaves):
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(tuple), st.dictionaries(keys, inner, max_size=3)),
        max_leaves=6)


values = _nested(scalars)
json_values = _nested(json_scalars)


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return equal(a, b)


class _NoContext:
    def get_var(self, name):
        raise AssertionError(name)


def _read_back(tmp_path: Path, literal: str):
    """Compile `x = LITERAL` (the checker may find a list of two types: only
    the syntax and the value matter here) and evaluate its IR."""
    path = tmp_path / "flow.ccf"
    path.write_text(f"flow f\non start:\n  x = {literal}\n  log \"${{x}}\"\n  hangup\n",
                    encoding="utf-8")
    result = compile_file(str(path), lower=False)
    assert not [d for d in result.diagnostics if d.code.startswith("E0")], \
        (literal, result.diagnostics)
    ir = lower_program(result.program, program_scopes(result.program))
    return asyncio.run(evaluate(ir["handlers"]["start"]["body"][0]["value"], _NoContext()))


@settings(max_examples=150, deadline=None)
@given(value=values)
def test_a_spelled_value_reads_back_as_itself(tmp_path_factory, value) -> None:
    text = spell(value)
    back = _read_back(tmp_path_factory.mktemp("spell"), text)
    assert _same(back, value), (value, text, back)


@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_the_trace_spells_a_value_as_the_language_does(value) -> None:
    if isinstance(value, str) and len(value) > 59:
        return
    assert trace_value(to_json(value)) == spell(value)


def test_text_in_interpolation_is_itself_and_null_is_nothing() -> None:
    assert to_text("a \"b\"") == 'a "b"'
    assert to_text(None) == ""
    assert to_text(True) == "true"
    assert to_text({"a": 1, "lang-en": [True, None]}) == '{a: 1, "lang-en": [true, null]}'
    assert to_text(("x", 2)) == '["x", 2]'


def test_logs_and_the_trace_of_a_call_spell_values_as_the_flow_would(tmp_path: Path) -> None:
    flow = tmp_path / "spelling.ccf"
    flow.write_text(textwrap.dedent("""\
        flow spelling:
          languages en-US

        on start:
          answer
          m = {a: 1, flag: true, none: null, list: [1, 2] + [3]}
          log "map ${m}"
          ok = caller.number != ""
          log "ok ${ok}"
          hangup
        """), encoding="utf-8")
    out = ccf("simulate", str(flow)).output
    assert "log: map {a: 1, flag: true, none: null, list: [1, 2, 3]}" in out
    assert "m = {a: 1, flag: true, none: null, list: [1, 2, 3]}" in out
    assert "ok = true" in out and "log: ok true" in out
    assert "True" not in out and "None" not in out and "'a'" not in out


def test_the_trace_names_a_queue_or_rule_given_as_a_value() -> None:
    # `dept = by_choice[choice] ?? general` reads `dept = lost_cards`, not `dept = queue`
    assert trace_value(to_json(Ref("queue", "lost_cards"))) == "lost_cards"
    assert trace_value(to_json([Ref("routing", "to_service")])) == "[to_service]"
    assert trace_value(to_json(Ref("queue", "lost_cards"))) == spell(Ref("queue", "lost_cards"))
