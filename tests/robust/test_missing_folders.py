"""A file a command is told to make (a call store, a backup, a copy, a CRM)
needs its folder to exist: every command says so in the same words, exit 2,
and makes no folder (docs/store.md "Files ccf makes")."""

from __future__ import annotations

from pathlib import Path

from ccf_cli import ccf

from ccdsl.cli.exit_codes import USAGE


def _refused(result, missing: Path) -> None:
    assert result.exit_code == USAGE, result.output
    assert f"there is no folder {missing}" in result.output
    assert not missing.exists()


def test_simulate_store_in_a_missing_folder(tmp_path: Path, welcome_flow: Path):
    missing = tmp_path / "a" / "b"
    _refused(ccf("simulate", str(welcome_flow), "--store", str(missing / "c.db")), missing)


def test_store_copy_into_a_missing_folder(tmp_path: Path, simulated_store: Path):
    missing = tmp_path / "a" / "b"
    _refused(ccf("store", "copy", str(simulated_store), str(missing / "c.db")), missing)


def test_store_backup_into_a_missing_folder(tmp_path: Path, simulated_store: Path):
    missing = tmp_path / "a" / "b"
    _refused(ccf("store", "backup", str(missing / "c.db"), "--store", str(simulated_store)),
             missing)


def test_crm_import_into_a_missing_folder(tmp_path: Path):
    source = tmp_path / "orders.csv"
    source.write_text("id,total:number\nO1,5\n", encoding="utf-8")
    missing = tmp_path / "nonexist"
    result = ccf("crm", "import", str(source), "--type", "order", "--db", str(missing / "x.db"))
    _refused(result, missing)
    assert "SQLite file" not in result.output


def test_serve_simulate_store_in_a_missing_folder(tmp_path: Path, welcome_flow: Path):
    agents = Path(__file__).resolve().parent.parent.parent / "examples" / "iws" / "agents.toml"
    (tmp_path / "agents.toml").write_text(agents.read_text(encoding="utf-8"), encoding="utf-8")
    missing = tmp_path / "a"
    _refused(ccf("serve", "--simulate", str(welcome_flow), "--store", str(missing / "c.db")),
             missing)


def test_a_file_in_an_existing_folder_is_made(tmp_path: Path, welcome_flow: Path,
                                              simulated_store: Path):
    sub = tmp_path / "sub"
    sub.mkdir()
    assert ccf("store", "copy", str(simulated_store), str(sub / "copy.db")).exit_code == 0
    assert ccf("simulate", str(welcome_flow), "--store", str(sub / "s.db")).exit_code == 0
