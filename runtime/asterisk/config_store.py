"""ccf.toml's [store]: where the call store lives, a PostgreSQL URL beside [paths] store's file.

Reads the document only: must not connect to the store.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ccdsl.runtime.operations.database import PASSWORD_ENV, is_postgres, shown


def store_target(doc: dict, where: str, problems: list[str]) -> str | None:
    """[store] url when given (a postgresql:// URL without its password), else None: the
    caller falls back to [paths] store, a SQLite file."""
    section = doc.get("store") or {}
    url = section.get("url")
    if url is None:
        return None
    if not is_postgres(url):
        problems.append(f"{where}: [store] url must be a postgresql:// URL (a SQLite store is "
                        "named by [paths] store)")
        return None
    if urlsplit(url).password is not None:
        problems.append(f"{where}: [store] url {shown(url)} carries a password; leave it out "
                        f"and set the environment variable {PASSWORD_ENV} instead")
        return None
    if "store" in (doc.get("paths") or {}):
        problems.append(f"{where}: both [paths] store and [store] url name the call store; "
                        "keep one")
        return None
    return url


def flows_in_store(store_path: str, flows_dir: str) -> bool:
    """Whether a centre keeps its deployed flows in the call store's database: always with a
    PostgreSQL store (several workers share it); with SQLite when `[paths] flows` names the
    store's own file."""
    if is_postgres(store_path):
        return True
    return os.path.realpath(flows_dir) == os.path.realpath(store_path)
