"""`ccf crm` finds the CRM database from the centre's ccf.toml (--config, $CCF_CONFIG,
./ccf.toml), as `ccf serve` opens it; examples/iws/ccf.toml's own commands do what it says."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
from pathlib import Path

from ccf_cli import ccf

ROOT = Path(__file__).resolve().parent.parent
NO_ENV = {"CCF_CONFIG": "", "CCF_CRM_DB": ""}


def commented_commands() -> list[list[str]]:
    text = (ROOT / "examples" / "iws" / "ccf.toml").read_text(encoding="utf-8")
    return [shlex.split(line.removeprefix("# ccf "))
            for line in text.splitlines() if line.startswith("# ccf crm import")]


def count(db: Path, kind: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f'SELECT count(*) FROM "{kind}"').fetchone()[0]  # a table a type


def test_the_commands_in_the_example_config_fill_its_crm_db(tmp_path, monkeypatch) -> None:
    shutil.copytree(ROOT / "examples" / "iws", tmp_path / "examples" / "iws",
                    ignore=shutil.ignore_patterns("*.db"))
    monkeypatch.chdir(tmp_path)
    commands = commented_commands()
    assert [c[4] for c in commands] == ["customer", "order", "agent"]
    for argv in commands:
        result = ccf(*argv, env=NO_ENV)
        assert result.exit_code == 0, result.output
        assert "examples/iws/crm.db" in result.output
    db = tmp_path / "examples" / "iws" / "crm.db"
    assert count(db, "customer") == 5 and count(db, "order") > 0 and count(db, "agent") > 0
    assert not (tmp_path / "ccdsl-crm.db").exists()
    shown = ccf("crm", "show", "--type", "customer", "--config", "examples/iws/ccf.toml",
                "--format", "json", env=NO_ENV)
    assert shown.exit_code == 0 and "C1001" in shown.stdout


def test_the_database_follows_ccf_toml_here_and_db_wins(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_text("id,name\nC1,Li\n", encoding="utf-8")
    (tmp_path / "ccf.toml").write_text('[crm]\nadapter = "sqlite"\npath = "data/crm.db"\n',
                                       encoding="utf-8")
    (tmp_path / "data").mkdir()
    assert ccf("crm", "import", "c.csv", "-t", "customer", env=NO_ENV).exit_code == 0
    assert count(tmp_path / "data" / "crm.db", "customer") == 1
    assert ccf("crm", "import", "c.csv", "-t", "customer", "--db", "other.db",
               env=NO_ENV).exit_code == 0
    assert (tmp_path / "other.db").is_file()
    # no [crm] section: the file beside ccf.toml that `ccf serve` would open
    (tmp_path / "ccf.toml").write_text("[ami]\nport = 5038\n", encoding="utf-8")
    assert ccf("crm", "import", "c.csv", "-t", "customer", env=NO_ENV).exit_code == 0
    assert (tmp_path / "ccdsl-crm.db").is_file()


def test_an_http_crm_or_a_broken_config_is_a_usage_error(tmp_path) -> None:
    config = tmp_path / "ccf.toml"
    config.write_text('[crm]\nadapter = "http"\nbase_url = "https://crm.example.com/api"\n'
                      '[crm.operations.find_customer]\nurl = "/customers"\n', encoding="utf-8")
    result = ccf("crm", "show", "--config", str(config), env=NO_ENV)
    assert result.exit_code == 2 and "--db" in result.output
    config.write_text("[crm\n", encoding="utf-8")
    result = ccf("crm", "show", "--config", str(config), env=NO_ENV)
    assert result.exit_code == 2 and "not valid TOML" in result.output
