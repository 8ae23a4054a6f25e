"""A call's seed: `ccf validate` (E303) and `ccf test` take the same seeds, read as the
interpreter reads the number, and refuse the others with the same words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

RULE = "a call's seed is a whole number 0 or more, below 2**63"


def _flow(folder: Path, seed: str) -> None:
    (folder / "desk.ccf").write_text(
        WELCOME_FLOW + f'\ntest "seeded":\n  call from "+8613900000000" seed {seed}\n'
        "  expect played welcome\n", encoding="utf-8")


@pytest.mark.parametrize("seed", ["-0", "-0.0", "7.000", "- -7"])
def test_a_seed_the_runner_takes_passes_validate(tmp_path: Path, monkeypatch,
                                                 seed: str) -> None:
    _flow(tmp_path, seed)
    monkeypatch.chdir(tmp_path)
    checked = ccf("validate", ".")
    assert checked.exit_code == 0, checked.output
    result = ccf("test", ".")
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout


# 2**63 - 1 with a point is read as a float: 2**63, which the simulator does not take
@pytest.mark.parametrize("seed", ["9223372036854775807.0", "7.5", "-1",
                                  "1" + "0" * 400 + ".0"])
def test_a_seed_the_runner_refuses_is_found_by_validate(tmp_path: Path, monkeypatch,
                                                        seed: str) -> None:
    _flow(tmp_path, seed)
    monkeypatch.chdir(tmp_path)
    checked = ccf("validate", ".", "--format", "json")
    assert checked.exit_code == 1, checked.output
    # a number too large to read (E509) is also said so
    [diag] = [d for d in json.loads(checked.stdout) if d["code"] != "E509"]
    assert diag["code"] == "E303" and diag["message"] == RULE, diag
    assert "error: the test does not compile" in ccf("test", ".").stdout


def test_the_runner_refuses_in_the_checks_words() -> None:
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.testing.blocks import _seed

    for value in (2.0 ** 63, 7.5, -1, True, float("inf"), float("nan")):
        with pytest.raises(InputError) as refused:
            _seed(value, None)
        assert str(refused.value).startswith(RULE), refused.value
    assert _seed(-0.0, None) == 0 and _seed(7.0, None) == 7
