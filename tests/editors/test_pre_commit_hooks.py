""".pre-commit-hooks.yaml: each hook a real ccf command, and the hooks run as pre-commit
runs them (`pre-commit try-repo` installs this repository in its own virtualenv)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.ccf_cli import ccf
from tests.editors.conftest import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"

UNFORMATTED = textwrap.dedent("""\
    flow hello
    on start:
        answer
        play tts   "Hello"
        hangup
    test "it answers":
      call from "+1"
      expect hangup
    """)


def hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}


def test_the_hooks_are_fmt_validate_and_test_on_ccf_files():
    found = hooks()
    assert set(found) == {"ccf-fmt", "ccf-validate", "ccf-test"}
    for hook in found.values():
        assert hook["language"] == "python"
        assert re.search(hook["files"], "flows/hotline.ccf")
        assert not re.search(hook["files"], "flows/hotline.ccf.orig")
    # fmt rewrites the files a commit changes; validate and test check the whole tree
    assert found["ccf-fmt"].get("pass_filenames", True) is True
    assert found["ccf-validate"]["pass_filenames"] is False
    assert found["ccf-test"]["pass_filenames"] is False


@pytest.mark.parametrize("hook_id", ["ccf-fmt", "ccf-validate", "ccf-test"])
def test_each_entry_is_a_ccf_command_with_its_flags(hook_id):
    hook = hooks()[hook_id]
    program, *command = hook["entry"].split()
    assert program == "ccf"
    helped = ccf(*command, "--help")
    assert helped.exit_code == 0, helped.output
    for arg in hook.get("args", []):
        if arg.startswith("-"):
            assert arg.split("=")[0] in helped.output, arg


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.email=flows@example.com", "-c",
                           "user.name=flows", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def try_repo(flows: Path) -> subprocess.CompletedProcess:
    """`pre-commit try-repo` of this checkout over the flows repository: the hooks as a
    flows repository's commits would run them (pip installs ccdsl from PyPI's packages)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    env = {**os.environ, "PRE_COMMIT_HOME": str(cache / "ccdsl" / "pre-commit"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(Path(sys.executable).parent / "pre-commit"), "try-repo",
                           str(ROOT), "--all-files"],
                          cwd=flows, env=env, capture_output=True, text=True, timeout=900)


def test_pre_commit_runs_the_hooks_on_a_flows_repository(tmp_path):
    assert shutil.which("git"), "git is needed to run pre-commit"
    assert git(ROOT, "ls-files", ".pre-commit-hooks.yaml").strip(), \
        "pre-commit reads the hooks from git: commit .pre-commit-hooks.yaml"
    flows = tmp_path / "flows"
    (flows / "ivr").mkdir(parents=True)
    (flows / "ivr" / "hello.ccf").write_text(UNFORMATTED, encoding="utf-8")
    git(flows, "init", "-q")
    git(flows, "add", "-A")
    git(flows, "commit", "-qm", "a flow")

    first = try_repo(flows)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert re.search(r"ccf fmt\.+Failed", out) and "files were modified by this hook" in out
    assert re.search(r"ccf validate\.+Passed", out), out
    assert re.search(r"ccf test\.+Passed", out), out
    assert ccf("fmt", "--check", str(flows / "ivr" / "hello.ccf")).exit_code == 0

    # a flow that goes nowhere: validate and test fail, saying where
    (flows / "ivr" / "hello.ccf").write_text(
        (flows / "ivr" / "hello.ccf").read_text(encoding="utf-8").replace(
            "  hangup\n", "  goto nowhere\n", 1), encoding="utf-8")
    second = try_repo(flows)
    out = second.stdout + second.stderr
    assert second.returncode == 1, out
    assert re.search(r"ccf fmt\.+Passed", out), out
    assert re.search(r"ccf validate\.+Failed", out), out
    assert re.search(r"ccf test\.+Failed", out), out
    assert "nowhere" in out
