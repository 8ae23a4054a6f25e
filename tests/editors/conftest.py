"""The editors' tests: node and the extension's npm packages, installed once per session."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "ccf.tmLanguage.json"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """editors/vscode/node_modules, through the Makefile's own rule: `npm ci` (the npm
    registry) only when package-lock.json is newer than what is installed."""
    for tool in ("node", "npm", "make"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is missing: `make test-deps` installs node and npm")
    done = subprocess.run(["make", "-s", "editors/vscode/node_modules/.package-lock.json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return VSCODE / "node_modules"


def tokenize(*files: Path) -> dict[str, list[list[dict]]]:
    """Each file's lines as VS Code's TextMate engine tokenizes them: [{text, scopes}]."""
    done = subprocess.run(["node", "test/tokenize.js", *map(str, files)], cwd=VSCODE,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
