"""`ccf flows` shows when each version was deployed in the centre's zone ([centre] timezone),
as `ccf calls list` shows its times; `--format json` keeps the stored UTC."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ccf_cli import WELCOME_FLOW, ccf


def test_flows_shows_created_in_the_centres_zone(tmp_path: Path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    config = tmp_path / "ccf.toml"
    config.write_text('[centre]\ntimezone = "Asia/Shanghai"\n[paths]\nflows = "store"\n'
                      '[numbers]\n"4008001234" = "desk"\n', encoding="utf-8")
    deployed = ccf("deploy", str(tmp_path / "flows"), "-c", str(config), "--no-apply")
    assert deployed.exit_code == 0, deployed.output
    (version,) = json.loads(ccf("flows", "-c", str(config), "-f", "json").output)
    assert version["created"].endswith("+00:00")  # JSON: the stored UTC
    local = datetime.fromisoformat(version["created"]).astimezone(ZoneInfo("Asia/Shanghai"))
    table = ccf("flows", "-c", str(config)).output
    assert local.isoformat(timespec="seconds") in table, table
