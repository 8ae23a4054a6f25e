"""docs/systemd's units parse: systemd-analyze verify finds nothing to say about them (ExecStart
pointed at this checkout's ccf), and they keep what docs/operations.md promises."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "docs" / "systemd"
INSTALLED_CCF = "/opt/ccf/venv/bin/ccf"


def _parsed(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((UNITS / name).read_text(encoding="utf-8"))
    return parser


def test_systemd_analyze_verify_finds_nothing(tmp_path) -> None:
    # the Makefile installs Debian's systemd, which has systemd-analyze, when it is missing
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: apt-get install systemd"
    ccf = str(Path(sys.executable).with_name("ccf"))
    names = sorted(p.name for p in UNITS.iterdir() if p.suffix in (".service", ".timer"))
    for name in names:
        text = (UNITS / name).read_text(encoding="utf-8").replace(INSTALLED_CCF, ccf)
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in names)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_service_runs_ccf_serve_as_ccf_with_its_secrets_apart() -> None:
    service = _parsed("ccf.service")["Service"]
    assert service["ExecStart"] == f"{INSTALLED_CCF} serve --config /etc/ccf/ccf.toml"
    assert (service["User"], service["Group"]) == ("ccf", "ccf")
    assert service["EnvironmentFile"] == "/etc/ccf/ccf.env"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["StandardError"] == "journal"
    # longer than the default shutdown grace (30s): calls in progress end before SIGKILL
    assert int(service["TimeoutStopSec"]) > 30
    for timer in ("ccf-backup.timer", "ccf-prune.timer"):
        assert _parsed(timer)["Timer"]["OnCalendar"]
    backup = _parsed("ccf-backup.service")["Service"]["ExecStart"]
    assert "ccf store backup" in backup
    env = (UNITS / "ccf.env.example").read_text(encoding="utf-8")
    assert "mode 0600" in env and "CCF_STORE_PASSWORD=" in env


def test_more_workers_on_a_host_by_fastagi_port_with_enough_files() -> None:
    """docs/scale.md: ccf@PORT runs one more worker; every worker may hold thousands of calls,
    each a FastAGI socket."""
    worker = _parsed("ccf@.service")["Service"]
    assert worker["ExecStart"] == (f"{INSTALLED_CCF} serve --config /etc/ccf/ccf.toml "
                                   "--port %i --web-port 0")
    for unit in ("ccf.service", "ccf@.service"):
        assert int(_parsed(unit)["Service"]["LimitNOFILE"]) >= 65536
    assert _parsed("ccf@.service")["Service"]["EnvironmentFile"] == "/etc/ccf/ccf.env"
