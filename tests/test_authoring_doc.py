"""docs/authoring.md holds up as a reader follows it: its table of contents
leads to its sections, and its CI recipes parse and their ccf commands pass
on the example flows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from ccf_cli import ccf

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^(```+)[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    prose = FENCE.sub("", markdown)
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose, re.M):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def test_github_anchor_matches_githubs_ids() -> None:
    assert github_anchor("The supervisor's report: `ccf report --format html`") == (
        "the-supervisors-report-ccf-report---format-html")
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}


def test_every_contents_link_leads_to_a_section() -> None:
    links = re.findall(r"\]\(#([^)]+)\)", DOC)
    assert links, "the table of contents links to the sections"
    missing = sorted(set(links) - anchors(DOC))
    assert not missing, f"links to no heading: {missing}"


YAML_BLOCKS = re.findall(r"^```yaml\n(.*?)^```", DOC, re.M | re.S)


def ccf_commands(block: str) -> list[str]:
    """The `ccf ...` commands of a GitHub workflow's `run:` or a GitLab job's `script:`."""
    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "run" and isinstance(value, str):
                    found.append(value)
                elif key == "script" and isinstance(value, list):
                    found.extend(v for v in value if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(block))
    return [line.strip() for line in found if line.strip().startswith("ccf ")]


def test_the_ci_recipes_parse_as_yaml() -> None:
    assert len(YAML_BLOCKS) >= 4, "GitHub Actions, GitLab CI and pre-commit recipes"
    for block in YAML_BLOCKS:
        assert isinstance(yaml.safe_load(block), dict), block


RECIPE_COMMANDS = sorted({c for block in YAML_BLOCKS for c in ccf_commands(block)})


def test_the_recipes_run_ccf() -> None:
    assert any(c.startswith("ccf test ") for c in RECIPE_COMMANDS), RECIPE_COMMANDS
    assert any(c.startswith("ccf validate ") for c in RECIPE_COMMANDS), RECIPE_COMMANDS


@pytest.mark.parametrize("command", RECIPE_COMMANDS)
def test_a_recipe_command_passes_on_the_example_flows(command: str, tmp_path: Path,
                                                      monkeypatch) -> None:
    """A flows repository laid out as the recipes expect (`flows/`) passes each step."""
    flows = tmp_path / "flows"
    flows.mkdir()
    for path in (ROOT / "examples" / "iws").glob("*.ccf"):
        shutil.copy(path, flows / path.name)
    monkeypatch.chdir(tmp_path)
    words = shlex.split(command)
    if ">" in words:  # the shell's redirection: ccf's standard output goes to that file
        words = words[:words.index(">")]
    result = ccf(*words[1:])
    assert result.exit_code == 0, f"{command}\n{result.output}"
