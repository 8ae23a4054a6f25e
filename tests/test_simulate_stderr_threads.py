"""`ccf simulate`'s standard error prints the trace's held lines first only for writes of the
thread that runs the call: the call store's writer thread logs its warnings through the same
sys.stderr, and must not flush or replace the trace's folding while the call's thread uses it."""

from __future__ import annotations

import io
import sys
import threading

from ccdsl.cli import simulate
from ccdsl.cli.common import TextFormat


def test_a_write_of_another_thread_leaves_the_held_lines_alone(monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(simulate, "write", lambda text, **_kw: shown.append(text.strip()))
    printer = simulate.TracePrinter(TextFormat.text)
    printer.folder.add("00:00.0", "a")
    printer.folder.add("00:01.0", "a")  # may begin a repeat: held
    held_by = printer.folder
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with printer.stderr_after():
        other = threading.Thread(target=lambda: sys.stderr.write("warning: from the writer\n"))
        other.start()
        other.join()
        assert shown == ["00:00.0a"] and printer.folder is held_by  # nothing flushed or begun
        sys.stderr.write("note: from the call's thread\n")
        # the held lines first, and the folding begun again
        assert shown == ["00:00.0a", "00:01.0a"] and printer.folder is not held_by
    assert err.getvalue() == "warning: from the writer\nnote: from the call's thread\n"
