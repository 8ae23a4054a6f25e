"""`ccf crm show` on a CRM with no records says how to fill it (`ccf crm import`), as the
missing CRM's error does, and names the type asked for in the command to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.runtime.core.crm.sqlite import SqliteCRM


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    SqliteCRM(str(path)).close_now()
    return path


def test_showing_an_empty_crm_says_how_to_fill_it(empty: Path) -> None:
    result = ccf("crm", "show", "--db", str(empty))
    assert result.exit_code == 0
    assert " ".join(result.stdout.split()) == (
        f"The CRM {empty} is empty: import records with `ccf crm import FILE --type TYPE`.")


def test_a_type_asked_of_an_empty_crm_gives_the_command_for_that_type(empty: Path) -> None:
    result = ccf("crm", "show", "--db", str(empty), "--type", "customer")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert message == (f"error: no record type 'customer' in the CRM {empty}: it is empty; "
                       "import records with `ccf crm import FILE --type customer`")
    assert "lists them" not in message  # there is nothing for `ccf crm show` to list


def test_an_empty_crm_as_json_is_an_empty_object(empty: Path) -> None:
    result = ccf("crm", "show", "--db", str(empty), "--format", "json")
    assert result.exit_code == 0
    assert result.stdout == "{}\n"
