"""Numbers too large for a float never reach a caller, a trace or a store as
`inf`: the compiler refuses such a literal, arithmetic that overflows is a
flow error, the CRM import refuses such a cell, and JSON out is strict JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from ccf_cli import ccf
from hypothesis import given
from hypothesis import strategies as st

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import arithmetic

HUGE = "1" + "0" * 400 + ".5"  # float() of it is inf


def _strict(text: str):
    """json.loads that refuses NaN and Infinity, as every other JSON reader does."""
    def refuse(word: str):
        raise AssertionError(f"{word} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _flow(tmp_path: Path, value: str, handler: str = "") -> Path:
    flow = tmp_path / "big.ccf"
    flow.write_text(f"""flow big:
  languages en-US

on start:
  answer
  y = {value}
  play tts "${{y}}"
  hangup
{handler}""", encoding="utf-8")
    return flow


@pytest.mark.parametrize("literal", [HUGE, "-" + HUGE, "1" + "0" * 400])
def test_a_literal_too_large_for_a_number_is_a_compile_error(tmp_path: Path, literal: str):
    flow = _flow(tmp_path, f"{literal} * 10")
    [problem] = [d for d in compile_file(str(flow), lower=False).diagnostics if d.is_error]
    assert problem.code == "E509" and "too large" in problem.message
    result = ccf("validate", str(flow))
    assert result.exit_code == 1 and "E509" in result.output
    assert ccf("explain", "E509").exit_code == 0


def test_the_largest_float_is_still_a_number(tmp_path: Path):
    flow = _flow(tmp_path, "1" + "0" * 300 + ".5")
    assert not [d for d in compile_file(str(flow), lower=False).diagnostics if d.is_error]


# whole numbers up to 2**1023, each below the largest float
finite = st.one_of(st.integers(min_value=-2**1023, max_value=2**1023),
                   st.floats(allow_nan=False, allow_infinity=False))


@given(op=st.sampled_from("+-*/%"), a=finite, b=finite)
def test_arithmetic_on_finite_numbers_is_finite_or_a_flow_error(op: str, a, b):
    try:
        result = arithmetic(op, a, b, None)
    except FlowError as exc:
        assert "division by zero" in str(exc) or "too large" in str(exc)
        return
    assert math.isfinite(result)


def test_overflowing_arithmetic_takes_the_flows_error_path(tmp_path: Path):
    big = "1" + "0" * 300 + ".5"
    flow = _flow(tmp_path, f"{big} * {big}",
                 '\non error:\n  log "overflow caught"\n  hangup\n')
    result = ccf("simulate", str(flow), "-f", "json")
    assert result.exit_code == 0, result.output
    events = [_strict(line) for line in result.stdout.splitlines() if line.startswith("{")]
    [error] = [e["data"] for e in events if e["kind"] == "error"]
    assert error["message"].startswith("a number too large in 1.000e+300 * 1.000e+300")
    assert [e["data"]["handler"] for e in events if e["kind"] == "handler_entered"] \
        == ["start", "error"]
    assert not [e for e in events if e["kind"] == "prompt_played"]
    store = tmp_path / "s.db"
    assert ccf("simulate", str(flow), "--store", str(store)).exit_code == 0
    shown = ccf("calls", "show", "sim-1", "--store", str(store))
    assert shown.exit_code == 0 and "too large" in shown.output


def test_store_encoder_refuses_non_finite_numbers():
    from ccdsl.runtime.operations.store_record import dumps, encode_json
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError):
            dumps({"value": value})
        with pytest.raises(ValueError):
            encode_json([value])


@pytest.mark.parametrize(("name", "text"), [
    ("y.json", '[{"id": "Y1", "total": 1e400}]'),
    ("y.json", '[{"id": "Y1", "total": NaN}]'),
    ("y.json", '[{"id": "Y1", "extra": {"deep": [-Infinity]}}]'),
    ("y.csv", "id,total:number\nY1,1e400\n"),
    ("y.csv", "id,total:number\nY1,nan\n"),
])
def test_crm_import_refuses_a_number_that_is_not_finite(tmp_path: Path, name: str, text: str):
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    db = str(tmp_path / "crm.db")
    result = ccf("crm", "import", str(source), "--type", "order", "--db", db)
    assert result.exit_code == 1, result.output
    assert "Y1" in result.output or "line 2" in result.output
    assert "finite" in result.output
    shown = ccf("crm", "show", "--db", db, "--format", "json")
    _strict(shown.stdout or "{}")
    assert "Infinity" not in shown.stdout and "NaN" not in shown.stdout


def test_crm_show_json_is_strict_json(tmp_path: Path):
    source = tmp_path / "y.json"
    source.write_text('[{"id": "Y1", "total": 1.5e300}]', encoding="utf-8")
    db = str(tmp_path / "crm.db")
    assert ccf("crm", "import", str(source), "--type", "order", "--db", db).exit_code == 0
    shown = ccf("crm", "show", "--db", db, "--format", "json")
    assert shown.exit_code == 0
    assert _strict(shown.stdout)["order"][0]["total"] == 1.5e300



@pytest.mark.parametrize("body", [b'{"total": 1e400}', b'{"total": NaN}',
                                  b'{"list": [-Infinity]}', b'{"id": 1' + b"0" * 400 + b"}"])
def test_a_json_reply_with_a_number_that_is_not_finite_is_no_json_value(body: bytes):
    import httpx

    from ccdsl.runtime.core.builtins.external import _parsed_json
    from ccdsl.runtime.core.crm.http import _json
    from ccdsl.runtime.core.errors import ExternalError

    reply = httpx.Response(200, content=body)
    value, why = _parsed_json(reply)  # http.get's `json`: null, and why, as the CRM says it
    assert value is None and why.startswith("a number a flow cannot hold: ")
    with pytest.raises(ExternalError, match="cannot hold: .*(finite|too large)") as caught:
        _json("find", reply)
    assert str(caught.value).endswith(why)
    fine = httpx.Response(200, content=b'{"total": 1.5e300, "id": 1180591620717411303424}')
    held = {"total": 1.5e300, "id": 2**70}
    assert _parsed_json(fine) == (held, None) and _json("find", fine) == held
