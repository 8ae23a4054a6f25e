"""The CRM adapter a configuration names: the embedded SQLite CRM or the HTTP adapter.

Never imports the call store or the interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.crm.base import CRM
from ccdsl.runtime.core.crm.config import CrmConfig, HttpConfig, SqliteConfig, load_config
from ccdsl.runtime.core.crm.http import HttpCRM
from ccdsl.runtime.core.crm.sqlite import SqliteCRM


def open_crm(config: CrmConfig | str | Path | Mapping[str, Any] | None = None) -> CRM:
    """The CRM a configuration describes (anything load_config accepts)."""
    if not isinstance(config, (SqliteConfig, HttpConfig)):
        config = load_config(config)
    if isinstance(config, SqliteConfig):
        return SqliteCRM(config.path, timeout_ms=config.timeout_ms)
    return HttpCRM(config)
