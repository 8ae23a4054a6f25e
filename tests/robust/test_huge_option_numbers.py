"""A literal too large for a float as an option's whole number (`collect digits`, a test's
`seed`): E509 says so, never an internal error from the option's own check."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf


@pytest.mark.parametrize("literal", ["1" + "0" * 400 + ".0", "1" + "0" * 5000,
                                     "- 1" + "0" * 400 + ".0"])
def test_a_huge_number_of_digits_is_e509(tmp_path: Path, literal: str) -> None:
    flow = tmp_path / "big.ccf"
    flow.write_text(f"""flow big:
  languages en-US

on start:
  answer
  code = collect digits {literal} timeout 5s prompt tts "Your code?"
  hangup
""", encoding="utf-8")
    result = ccf("validate", str(flow))
    assert result.exit_code == 1, result.output
    assert "E509" in result.output and "internal error" not in result.output
