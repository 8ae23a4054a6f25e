"""Instructions a FastAGI call costs a server process of bench/fastagi.py, by callgrind.

`python bench/fastagi_count.py [ccf|raw] [CALLS] [BATCH]` runs the server (`fastagi.py
--serve`) under `valgrind --tool=callgrind` twice: WARMUP calls then CALLS more, BATCH at a
time, and WARMUP calls alone; the difference of the two totals over CALLS is a call's
instructions (the kernel's share of a send or a receive is not counted). Not part of `make
bench`: a count takes minutes. Counts on a shared machine are steady where times are not.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fastagi  # noqa: E402
from fastagi import FLOW, PLAYS, Server, _calls, flow_source  # noqa: E402
from figures import callgrind_total, counts_asked  # noqa: E402

WARMUP = 20


def count(kind: str, folder: str, calls: int, batch: int) -> int:
    """The server's instructions for WARMUP + `calls` calls."""
    out = os.path.join(folder, f"{kind}-{calls}.callgrind")
    server = Server(kind, kind, folder)
    server.argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                   *server.argv]
    server.port = int(server.start(600)[0])

    async def run() -> None:
        await _calls(server, WARMUP)
        done = 0
        while done < calls:
            await _calls(server, min(batch, calls - done))
            done += batch

    try:
        asyncio.run(run())
    finally:
        server.stop(600)
    return callgrind_total(out)


def main() -> int:
    args = sys.argv[1:]
    kind = args.pop(0) if args and args[0] in ("ccf", "raw") else "ccf"
    asked = counts_asked(args, __doc__, [200, 50])
    if isinstance(asked, int):  # help, or a bad argument: its exit status
        return asked
    calls, batch = asked
    os.environ.setdefault("PYTHONHASHSEED", "0")
    fastagi.raise_fd_limit(fastagi.FDS)
    from ccdsl.compiler.pipeline import compile_file

    with tempfile.TemporaryDirectory(prefix="ccf-agi-count-") as folder:
        source = os.path.join(folder, f"{FLOW}.ccf")
        Path(source).write_text(flow_source(), encoding="utf-8")
        Path(folder, "flow.json").write_text(json.dumps(compile_file(source).ir),
                                             encoding="utf-8")
        # the raw responder's lines: ccf serve's for this flow (no sound file: the bare name)
        lines = ["ANSWER", *['STREAM FILE "beep" ""'] * PLAYS, "HANGUP"]
        Path(folder, "commands.json").write_text(json.dumps(lines), encoding="utf-8")
        base = count(kind, folder, 0, batch)
        more = count(kind, folder, calls, batch)
    print(f"{kind}: {(more - base) / calls:,.0f} instructions a call "
          f"({calls} calls, {batch} at a time, after {WARMUP})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
