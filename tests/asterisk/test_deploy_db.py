"""`ccf deploy`, `ccf flows` and `ccf deploy --rollback` on the flow store in the call store's
database (a PostgreSQL [store] url; [paths] flows naming the SQLite store), as on the folder
store: the same commands, the store named in what they say, and no flows folder written."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from ccf_cli import ccf

from ccdsl.runtime.asterisk.flowstore_db import DbFlowStore
from tests.asterisk.test_deploy import IWS, flows_folder


def db_config(tmp_path: Path, target: str) -> Path:
    if target.startswith("postgresql://"):
        where = f'[paths]\nflows = "flows"\n[store]\nurl = "{target}"\n'
    else:
        where = '[paths]\nflows = "calls.db"\nstore = "calls.db"\n'
    path = tmp_path / "ccf.toml"
    path.write_text(where + textwrap.dedent(f"""\
        [agents]
        file = "{IWS / 'agents.toml'}"
        [numbers]
        "4008001234" = "greet"
        """), encoding="utf-8")
    return path


def test_deploy_flows_and_rollback_on_the_database(tmp_path, store_target):
    folder = flows_folder(tmp_path)
    config = db_config(tmp_path, store_target)
    env = {k: v for k, v in os.environ.items() if k == "CCF_STORE_PASSWORD"}
    shown = store_target if store_target.startswith("postgresql://") else \
        str(tmp_path / "calls.db")
    empty = ccf("flows", "-c", str(config), env=env)
    assert empty.exit_code == 0, empty.output
    assert f"Nothing is deployed in the call store {shown} yet" in empty.output
    for note in ("one", "two"):
        result = ccf("deploy", str(folder), "-c", str(config), "--no-apply", "-m", note,
                     env=env)
        assert result.exit_code == 0, result.output
    assert f"Version 0002 is current (greet) in the call store {shown}." in result.output
    listed = json.loads(ccf("flows", "-c", str(config), "--format", "json", env=env).output)
    assert [(v["version"], v["current"], v["note"]) for v in listed] == [
        ("0001", False, "one"), ("0002", True, "two")]
    again = ccf("deploy", str(folder), "-c", str(config), "--dry-run", env=env)
    assert "unchanged  greet" in again.output and "Dialplan: unchanged" in again.output
    back = ccf("deploy", "--rollback", "-c", str(config), "--no-apply", env=env)
    assert back.exit_code == 0, back.output
    assert "Rolled back from version 0002." in back.output
    assert DbFlowStore(store_target).current_version() == "0001"
    # the folder store was never written (tmp_path/flows is the sources' folder here)
    assert not (tmp_path / "flows" / "versions").exists()
    assert not (tmp_path / "flows" / "current").exists()
