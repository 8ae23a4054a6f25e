"""serve_gc.settle, in a process of its own (it changes the whole process): start-up's
objects frozen, the young generation's threshold raised, the older ones' kept."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
from ccdsl.runtime.asterisk import serve_gc
before = gc.get_threshold()
serve_gc.settle()
after = gc.get_threshold()
assert gc.get_freeze_count() > 0, gc.get_freeze_count()
assert after == (serve_gc.YOUNG_THRESHOLD, *before[1:]), (before, after)
print("ok")
"""


def test_settle_freezes_start_up_and_collects_the_young_less_often() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
