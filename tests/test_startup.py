"""Start-up (issue 15): `ccf` does nothing at import and imports only the command it runs.

Each case runs in a fresh interpreter and reads sys.modules there: what a run imported,
not how long it took (bench/compile.py times the small file's `ccf validate`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"

# what the compiler, the runtime and the help's rich output bring, none of them needed to
# start `ccf` or to pick the command to run
HEAVY = ("lark", "rich", "jsonschema", "sqlite_utils", "asyncio", "starlette", "ccdsl.ast",
         "ccdsl.compiler", "ccdsl.runtime")
# the modules every run imports from cli/, the command's own module aside
BELOW_THE_COMMANDS = {"ccdsl.cli", "ccdsl.cli.main", "ccdsl.cli.lazy_group",
                      "ccdsl.cli.help_text", "ccdsl.cli.exit_codes", "ccdsl.cli.closed_pipe"}


def _modules_after(code: str) -> set[str]:
    """The modules imported once `code` has run in a fresh `python -c`."""
    script = (f"import sys\n{code}\n"
              "import json; print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def _run_ccf(*args: str) -> str:
    """`ccf ARGS` in-process inside the fresh interpreter, its exit swallowed."""
    return ("from ccdsl.cli.main import main\n"
            f"try:\n    main({list(args)!r})\n"
            "except SystemExit:\n    pass")


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _commands(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("ccdsl.cli.")} - BELOW_THE_COMMANDS


def test_importing_ccf_imports_no_command_and_nothing_heavy() -> None:
    modules = _modules_after("import ccdsl.cli.main")
    assert _heavy(modules) == []
    assert _commands(modules) == set()


def test_listing_the_commands_imports_no_compiler_or_runtime() -> None:
    modules = _modules_after(_run_ccf("--help"))
    assert "ccdsl.cli.validate" in modules and "ccdsl.cli.serve" in modules  # all listed
    assert [m for m in _heavy(modules) if m != "rich" and not m.startswith("rich.")] == []


def test_a_command_imports_its_own_module_and_no_other_command() -> None:
    modules = _modules_after(_run_ccf("validate", str(HOTLINE)))
    assert _commands(modules) <= {"ccdsl.cli.validate", "ccdsl.cli.common",
                                  "ccdsl.cli.completion"}
    assert "ccdsl.cli.validate" in modules
    # validate checks a flow: it never runs one, nor serves, nor reports
    assert not [m for m in modules if m.startswith("ccdsl.runtime")]


def test_importing_the_compiler_builds_no_parser() -> None:
    """lark's LALR tables are read or built on the first parse, not at import."""
    code = ("import lark\n"
            "built = []\n"
            "init = lark.Lark.__init__\n"
            "lark.Lark.__init__ = lambda self, *a, **k: (built.append(1), init(self, *a, **k))[1]\n"
            "import ccdsl.compiler.pipeline\n"
            "assert not built, 'a Lark parser was built at import'")
    modules = _modules_after(code)
    assert "ccdsl.compiler.pipeline" in modules


@pytest.mark.parametrize("words", [("calls", "--help"), ("crm", "--help"),
                                   ("validate", "--help")])
def test_help_of_one_command_imports_only_that_command(words: tuple[str, ...]) -> None:
    modules = _modules_after(_run_ccf(*words))
    ours = {m.rsplit(".", 1)[1] for m in _commands(modules)} - {"common", "completion"}
    expected = {"calls": {"calls", "calls_callbacks"}}.get(words[0], {words[0]})
    assert ours == expected
