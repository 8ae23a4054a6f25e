"""`ccf crm import` and `ccf crm show`, called in-process: good files,
bad files, bad types, the default database path, and help text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.runtime.core.crm.sqlite import SqliteCRM

ROOT = Path(__file__).resolve().parent.parent
IWS_CRM = ROOT / "examples" / "iws" / "crm"





@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "crm.db")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_the_iws_fixture_and_show_it(db):
    for kind in ("customer", "agent", "order"):
        result = ccf("crm", "import", str(IWS_CRM / f"{kind}s.csv"), "--type", kind, "--db", db)
        assert result.exit_code == 0, result.output
        assert f"{kind} records from" in result.output and "new, 0 updated" in result.output
    result = ccf("crm", "show", "--db", db)
    assert result.exit_code == 0
    for title in ("agent (4 records)", "customer (5 records)", "order (4 records)"):
        assert title in result.output
    assert "Chen Jing" in result.output and "general, en-US" in result.output
    result = ccf("crm", "show", "--db", db, "--type", "order", "--format", "json")
    orders = json.loads(result.output)
    shipped = next(o for o in orders if o["number"] == "20261128")
    assert shipped["eta"] == "2026-12-03" and shipped["status"] == "shipped"


def test_import_again_updates_by_id(tmp_path, db):
    first = write(tmp_path, "c.csv", "id,phone,tier\nC1,+86 138 0000 0001,regular\n")
    again = write(tmp_path, "c2.json", '[{"id": "C1", "tier": "vip"}, {"phone": "+1 415"}]')
    assert ccf("crm", "import", first, "--type", "customer", "--db", db).exit_code == 0
    result = ccf("crm", "import", again, "-t", "customer", "--db", db)
    assert result.exit_code == 0
    assert "Imported 2 customer records" in result.output and "(1 new, 1 updated)" in result.output
    shown = json.loads(ccf("crm", "show", "--db", db, "-t", "customer", "-f", "json").output)
    assert shown[0] == {"id": "C1", "phone": "+8613800000001", "tier": "vip"}
    assert shown[1]["phone"] == "+1415"


def test_typed_csv_columns(tmp_path, db):
    path = write(tmp_path, "o.csv", "number,total,paid:bool,eta:date,tags:list\n"
                                    "0042,12.50,yes,2026-12-03,a;b\n")
    assert ccf("crm", "import", path, "--type", "order", "--db", db).exit_code == 0
    [order] = SqliteCRM(db).records("order")
    assert order.get("number") == "0042"  # digits alone stay text
    assert order.get("total") == 12.5  # order.total is a number
    assert order.get("paid") is True
    assert order.get("tags") == ("a", "b")
    assert str(order.get("eta")) == "2026-12-03"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("empty.csv", "", "the file is empty"),
    ("header.csv", "id,name\n", "a header row but no records"),
    ("long.csv", "id,name\nC1,a,extra\n", "line 2: 3 values, but the header has 2 columns"),
    ("quote.csv", 'id,name\nC1,"unclosed\n', "not valid CSV"),
    ("space.csv", "id,full name\nC1,a\n", "the column 'full name' is not a field name"),
    ("twice.csv", "id,id\nC1,C2\n", "the column 'id' appears twice"),
    ("kind.csv", "id,n:integer\nC1,1\n", "unknown type 'integer'"),
    ("num.csv", "id,total\nO1,lots\n", "line 2, column total: 'lots' is not a number"),
    ("bad.json", "[{\"id\": 1},", "line 1: not valid JSON"),
    ("obj.json", '{"id": "C1"}', "expected a list of objects (records), found a JSON object"),
    ("nothing.json", "[]", "the list is empty"),
    ("item.json", '[{"id": "C1"}, 7]', "item 1 is a JSON number, not an object"),
    ("notes.txt", "id\n1\n", "expected a .csv or .json file"),
])
def test_import_rejects_bad_files_clearly(tmp_path, db, name, text, message):
    path = write(tmp_path, name, text)
    record_type = "order" if name == "num.csv" else "customer"
    result = ccf("crm", "import", path, "--type", record_type, "--db", db)
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.startswith("error: ")
    assert not SqliteCRM(db).records(record_type)  # nothing half-imported


def test_import_rejects_a_missing_file_and_bad_type_names(tmp_path, db):
    result = ccf("crm", "import", str(tmp_path / "none.csv"), "--type", "customer", "--db", db)
    assert result.exit_code == 2 and "no such file" in result.output
    path = write(tmp_path, "c.csv", "id\nC1\n")
    for bad, message in (("cust omer", "not a valid record type name"),
                         ("call_log", "reserved"), ("_x", "reserved")):
        result = ccf("crm", "import", path, "--type", bad, "--db", db)
        assert result.exit_code == 1 and message in result.output
    result = ccf("crm", "import", path, "--db", db)
    assert result.exit_code == 2 and "--type" in result.output


def test_the_database_path_comes_from_the_environment_or_the_current_directory(
        tmp_path, monkeypatch):
    path = write(tmp_path, "a.csv", "id,name\nli,Li Na\n")
    env_db = tmp_path / "from-env.db"
    result = ccf("crm", "import", path, "--type", "agent", env={"CCF_CRM_DB": str(env_db)})
    assert result.exit_code == 0 and env_db.is_file()
    monkeypatch.chdir(tmp_path)
    result = ccf("crm", "import", path, "--type", "agent", env={"CCF_CRM_DB": ""})
    assert result.exit_code == 0
    assert (tmp_path / "ccdsl-crm.db").is_file()


def test_show_without_a_database_or_with_an_unknown_type(tmp_path, db):
    result = ccf("crm", "show", "--db", db)
    assert result.exit_code == 2
    assert "no CRM database at" in result.output and "ccf crm import" in result.output
    assert not Path(db).exists()  # show never creates one
    path = write(tmp_path, "a.csv", "id\nli\n")
    ccf("crm", "import", path, "--type", "agent", "--db", db)
    result = ccf("crm", "show", "--db", db, "--type", "customer")
    assert result.exit_code == 2 and "it has: agent" in result.output
    assert "no record type 'customer' in the CRM" in result.output
    broken = write(tmp_path, "broken.db", "not a database " * 200)
    result = ccf("crm", "show", "--db", broken)
    # a file that is not SQLite is a database the command cannot use: a usage error
    assert result.exit_code == 2 and "cannot open the CRM database" in result.output


def test_show_json_of_every_type_is_an_object_of_lists(tmp_path, db):
    ccf("crm", "import", write(tmp_path, "a.csv", "id\nli\n"), "--type", "agent", "--db", db)
    ccf("crm", "import", write(tmp_path, "c.json", '[{"id": "C1", "vip": true}]'),
        "--type", "customer", "--db", db)
    data = json.loads(ccf("crm", "show", "--db", db, "--format", "json").output)
    assert data == {"agent": [{"id": "li"}], "customer": [{"id": "C1", "vip": True}]}


def test_help_texts():
    result = ccf("crm", "--help")
    assert result.exit_code == 0
    assert "import" in result.output and "show" in result.output
    result = ccf("crm", "import", "--help")
    assert result.exit_code == 0
    for words in ("--type", "--db", "CCF_CRM_DB", "header"):
        assert words in result.output
    result = ccf("crm", "show", "--help")
    assert result.exit_code == 0 and "--format" in result.output
    assert "crm" in ccf("--help").output


def test_an_unknown_type_names_the_crm_file_escaped(tmp_path: Path) -> None:
    # the file name is the user's: a control character in it must not reach the terminal
    db = str(tmp_path / "c\x1b]0;x\x07rm.db")
    assert ccf("crm", "import", str(IWS_CRM / "customers.csv"), "--type", "customer",
               "--db", db).exit_code == 0
    result = ccf("crm", "show", "--db", db, "--type", "nosuch")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "c\\x1b]0;x\\x07rm.db: `ccf crm show` lists them; it has: customer" in result.stderr
