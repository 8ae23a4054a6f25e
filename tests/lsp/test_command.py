"""`ccf lsp` the command: listed, and pygls loaded only when it runs."""

from __future__ import annotations

import subprocess
import sys

from tests.ccf_cli import ccf


def test_ccf_starts_without_pygls() -> None:
    code = "import sys, ccdsl.cli.main; print(sorted(m for m in sys.modules if 'pygls' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_ccf_lsp_help_names_the_transport() -> None:
    result = ccf("lsp", "--help")
    assert result.exit_code == 0
    assert "stdin/stdout" in result.output and "--tcp" in result.output
