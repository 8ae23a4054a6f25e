"""The HTTP CRM and the recorded calls of the retention CRM tests: a real HTTP server on
127.0.0.1 (http_stand_in) that records what it is told, and `ccf store prune` run in-process."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ccf_cli import ccf
from http_stand_in import JsonHandler
from store_faults.rig import on_disk

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore

TOKEN = "crm-token-7f3a9"
DAY1 = datetime(2026, 11, 28, 9, tzinfo=UTC)
TODAY = datetime.now(UTC).date().isoformat()
# a call id and a file name that must reach the CRM encoded, never as path or query syntax
ODD_ID, ODD_FILE = "c/2?x=1#y", "rec 2 #é.wav"


def crm_handler():
    """A CRM API: `faults` holds the status to answer the next requests with (then 204), a
    (status, body bytes) pair to answer with that body as it is, or "slow" to hold the answer
    until the test sets `release`;
    `seen` each request as (status answered, path as sent, JSON body, Authorization)."""

    class Handler(JsonHandler):
        faults: list[int | str | tuple[int, bytes]] = []  # "slow": no answer until `release` is set
        seen: list[tuple] = []
        lock = threading.Lock()
        release = threading.Event()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with self.lock:
                status = self.faults.pop(0) if self.faults else 204
                status, answer = status if isinstance(status, tuple) else (status, None)
                self.seen.append((status, self.path, body, self.headers.get("Authorization")))
            if status == "slow":
                self.release.wait(60)
                return
            if status == 204:
                self.send_response(204)
                self.end_headers()
            else:
                self.send_json(status, answer or {"error": "injected"})

    return Handler


def told(handler) -> list[tuple[str, str]]:
    """(call id, file) of each request the CRM accepted, in order."""
    found = []
    for status, path, _body, _auth in handler.seen:
        if status == 204:
            parts = urlsplit(path).path.split("/")  # /calls/ID/removed/FILE, each encoded
            found.append((unquote(parts[2]), unquote(parts[4])))
    return found


def write_calls(target: str, folder: Path) -> list[tuple[str, str]]:
    """Three recorded calls on DAY1, a minute apart, their files on disk; (call id, file)."""
    calls = []
    with CallStore(target, timezone="UTC") as store:
        for n, call_id in enumerate(("c1", ODD_ID, "c3")):
            at = DAY1 + timedelta(minutes=n)
            file = folder / (ODD_FILE if call_id == ODD_ID else f"{call_id}.wav")
            for seq, (ms, kind, data) in enumerate((
                    (0, "call_started", {"flow": "desk", "caller": "+8613900000000"}),
                    (10, "recording_started", {"file": str(file)}),
                    (60000, "call_ended", {"outcome": "hangup", "ended_by": "caller"})),
                    start=1):
                store.emit(Event(call_id, seq, at + timedelta(milliseconds=ms), kind, data))
            file.write_bytes(b"RIFF")
            calls.append((call_id, file.name))
    return calls


def config(tmp_path: Path, port: int, *, operation: bool = True, extra: str = "",
           timeout_ms: int = 10_000) -> str:
    """ccf.toml: the recordings folder and the HTTP CRM on `port`, with the recording_removed
    operation (unless not `operation`) and `extra` settings or operations."""
    path = tmp_path / "ccf.toml"
    removed = ('[crm.operations.recording_removed]\nmethod = "POST"\n'
               'url = "/calls/{call_id}/removed/{file}"\n'
               'body = { kind = "{kind}", on = "{removed}", note = "removed: {file}" }\n'
               if operation else "")
    path.write_text(f'[paths]\nrecordings = "recordings"\n'
                    f'[crm]\nadapter = "http"\nbase_url = "http://127.0.0.1:{port}"\n'
                    f'token_env = "CCF_TEST_CRM_TOKEN"\ntimeout_ms = {timeout_ms}\nretries = 1\n'
                    f'backoff_ms = 0\n{extra}'
                    f'[crm.operations.log_call]\nmethod = "POST"\nurl = "/calls"\n{removed}',
                    encoding="utf-8")
    return str(path)


def prune(target: str, toml: str, *more: str):
    return ccf("store", "prune", "--recordings-before", "2026-11-29", "--store", target,
               "--config", toml, *more, env={"CCF_TEST_CRM_TOKEN": TOKEN})


def untold(target: str) -> int:
    [(count,)] = on_disk(target, "SELECT count(*) FROM removed_files WHERE crm_told IS NULL")
    return count
