"""A number a CRM value cannot hold is worded for where it was met: only the import, which
has typed columns, tells the user to give a column the type text."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ccdsl.runtime.core.crm.codec import encode
from ccdsl.runtime.core.crm.http import _json
from ccdsl.runtime.core.crm.importer import ImportFileError, read_records
from ccdsl.runtime.core.errors import ExternalError

BIG = 2**70


def test_a_crm_answer_with_a_number_too_large_names_no_column():
    with pytest.raises(ExternalError, match="too large") as caught:
        _json("find", httpx.Response(200, content=b'{"id": 1e400}'))
    assert "column" not in str(caught.value)
    # a whole number past 64 bits is one a flow holds: only a SQLite cell cannot
    assert _json("find", httpx.Response(200, content=f'{{"id": {BIG}}}'.encode())) == {"id": BIG}


def test_a_flow_value_past_64_bits_names_no_column():
    with pytest.raises(ExternalError, match="too large") as caught:
        encode([1, BIG])
    assert "column" not in str(caught.value)


def test_the_import_still_says_to_give_the_column_the_type_text(tmp_path: Path):
    source = tmp_path / "y.csv"
    source.write_text(f"id,total:number\nY1,{BIG}\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="too large.*type text"):
        read_records(source, "order")
