"""`ccf graph --store`: the numbers on the graph against real simulated calls through
examples/iws/hotline.ccf kept in a call store, counted again from the calls' own events."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.sim import HangUp, Press
from ccdsl.runtime.sim.scenario import run_simulation, simulation
from tests.ccf_cli import ccf

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
HOTLINE = str(IWS / "hotline.ccf")
CALLS = (
    ("2026-11-30 10:00", (Press("0"), Press("5"))),  # an agent via routing to_service
    ("2026-11-30 10:10", (Press("0"), Press("5"))),
    ("2026-11-30 10:20", (Press("1"), Press("20261128#"), HangUp(after_ms=6_000))),
    ("2026-11-30 10:30", (Press("7"), HangUp(after_ms=2_000))),  # invalid, then hangs up
    ("2026-11-30 10:40", (Press("2"), Press("4"))),  # tech support's queue
    ("2026-11-30 10:50", (HangUp(after_ms=3_000),)),  # hangs up in the menu
    ("2026-12-01 10:00", (Press("0"), Press("5"))),  # a day later (for --since)
)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, list]:
    result = compile_file(HOTLINE)
    assert result.ok and result.ir is not None
    path = str(tmp_path_factory.mktemp("graph") / "calls.db")
    agents = load_agents(str(IWS / "agents.toml"))
    runs = []
    for number, (at, actions) in enumerate(CALLS):
        scenario = simulation(result.ir, caller=f"+861390000{number:04d}",
                              at=f"{at} Asia/Shanghai", actions=actions, agents=agents)
        runs.append(run_simulation(result.ir, scenario, crm_folder=str(IWS / "crm"),
                                   store_path=path))
    return path, runs


def _steps(runs) -> Counter:
    return Counter(e.data["step"] for run in runs for e in run.events
                   if e.kind == "step_entered")


def _last_choices(runs) -> Counter:
    """(step, key) of the last menu choice of each visit of a step."""
    found: Counter = Counter()
    for run in runs:
        step, choice = None, None
        for event in run.events:
            if event.kind in ("step_entered", "handler_entered", "call_ended"):
                if step is not None and choice is not None:
                    found[(step, choice)] += 1
                step = event.data.get("step") if event.kind == "step_entered" else None
                choice = None
            elif event.kind == "menu_choice":
                choice = str(event.data["key"])
    return found


def _label(dot: str, text: str) -> str:
    """The DOT line of the node whose label starts with `text`."""
    lines = [x for x in dot.splitlines() if f'label="{text}\\n' in x]
    assert len(lines) == 1, (text, lines)
    return lines[0]


MAIN_MENU = "menu · hotline.ccf:124"


def _edge_count(dot: str, label: str, source: str | None = None) -> int:
    """The count on the one arrow labelled `label` (out of the node whose
    label starts with `source`)."""
    if source is not None:
        node = re.match(r"\s*(n\d+) ", _label(dot, source)).group(1)
        dot = "\n".join(x for x in dot.splitlines() if x.strip().startswith(f"{node} ->"))
    found = re.findall(rf'label="{re.escape(label)} \((\d+)\)"', dot)
    assert len(found) == 1, (label, found)
    return int(found[0])


def test_nodes_carry_calls_and_drop_offs(store) -> None:
    path, runs = store
    result = ccf("graph", HOTLINE, "--store", path)
    assert result.exit_code == 0, result.output
    dot = result.stdout
    steps = _steps(runs)
    assert steps["main_menu"] > 0
    for step in ("main_menu", "order_lookup", "agent", "tech_support", "after_agent"):
        count = steps[step]
        assert f"\\n{count} call{'s' if count != 1 else ''}" in _label(dot, step)
    assert f"\\n{len(CALLS)} calls" in _label(dot, "on start")
    # the callers who hung up in the menu: after an invalid key, at once, and back
    # from the order status
    dropped = sum(1 for run in runs for e in run.events
                  if e.kind == "hangup" and e.data.get("by") == "caller"
                  and e.data.get("step") == "main_menu")
    assert dropped == 3
    assert "3 hung up here" in _label(dot, "main_menu")


def test_menu_keys_carry_the_choices_made(store) -> None:
    path, runs = store
    dot = ccf("graph", HOTLINE, "--store", path).stdout
    choices = _last_choices(runs)
    assert choices[("main_menu", "0")] == 3
    for key in ("0", "1", "2"):
        assert _edge_count(dot, key, MAIN_MENU) == choices[("main_menu", key)]
    assert _edge_count(dot, "timeout, invalid: again", MAIN_MENU) == (
        choices[("main_menu", "invalid")] + choices[("main_menu", "timeout")])


def test_edges_between_steps_count_the_calls_that_went(store) -> None:
    path, _ = store
    dot = ccf("graph", HOTLINE, "--store", path).stdout
    assert _edge_count(dot, "3. queue service") == 3  # the three calls that pressed 0
    assert _edge_count(dot, "if not office.open()") == 0


def test_since_narrows_the_traffic(store) -> None:
    path, _ = store
    result = ccf("graph", HOTLINE, "--store", path, "--since", "2026-12-01 00:00+08:00")
    assert result.exit_code == 0, result.output
    assert _label(result.stdout, "on start").count("\\n1 call\"") == 1
    assert _edge_count(result.stdout, "0", MAIN_MENU) == 1


def test_a_since_that_cannot_be_read_is_a_usage_error(store) -> None:
    path, _ = store
    result = ccf("graph", HOTLINE, "--store", path, "--since", "yesterday")
    assert result.exit_code == 2
    assert "yesterday" in result.output
    assert "Traceback" not in result.output


def test_mermaid_labels_and_widths_carry_traffic(store) -> None:
    path, _ = store
    text = ccf("graph", HOTLINE, "--store", path, "--format", "mermaid").stdout
    assert re.search(r'-->\|"0 \(3\)"\|', text)
    assert "linkStyle" in text


def test_a_store_that_is_not_one_is_a_usage_error(tmp_path) -> None:
    result = ccf("graph", HOTLINE, "--store", str(tmp_path / "missing.db"))
    assert result.exit_code == 2
    assert "no call store" in result.stderr


def test_the_page_names_its_range_in_the_centres_zone(store, tmp_path) -> None:
    # the call store keeps UTC; the page says the calls' times as the report's covers line
    # does, in the zone the store was made for (the centre's)
    path, _ = store
    out = tmp_path / "hotline.html"
    result = ccf("graph", HOTLINE, "--store", path, "-o", str(out))
    assert result.exit_code == 0, result.output
    covers = re.search(r'<p class="covers">([^<]*)</p>', out.read_text(encoding="utf-8"))
    assert covers is not None
    assert covers.group(1) == (f"Traffic: {len(CALLS)} calls, from 2026-11-30 10:00 to "
                               "2026-12-01 10:00 Asia/Shanghai.")
