"""Calls on the console: the search, a call's page, recordings with range requests, and
an agent kept to the calls they talked in (another's call is the same 404 as none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ccdsl.runtime.core.events import Event

HOSTILE = "<script>alert(1)</script>"
HTML = {"Accept": "text/html"}
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def store_call(store, call_id: str, *, caller: str = "+8613800000001",
               agent: str | None = "zhang", outcome: str = "hangup",
               at: datetime = START, recording: str | None = None,
               voicemail: str | None = None, order: str = "20261128",
               customer: str = "C1001") -> None:
    """A finished call through CallStore.emit, as the interpreter writes one."""
    events = [("call_started", {"caller": caller, "flow": "hotline", "dialled": "4008"}),
              ("step_entered", {"step": "main_menu"}),
              ("menu_choice", {"key": "1", "attempt": 1}),
              ("crm_query", {"operation": "find_customer",
                             "result": {"kind": "customer", "id": customer}}),
              ("step_entered", {"step": "order_lookup"}),
              ("collected", {"name": "order", "value": order})]
    if recording:
        events.append(("recording_started", {"file": recording}))
    if agent:
        events += [("step_entered", {"step": "agent"}),
                   ("queue_joined", {"queue": "service", "priority": 0, "position": 1}),
                   ("agent_offered", {"agent": agent, "via": "queue"}),
                   ("agent_answered", {"agent": agent, "ring_ms": 2000}),
                   ("queue_left", {"queue": "service", "outcome": "answered",
                                   "wait_ms": 5000}),
                   ("conversation_ended", {"agent": agent, "talk_ms": 60000,
                                           "ended_by": "agent"})]
    if voicemail:
        events.append(("voicemail", {"mailbox": "zhang", "stored": True, "file": voicemail,
                                     "duration_ms": 7000}))
    events += [("hangup", {"by": "flow"}), ("call_ended", {"outcome": outcome})]
    for seq, (kind, data) in enumerate(events, 1):
        store.emit(Event(call_id, seq, at + timedelta(seconds=seq), kind, data))
    store.flush()


def audio(console, name: str, size: int = 1000) -> str:
    folder = Path(console.ctx.recordings_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(range(256)) * (size // 256) + bytes(size % 256))
    return str(path)


def test_staff_search_by_caller_agent_outcome_and_dates(console) -> None:
    store_call(console.store, "c-zhang", caller="+8613800000001", agent="zhang")
    store_call(console.store, "c-li", caller="+8613900000002", agent="li")
    store_call(console.store, "c-ab", caller="+8613900000003", agent=None,
               outcome="abandoned")
    store_call(console.store, "c-old", caller="+8613900000004", agent="li",
               at=START - timedelta(days=40))
    web = console.client("sup")
    everything = web.get("/history", headers=HTML)
    assert everything.status_code == 200 and 'id="calls-search"' in everything.text
    assert all(c in everything.text for c in ("c-zhang", "c-li", "c-ab", "c-old"))
    by_number = web.get("/history", params={"caller": "139000000"}).text
    assert "c-li" in by_number and "c-zhang" not in by_number
    by_agent = web.get("/history", params={"agent": "li"}).text
    assert "c-li" in by_agent and "c-old" in by_agent and "c-zhang" not in by_agent
    abandoned = web.get("/history", params={"outcome": "abandoned"}).text
    assert "c-ab" in abandoned and "c-li" not in abandoned
    day = (START - timedelta(days=40)).astimezone(console.store.zone()).date().isoformat()
    one_day = web.get("/history", params={"since": day, "until": day}).text
    assert "c-old" in one_day and "c-li" not in one_day
    assert web.get("/history", params={"outcome": "nonsense"}).status_code == 400
    assert web.get("/history", params={"since": "yesterday"}).status_code == 400


def test_a_search_for_calls_in_progress_and_for_likes_own_signs(console) -> None:
    """`ccf calls list`'s query: no outcome yet is "in progress"; % and _ in a
    number are text, not LIKE's wildcards."""
    store_call(console.store, "done-1", caller="+8613800000001", agent=None)
    store_call(console.store, "odd-1", caller="+86_1%", agent=None)
    console.store.emit(Event("running-1", 1, START, "call_started",
                             {"caller": "+8613800000009", "flow": "hotline"}))
    console.store.flush()
    web = console.client("root")
    running = web.get("/history", params={"outcome": "in_progress"}).text
    assert "running-1" in running and "done-1" not in running
    odd = web.get("/history", params={"caller": "_1%"}).text
    assert "odd-1" in odd and "done-1" not in odd


def test_the_search_pages(console) -> None:
    for n in range(55):
        store_call(console.store, f"p{n:02d}", at=START - timedelta(minutes=n), agent=None)
    web = console.client("root")
    first = web.get("/history").text
    assert "p00" in first and "p54" not in first and 'id="calls-next"' in first
    second = web.get("/history", params={"page": "2"}).text
    assert "p54" in second and "p00" not in second and 'id="calls-prev"' in second


