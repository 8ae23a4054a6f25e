"""The grammar's LALR tables written by one process are read back by the next: lark keys
them by the text of its options, the position filter's included, so that text must be
the same in every process (a function's holds its address: the tables would be built
again at every `ccf` start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOADED = "from ccdsl.compiler.grammar import lark_tables_parser; " \
         "print(lark_tables_parser().source_path)"


def _run(cache: Path) -> str:
    env = dict(os.environ, CCF_CACHE_DIR=str(cache))
    done = subprocess.run([sys.executable, "-c", LOADED], env=env, capture_output=True,
                          text=True, check=True, cwd=str(cache.parent))
    return done.stdout.strip()


def test_the_next_process_reads_the_tables_the_first_wrote(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _run(cache) != "<deserialized>"  # built, and written
    assert list(cache.glob("grammar-*.lark-cache"))
    assert _run(cache) == "<deserialized>"  # read back, not built again
    assert _run(cache) == "<deserialized>"
