"""Bad input to a command gets a usage error (exit 2) and a message naming
the problem, never an internal error: files that are not UTF-8, numbers too
large for what reads them, options out of any sane range."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

from ccdsl.cli.exit_codes import PROBLEMS, USAGE

ROOT = Path(__file__).resolve().parent.parent.parent
HUGE = "99999999999999999999999999"


@pytest.mark.parametrize("command", [
    ("config", "check"), ("crm", "show"), ("calls", "list"), ("status",),
    ("report",), ("voicemail", "list"), ("flows",), ("serve",),
])
def test_a_config_that_is_not_utf8_is_a_usage_error(tmp_path: Path, command):
    config = tmp_path / "c.toml"
    config.write_bytes(b"\xff")
    result = ccf(*command, "--config", str(config))
    # `config check` found a problem in what it checks, as for a file that is not TOML
    assert result.exit_code == (PROBLEMS if command[0] == "config" else USAGE), result.output
    assert "c.toml" in result.output and "UTF-8" in result.output


def _desk(tmp_path: Path) -> Path:
    flow = tmp_path / "desk.ccf"
    flow.write_text(WELCOME_FLOW, encoding="utf-8")
    return flow


def test_an_agents_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path):
    agents = tmp_path / "agents.toml"
    agents.write_bytes(b'[[agents]]\nid = "\xff"\n')
    result = ccf("simulate", str(_desk(tmp_path)), "--agents", str(agents))
    assert result.exit_code == USAGE, result.output
    assert "agents.toml" in result.output and "UTF-8" in result.output


@pytest.mark.parametrize(("name", "text"), [
    ("agents.json", '{"agents": [{"id": "a", "answer_after": 1e400}]}'),
    ("agents.json", '{"agents": [{"id": "a", "answer_after": NaN}]}'),
    ("agents.toml", '[[agents]]\nid = "a"\nanswer_after = inf\n'),
    ("agents.toml", f'[[agents]]\nid = "a"\nanswer_after = "{"9" * 400}s"\n'),
    ("agents.toml", '[[agents]]\nid = "a"\nanswer_after = "99999999999999999999s"\n'),
    ("agents.json", '{"agents": [{"id": "a", "answer_after": 1e300}]}'),
    ("agents.json", '{"agents": [{"id": "a", "answer_after": -5}]}'),
])
def test_an_answer_after_too_large_is_a_usage_error(tmp_path: Path, name: str, text: str):
    agents = tmp_path / name
    agents.write_text(text, encoding="utf-8")
    result = ccf("simulate", str(_desk(tmp_path)), "--agents", str(agents))
    assert result.exit_code == USAGE, result.output
    assert "answer_after" in result.output


def test_crm_import_refuses_a_whole_number_sqlite_cannot_hold(tmp_path: Path):
    source = tmp_path / "orders.csv"
    source.write_text(f"id,total:number\nO1,{HUGE}\n", encoding="utf-8")
    result = ccf("crm", "import", str(source), "--type", "order",
                 "--db", str(tmp_path / "crm.db"))
    assert result.exit_code == PROBLEMS, result.output
    assert "line 2, column total" in result.output and "too large" in result.output


def test_simulate_refuses_a_crm_folder_with_a_number_sqlite_cannot_hold(tmp_path: Path):
    shutil.copytree(ROOT / "examples" / "iws", tmp_path / "iws")
    orders = tmp_path / "iws" / "crm" / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("total")] = HUGE
    orders.write_text("\n".join([lines[0], ",".join(row)]) + "\n", encoding="utf-8")
    result = ccf("simulate", str(tmp_path / "iws" / "hotline.ccf"))
    assert result.exit_code == USAGE, result.output
    assert "orders.csv, line 2" in result.output and "too large" in result.output


@pytest.mark.parametrize("command", [("calls", "list"), ("voicemail", "list"),
                                     ("calls", "callbacks")])
@pytest.mark.parametrize("limit", ["99999999999999999999999", "1000001", "0"])
def test_a_limit_past_the_maximum_is_a_usage_error(tmp_path: Path, command, limit: str):
    result = ccf(*command, "--limit", limit, "--store", str(tmp_path / "s.db"))
    assert result.exit_code == USAGE, result.output
    assert "--limit" in result.output
    assert not (tmp_path / "s.db").exists()


def test_the_largest_limit_is_taken(tmp_path: Path):
    store = str(tmp_path / "s.db")
    assert ccf("simulate", str(_desk(tmp_path)), "--store", store).exit_code == 0
    result = ccf("calls", "list", "--limit", "1000000", "--store", store)
    assert result.exit_code == 0 and "sim-1" in result.output, result.output


@pytest.mark.parametrize("speed", ["nan", "inf", "-inf", "0", "-1", "1e400"])
def test_serve_simulate_refuses_a_speed_that_is_no_positive_finite_number(
        tmp_path: Path, speed: str):
    result = ccf("serve", "--simulate", str(_desk(tmp_path)), "--speed", speed)
    assert result.exit_code == USAGE, result.output
    assert "--speed" in result.output


@pytest.mark.parametrize("rate", ["nan", "inf", "0"])
def test_serve_simulate_refuses_a_rate_that_is_no_positive_finite_number(
        tmp_path: Path, rate: str):
    result = ccf("serve", "--simulate", str(_desk(tmp_path)), "--rate", rate)
    assert result.exit_code == USAGE, result.output
    assert "--rate" in result.output


@pytest.mark.parametrize("ring", ["nan", "inf"])
def test_monitor_refuses_a_ring_that_is_not_finite(ring: str):
    result = ccf("monitor", "x", "--supervisor", "9000", "--ring", ring)
    assert result.exit_code == USAGE, result.output
    assert "--ring" in result.output
