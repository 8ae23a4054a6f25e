"""`ccf serve -v`'s log as a file or a log collector reads it: stderr not a
terminal gives one record a line, stamped in ISO 8601 with the offset, never
padded or wrapped (`--log-format json`: one object a line); under journald
no stamp of our own but the syslog level prefix; a caller's value with
control characters stays on its line, escaped; "AMI link up" once for one
connection. `ccf serve` runs as a subprocess against the AMI peer and takes
a call from the FastAGI peer, over real sockets."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from datetime import datetime
from pathlib import Path

from doubles.ami_server import AmiPeer

from asterisk.centre import WAIT_S, compiled, place, until, write_config
from asterisk.test_serve import SECRET, centre_config, deploy, line_flow
from ccdsl.runtime.operations.log_records import JsonFormatter, TextFormatter

CCF = Path(sys.executable).with_name("ccf")
ISO_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d) "
                      r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) (ccdsl[.\w]*) (.+)$")
HOSTILE = "+86\x1b[2J138\u202e0001"  # a caller id that clears a screen and reverses text


async def serve_a_call(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
                       stderr=asyncio.subprocess.PIPE) -> tuple[int, str]:
    """`ccf serve -v ARGS` logged in to the AMI peer, one call placed from a
    hostile caller id, stopped by SIGTERM: (exit status, its stderr)."""
    (tmp_path / "line.ccf").write_text(line_flow(1), encoding="utf-8")
    peer = AmiPeer(users={"ccf": SECRET}, queues=("ccf-service", "ccf-support"))
    await peer.start()
    config = write_config(tmp_path, peer.port)
    deploy(centre_config(config), {"line": compiled(tmp_path / "line.ccf")})
    environ = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    proc = await asyncio.create_subprocess_exec(
        str(CCF), "serve", "--config", str(config), "--port", "0", "-v", *args,
        env={**environ, "CCF_AMI_SECRET": SECRET, "COLUMNS": "60", **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=stderr)
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), WAIT_S)).decode()
        assert first.startswith("ccf serve: FastAGI on 127.0.0.1:"), first
        port = int(first.split("127.0.0.1:", 1)[1].split(",", 1)[0])
        await until(lambda: peer.logged_in == 1, "ccf serve to log in to AMI")
        await place(port, "line", "1795652950.1", callerid=HOSTILE)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), WAIT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
        await peer.stop()
    return proc.returncode, (err or b"").decode()


def test_the_log_off_a_terminal_is_one_iso_stamped_record_a_line(tmp_path: Path) -> None:
    code, err = asyncio.run(serve_a_call(tmp_path))
    assert code == 0, err
    lines = err.splitlines()
    assert lines, "ccf serve -v logged nothing"
    for line in lines:
        match = ISO_LINE.match(line)
        assert match, f"not one ISO-stamped record: {line!r}"
        assert datetime.fromisoformat(match.group(1)).utcoffset() is not None
        assert line == line.rstrip(), f"padded: {line!r}"
    messages = [ISO_LINE.match(line).group(4) for line in lines]
    # a record longer than 80 columns stays whole on its line
    assert any(len(line) > 80 for line in lines), lines
    assert sum(m.startswith("AMI link up") for m in messages) == 1, messages
    assert "\x1b" not in err and "\u202e" not in err
    call = [m for m in messages if m.startswith("call 1795652950.1 from")]
    assert call == ["call 1795652950.1 from +86\\x1b[2J138\\u202e0001: flow line (version "
                    + call[0].rsplit("(version ", 1)[1]], messages
    # the stamps are times of this run, in order
    stamps = [datetime.fromisoformat(ISO_LINE.match(line).group(1)) for line in lines]
    assert stamps == sorted(stamps)


def test_log_format_json_is_one_object_a_line(tmp_path: Path) -> None:
    code, err = asyncio.run(serve_a_call(tmp_path, "--log-format", "json"))
    assert code == 0, err
    records = [json.loads(line) for line in err.splitlines()]
    assert records
    for record in records:
        assert {"ts", "level", "logger", "msg"} <= set(record), record
        assert datetime.fromisoformat(record["ts"]).utcoffset() is not None
        assert record["logger"].startswith("ccdsl")
    assert sum(r["msg"].startswith("AMI link up") for r in records) == 1, records
    # JSON keeps the caller's value as it came; the escapes are JSON's own
    assert any(HOSTILE in r["msg"] for r in records), records
    assert "\x1b" not in err and "\u202e" not in err


def test_under_journald_the_log_leaves_the_stamp_to_journald(tmp_path: Path) -> None:
    # journald sets JOURNAL_STREAM to the device:inode of the stream it gave
    # stderr; a file stands in for that stream here
    log_path = tmp_path / "journal"
    with log_path.open("wb") as stream:
        info = os.fstat(stream.fileno())
        code, _ = asyncio.run(serve_a_call(
            tmp_path, env={"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}, stderr=stream))
    err = log_path.read_text(encoding="utf-8")
    assert code == 0, err
    lines = err.splitlines()
    assert lines
    for line in lines:
        assert re.match(r"^<[3-7]>ccdsl[.\w]*: \S", line), line
        assert not re.search(r"\d\d:\d\d:\d\d", line.split(": ", 1)[0]), line
    assert sum(": AMI link up" in line for line in lines) == 1, lines


def test_a_value_with_a_line_break_does_not_split_a_record() -> None:
    record = logging.LogRecord("ccdsl.serve", logging.WARNING, __file__, 1,
                               "call %s from %s", ("1.1", "evil\nINFO ccdsl fake line"), None)
    record.queue = "ccf-service"
    text = TextFormatter().format(record)
    assert "\n" not in text and text.endswith("call 1.1 from evil\\nINFO ccdsl fake line")
    data = json.loads(JsonFormatter().format(record))
    assert data["msg"] == "call 1.1 from evil\nINFO ccdsl fake line"
    assert data["queue"] == "ccf-service" and data["level"] == "WARNING"


def test_an_exception_stays_in_its_record() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("ccdsl.ami", logging.ERROR, __file__, 1, "on_connect failed",
                                   (), sys.exc_info())
    text = TextFormatter().format(record)
    assert "\n" not in text and "ValueError: boom" in text
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exc"]
