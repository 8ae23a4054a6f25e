"""Every option the docs and README cite with a `ccf` command (`ccf report --check-asterisk`,
in a code span or a shell line) is an option that command has."""

from __future__ import annotations

import re
from pathlib import Path

from ccf_cli import every_command

ROOT = Path(__file__).resolve().parents[2]


def cited(text: str) -> list[str]:
    return (re.findall(r"`(ccf [^`\n]+)`", text)
            + re.findall(r"^\$? ?(ccf [^\n#]+)", text, re.M))


def test_every_option_the_docs_cite_exists():
    commands = every_command()
    unknown = set()
    pages = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
    for page in pages:
        for line in cited(page.read_text(encoding="utf-8")):
            words = line.split()[1:]
            found: tuple[str, ...] = ()
            for word in words:
                if (*found, word) not in commands:
                    break
                found = (*found, word)
            command = commands.get(found) if found else None
            if command is None or getattr(command, "commands", None):
                continue
            options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            for word in words[len(found):]:
                option = word.split("=")[0].rstrip(",.;:)")
                if option.startswith("--") and option not in options | {"--help"}:
                    unknown.add(f"{page.relative_to(ROOT)}: ccf {' '.join(found)} {option}")
    assert sorted(unknown) == []