def test_an_agent_sees_only_their_own_calls_whatever_the_query_says(console) -> None:
    store_call(console.store, "mine", agent="zhang")
    store_call(console.store, "theirs", agent="li")
    web = console.client("zhang")
    listing = web.get("/history", params={"agent": "li"}, headers=HTML).text
    assert "mine" in listing and "theirs" not in listing
    own = web.get("/history/mine", headers=HTML)
    assert own.status_code == 200
    other = web.get("/history/theirs", headers=HTML)
    unknown = web.get("/history/no-such-call", headers=HTML)
    assert other.status_code == unknown.status_code == 404
    assert other.text.replace("theirs", "X") == unknown.text.replace("no-such-call", "X")


def test_a_calls_page_has_its_path_events_wrapup_and_player(console) -> None:
    file = audio(console, "c1.wav")
    store_call(console.store, "c1", recording=file)
    console.store.set_wrapup("c1", {"reason": "order status", "resolved": True})
    console.store.flush()
    page = console.client("sup").get("/history/c1", headers=HTML)
    assert page.status_code == 200
    html = page.text
    for element in ('id="call-path"', 'id="call-events"', 'id="call-recording"',
                    'id="call-wrapup"'):
        assert element in html
    assert "20261128" in html and "order status" in html and "main_menu" in html
    assert 'src="/recordings/c1"' in html


def test_recordings_serve_ranges_to_staff_and_the_calls_agent_only(console) -> None:
    file = audio(console, "c2.wav", 1000)
    store_call(console.store, "c2", recording=file, agent="zhang")
    whole = console.client("sup").get("/recordings/c2")
    assert whole.status_code == 200 and len(whole.content) == 1000
    assert whole.headers["content-type"].startswith("audio/")
    part = console.client("zhang").get("/recordings/c2", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"] == "bytes 0-99/1000"
    assert console.client("li").get("/recordings/c2").status_code == 404
    assert console.client("li").get("/recordings/nothing").status_code == 404
    assert console.client().get("/recordings/c2").status_code == 401


def test_a_voicemail_message_is_served_and_a_path_outside_is_not(console, tmp_path) -> None:
    audio(console, "voicemail/zhang/vm1.wav", 500)
    store_call(console.store, "vm1", agent=None, outcome="voicemail",
               voicemail="voicemail/zhang/vm1")
    web = console.client("sup")
    reply = web.get("/recordings/vm1")
    assert reply.status_code == 200 and len(reply.content) == 500
    assert web.get("/recordings/vm1", params={"part": "voicemail"}).status_code == 200
    assert 'id="call-voicemail"' in web.get("/history/vm1").text
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"x" * 10)
    store_call(console.store, "evil1", agent=None, recording=str(secret))
    store_call(console.store, "evil2", agent=None, recording="../secret.wav")
    store_call(console.store, "evil3", agent=None, recording="../../../../etc/passwd")
    for call in ("evil1", "evil2", "evil3"):
        assert web.get(f"/recordings/{call}").status_code == 404, call


def test_hostile_caller_and_crm_values_are_escaped(console) -> None:
    store_call(console.store, "h1", caller=HOSTILE, order=HOSTILE, customer=HOSTILE)
    console.store.set_wrapup("h1", {"note": HOSTILE})
    console.store.flush()
    web = console.client("sup")
    for url in ("/history", "/history/h1", f"/history?caller={HOSTILE}"):
        html = web.get(url, headers=HTML).text
        assert HOSTILE not in html, url
        assert "&lt;script&gt;" in html, url


def test_history_needs_a_log_in(console) -> None:
    reply = console.client().get("/history", headers=HTML)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
    assert console.client().get("/history/c1", headers=HTML).status_code == 303


def test_a_recording_and_a_message_removed_by_retention_say_so(console) -> None:
    from ccdsl.runtime.operations.database import connect
    from ccdsl.runtime.operations.retention import remove_files

    recording = audio(console, "c-old.wav")
    message = audio(console, "voicemail/zhang/c-old-vm.wav")
    store_call(console.store, "c-old", recording=recording, voicemail=message)
    db = connect(console.store.path)
    try:
        for kind in ("recording", "voicemail"):
            done = remove_files(db, kind, 2**62, folder=console.ctx.recordings_dir)
            assert done.files == 1
    finally:
        db.close()
    page = console.client("sup").get("/history/c-old", headers=HTML).text
    today = datetime.now(UTC).date().isoformat()
    assert f'id="call-recording-removed">recording removed on {today}' in page
    assert f'id="call-voicemail-removed">message removed on {today}' in page
    # a link kept elsewhere (a CRM's call log) says what became of the file, not "not found"
    for url, what in (("/recordings/c-old", "recording"),
                      ("/recordings/c-old?part=voicemail", "voicemail message")):
        gone = console.client("sup").get(url)
        assert gone.status_code == 410, url
        assert gone.json()["error"] == (f"the {what} of this call was removed on {today} "
                                        "(retention: ccf store prune)")
    assert console.client("sup").get("/recordings/c1").status_code == 404  # never recorded
