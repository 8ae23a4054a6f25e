"""The example call centre and the standard library compile with no
diagnostics at all, and carry the tests a newcomer reads first."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccdsl import ast
from ccdsl.compiler.loader import TEST_SUFFIX
from ccdsl.compiler.pipeline import compile_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
STDLIB = ROOT / "stdlib_flows"
HOTLINE = EXAMPLES / "iws" / "hotline.ccf"

# Library flows offer sub-flows to callers: each must keep offering these.
STDLIB_SUBS = {
    "voicemail": {"leave", "leave_for_owner"},
    "survey": {"offer"},
    "business_hours": {"announce_closed", "closed_with_choices"},
    "callback": {"offer", "book"},
    "prompt_recording": {"record_by_phone"},
}

# Every path of the hotline a caller can take has a test, by name.
HOTLINE_TESTS = [
    "business hours: a known caller hears the welcome and the menu",
    "after hours: the caller leaves a message for the account owner",
    "holiday: National Day is closed on a weekday morning",
    "make-up working day: open on a Sunday",
    "account owner first: the owner answers before the queue",
    "VIP priority: a VIP caller queues with priority when the owner is busy",
    "skills: technical support goes to an agent with the tech skill",
    "order look-up: found, the status is read",
    "order look-up: not found",
    "order look-up: no number keyed in",
    "main menu: retries exhausted go to an agent",
    "no agent free: voicemail for the account owner",
    "no agent free: the caller asks for a call-back",
    "survey after talking to an agent",
    "English: key 9 switches the menu language",
    "hang-up mid-menu",
]


def _entry_flows() -> list[Path]:
    """Files that `ccf validate examples/` compiles as entries: modules
    that only a sibling `use`s (like orders.ccf) still compile alone."""
    return sorted(p for p in EXAMPLES.rglob("*.ccf") if not p.name.endswith(TEST_SUFFIX))


def _shown(result) -> list[str]:
    return [f"{Path(d.span.file).name}:{d.span.line}:{d.span.column}: {d.code} {d.message}"
            for d in result.diagnostics]


@pytest.mark.parametrize("path", _entry_flows(), ids=lambda p: str(p.relative_to(ROOT)))
def test_example_compiles_with_no_diagnostics(path: Path) -> None:
    result = compile_file(str(path))
    assert _shown(result) == []
    assert result.ir is not None


@pytest.mark.parametrize("name", sorted(STDLIB_SUBS))
def test_stdlib_flow_compiles_with_no_diagnostics(name: str) -> None:
    result = compile_file(str(STDLIB / f"{name}.ccf"))
    assert _shown(result) == []
    assert result.ir is not None


@pytest.mark.parametrize("name", sorted(STDLIB_SUBS))
def test_stdlib_flow_is_a_bilingual_library(name: str) -> None:
    result = compile_file(str(STDLIB / f"{name}.ccf"), lower=False)
    module = result.program.entry_module.module
    header = next(i for i in module.items if isinstance(i, ast.FlowDecl))
    assert header.name == name
    assert [lang.tag for lang in header.languages] == ["zh-CN", "en-US"]
    handlers = [i.event_name for i in module.items if isinstance(i, ast.Handler)]
    assert "start" not in handlers, "a library is used by flows, it is not called directly"
    subs = {i.name for i in module.items if isinstance(i, ast.Sub)}
    assert STDLIB_SUBS[name] <= subs


def test_every_stdlib_file_is_listed_here() -> None:
    files = {p.stem for p in STDLIB.glob("*.ccf") if not p.name.endswith(TEST_SUFFIX)}
    assert files == set(STDLIB_SUBS)


def test_hotline_uses_the_library_and_a_sibling_module() -> None:
    result = compile_file(str(HOTLINE), lower=False)
    names = {m.name for m in result.program.modules.values()}
    assert {"stdlib.voicemail", "stdlib.survey", "stdlib.callback", "stdlib.business_hours",
            "orders"} <= names


def test_hotline_has_a_test_for_every_path() -> None:
    result = compile_file(str(HOTLINE), lower=False)
    names = [t.name.value for t in result.program.tests]
    missing = [n for n in HOTLINE_TESTS if n not in names]
    assert missing == []
    assert len(names) == len(set(names)), "test names are unique"


def test_hotline_tests_live_beside_the_flow() -> None:
    text = (EXAMPLES / "iws" / "hotline.test.ccf").read_text(encoding="utf-8")
    written = [line for line in text.splitlines() if line.startswith('test "')]
    assert len(written) >= len(HOTLINE_TESTS)


@pytest.mark.parametrize(
    "path", sorted([*EXAMPLES.rglob("*.ccf"), *STDLIB.glob("*.ccf")]),
    ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_flows_are_formatted(path: Path) -> None:
    """`ccf fmt --check` passes on every flow a newcomer copies from."""
    from ccdsl.compiler.formatter import format_source

    text = path.read_text(encoding="utf-8")
    formatted, diags = format_source(text, str(path))
    assert diags == []
    assert formatted == text


def test_the_crm_fixture_agents_agree_with_the_agents_file() -> None:
    # one centre, one truth: the CRM's agent records and agents.toml name the
    # same people with the same extensions, skills and states
    import csv

    from ccdsl.runtime.operations.agents_file import load_agents

    iws = EXAMPLES / "iws"
    with (iws / "crm" / "agents.csv").open(encoding="utf-8") as handle:
        crm = {row["id"]: row for row in csv.DictReader(handle)}
    agents = {a.id: a for a in load_agents(str(iws / "agents.toml"))}
    assert set(crm) == set(agents)
    for agent_id, agent in agents.items():
        row = crm[agent_id]
        assert (row["name"], row["extension"]) == (agent.name, agent.extension), agent_id
        assert set(row["skills"].split(";")) == set(agent.skills), agent_id
        assert row["state"] == ("offline" if agent.state == "logged_off" else agent.state)


def test_the_example_readme_counts_the_vip_customers() -> None:
    import csv

    with (EXAMPLES / "iws" / "crm" / "customers.csv").open(encoding="utf-8") as handle:
        vips = [row for row in csv.DictReader(handle) if row["tier"] == "vip"]
    words = {1: "one VIP", 2: "two VIPs", 3: "three VIPs"}
    assert words[len(vips)] in (EXAMPLES / "iws" / "README.md").read_text(encoding="utf-8")
