"""A call's seed past what the simulator's random numbers take is found by `ccf validate`
(E303), as a negative one is, not only when `ccf test` sets the call up."""

from __future__ import annotations

import json
from pathlib import Path

from ccf_cli import WELCOME_FLOW, ccf


def test_a_seed_too_large_for_the_simulator_is_found_by_validate(tmp_path: Path,
                                                                 monkeypatch) -> None:
    body = '  call from "+8613900000000" seed 99999999999999999999999\n'
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + f'\ntest "a huge seed":\n{body}',
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    checked = ccf("validate", ".", "--format", "json")
    assert checked.exit_code == 1, checked.output
    [diag] = json.loads(checked.stdout)
    assert diag["code"] == "E303" and "seed" in diag["message"], diag
    assert "error: the test does not compile" in ccf("test", ".").stdout


def test_the_largest_seed_the_simulator_takes_passes_validate(tmp_path: Path,
                                                              monkeypatch) -> None:
    body = f'  call from "+8613900000000" seed {(1 << 63) - 1}\n  expect played welcome\n'
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW + f'\ntest "the largest seed":\n{body}',
                                       encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert ccf("validate", ".").exit_code == 0
    assert "1 passed, 0 failed" in ccf("test", ".").stdout
