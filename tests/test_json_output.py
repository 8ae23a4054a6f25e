"""Every JSON ccf writes is JSON: NaN and Infinity are refused with an error saying where
(ccdsl/json_text.py), or written as null where a number can have no value (a report's
share of no calls, a log line), and the product has no other way to write JSON."""

from __future__ import annotations

import ast
import json
import logging
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccdsl import json_text

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("ccdsl", "compiler", "runtime", "cli")


def strict(text: str):
    """json.loads that refuses NaN and Infinity, as other JSON readers do."""
    def refuse(word: str):
        raise AssertionError(f"{word} is not JSON")
    return json.loads(text, parse_constant=refuse)


# ---- no JSON writer but the shared one ----------------------------------------------------


def _plain_writers(path: Path) -> list[str]:
    """Calls in a product module that could write NaN or Infinity: json.dump(s), a
    JSONEncoder or the C encoder not given allow_nan=False, `from json import dumps`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "json":
            found += [f"{path.name}:{node.lineno} from json import {a.name}"
                      for a in node.names if a.name in ("dump", "dumps", "JSONEncoder")]
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = getattr(func, "attr", None) or getattr(func, "id", None)
        owner = getattr(getattr(func, "value", None), "id", None)
        if name in ("dump", "dumps") and owner == "json":
            found.append(f"{path.name}:{node.lineno} json.{name}")
        elif name == "JSONEncoder" and not any(
                k.arg == "allow_nan" and isinstance(k.value, ast.Constant)
                and k.value.value is False for k in node.keywords):
            found.append(f"{path.name}:{node.lineno} JSONEncoder without allow_nan=False")
        elif name == "c_make_encoder" and not (
                len(node.args) == 9 and isinstance(node.args[8], ast.Constant)
                and node.args[8].value is False):
            found.append(f"{path.name}:{node.lineno} c_make_encoder allowing NaN")
    return found


def _product_modules() -> list[Path]:
    return [path for folder in PRODUCT for path in sorted((ROOT / folder).rglob("*.py"))
            if path != ROOT / "ccdsl" / "json_text.py"]


def test_the_product_writes_json_only_through_the_shared_encoder():
    plain = [hit for path in _product_modules() for hit in _plain_writers(path)]
    assert plain == [], "write JSON with ccdsl.json_text.dumps, which refuses NaN and Infinity"


def test_the_rule_finds_what_it_looks_for(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("import json\nfrom json import dumps\njson.dumps(1)\njson.dump(1, f)\n"
                      "json.JSONEncoder(indent=2)\njson.JSONEncoder(allow_nan=False)\n",
                      encoding="utf-8")
    assert len(_plain_writers(module)) == 4
    # and the product does write JSON, all of it through the shared encoder
    uses = sum(path.read_text(encoding="utf-8").count("json_text.dumps(")
               for path in _product_modules())
    assert uses >= 40


# ---- the shared encoder -------------------------------------------------------------------

plain = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                  st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(plain, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=4), inner, max_size=4)), max_leaves=20)


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True


@given(values)
def test_dumps_writes_strict_json_or_refuses_saying_where(value):
    try:
        text = json_text.dumps(value, ensure_ascii=False)
    except json_text.NotJson as exc:
        assert not _finite(value)
        where = json_text.non_finite_at(value)
        assert where is not None and where.startswith("$") and where in str(exc)
        assert "not a finite number" in str(exc)
        return
    assert _finite(value)
    assert strict(text) == json.loads(json.dumps(value))


@given(values)
def test_nulled_is_always_json_and_keeps_finite_values(value):
    text = json_text.dumps(json_text.nulled(value))
    strict(text)
    if _finite(value):
        assert json_text.nulled(value) is value


def test_a_circular_value_is_still_pythons_error():
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular") as caught:
        json_text.dumps(loop)
    assert not isinstance(caught.value, json_text.NotJson)


# ---- the output paths ---------------------------------------------------------------------

NAN_VALUES = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("bad", NAN_VALUES, ids=repr)
def test_a_reports_number_with_no_value_is_null(bad: float):
    from ccdsl.runtime.operations.reports.model import Column, Filters, Options, Report, Section
    from ccdsl.runtime.operations.reports.render_data import to_json

    section = Section("summary", "Summary", (Column("calls", "Calls"),
                                             Column("answered_pct", "Answered %", "pct")),
                      ((0, bad),))
    report = Report(store="calls.db", generated="2026-12-07T10:00:00+00:00", filters=Filters(),
                    options=Options(), sections=(section,))
    document = strict(to_json(report))
    assert document["sections"]["summary"] == [{"calls": 0, "answered_pct": None}]


@pytest.mark.parametrize("bad", NAN_VALUES, ids=repr)
def test_a_log_line_writes_null_for_a_number_that_is_not_finite(bad: float):
    from ccdsl.runtime.operations.log_records import JsonFormatter

    record = logging.LogRecord("ccf", logging.INFO, __file__, 1, "slow", None, None)
    record.took = [1.5, bad]
    line = strict(JsonFormatter().format(record))
    assert line["took"] == [1.5, None] and line["msg"] == "slow"


@pytest.mark.parametrize("bad", NAN_VALUES, ids=repr)
def test_the_consoles_and_apis_json_answers_refuse_it(bad: float):
    from ccdsl.runtime.console.api_routes import reply
    from ccdsl.runtime.console.stream import sse
    from ccdsl.runtime.console.templates import ENV

    assert strict(reply(200, {"ok": True, "wait": 1.5}).body) == {"ok": True, "wait": 1.5}
    with pytest.raises(json_text.NotJson, match=r"\$\.queues\[0\]\.wait = "):
        reply(200, {"ok": True, "queues": [{"wait": bad}]})
    with pytest.raises(json_text.NotJson):
        sse("wall", {"share": bad})
    assert ENV.from_string("{{ v | tojson }}").render(v={"a": [1.5]}) == '{"a": [1.5]}'
    with pytest.raises(json_text.NotJson):
        ENV.from_string("{{ v | tojson }}").render(v={"share": bad})


@pytest.mark.parametrize("bad", NAN_VALUES, ids=repr)
def test_a_command_refuses_it_as_a_bug_never_writing_nan(bad: float, tmp_path: Path,
                                                          monkeypatch, capsys):
    """`ccf config check -f json` with a setting that is not finite (it cannot be one: the
    test makes it so): exit 3, a message saying where, and nothing that is not JSON."""
    from ccdsl.cli.main import main
    from ccdsl.runtime.asterisk import config

    monkeypatch.setattr(config, "summary", lambda centre: [("timeout", bad)])
    monkeypatch.delenv("CCF_DEBUG", raising=False)
    toml = tmp_path / "ccf.toml"
    toml.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["config", "check", "--config", str(toml), "--format", "json"])
    out = capsys.readouterr()
    assert stop.value.code == 3, out
    assert "$.settings.timeout" in out.err and "not a finite number" in out.err
    assert "NaN" not in out.out and "Infinity" not in out.out
