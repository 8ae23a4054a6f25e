"""Logging in and out of the console: passwords, sessions, roles, CSRF."""

from __future__ import annotations

import time

from asterisk.centre import WAIT_S

from ccdsl.runtime.console.sessions import Sessions
from tests.console.rig import PASSWORD


def test_a_wrong_password_is_refused_and_a_right_one_lands_on_the_role_home(console) -> None:
    with console.client() as web:
        bad = web.post("/login", data={"user": "zhang", "password": "nope-nope"})
        assert bad.status_code == 401 and "wrong user id or password" in bad.text
        assert "ccf_session" not in bad.cookies
        good = web.post("/login", data={"user": "zhang", "password": PASSWORD})
        assert good.status_code == 303 and good.headers["location"] == "/desk"
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    with console.client() as web:
        reply = web.post("/login", data={"user": "sup", "password": PASSWORD})
        assert reply.headers["location"] == "/wall"


def test_five_failures_lock_the_id_for_a_while(console) -> None:
    with console.client() as web:
        for _ in range(5):
            assert web.post("/login", data={"user": "li", "password": "x" * 9}).status_code == 401
        locked = web.post("/login", data={"user": "li", "password": PASSWORD})
        assert locked.status_code == 429 and "too many failed log-ins" in locked.text


def test_log_out_needs_the_csrf_token_and_ends_the_session(console) -> None:
    web = console.client("li")
    assert web.post("/logout").status_code == 403  # no token: refused
    token = console.csrf(web)
    reply = web.post("/logout", data={"csrf": token})
    assert reply.status_code == 303 and reply.headers["location"] == "/login"
    assert web.get("/live").status_code == 401
    assert ("agent_logout", "li") in console.control.asked


def test_an_open_redirect_after_log_in_is_refused(console) -> None:
    with console.client() as web:
        reply = web.post("/login", data={"user": "sup", "password": PASSWORD,
                                         "next": "//evil.example/x"})
        assert reply.headers["location"] == "/wall"


def test_a_session_unused_past_its_idle_time_ends(tmp_path) -> None:
    from ccdsl.runtime.operations.console_settings import ConsoleSettings
    from tests.console.rig import Console

    rig = Console(tmp_path, settings=ConsoleSettings(users=str(tmp_path / "users.json"),
                                                     session_idle_s=0.4))
    now = [0.0]  # the sessions' clock: time passes when the test says, however loaded
    rig.app.state.sessions.clock = lambda: now[0]
    try:
        web = rig.client("zhang")
        assert web.get("/me").status_code == 200
        now[0] += 0.6
        assert web.get("/me").status_code == 401
        page = web.get("/desk", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/desk"
    finally:
        rig.close()


def test_sessions_end_at_their_maximum_age_however_busy() -> None:
    now = [0.0]
    sessions = Sessions(idle_s=60, max_s=100, clock=lambda: now[0])
    session = sessions.start("zhang", "agent", agent="zhang")
    for _ in range(9):
        now[0] += 10
        assert sessions.get(session.id) is session
    now[0] = 101
    assert sessions.get(session.id) is None
    assert sessions.get("guessed") is None and sessions.get(None) is None


def test_a_change_from_another_site_is_refused_even_with_the_token(console) -> None:
    web = console.client("li")
    token = console.csrf(web)
    other = web.post("/desk/pause", data={"csrf": token, "reason": "break"},
                     headers={"Origin": "http://evil.example"})
    assert other.status_code == 403 and "another site" in other.json()["error"]
    same = web.post("/desk/pause", data={"csrf": token, "reason": "break"},
                    headers={"Origin": console.base})
    assert same.status_code == 200, same.text
    assert ("agent_pause", "li", True, "break") in console.control.asked


def test_an_agent_whose_session_expires_leaves_the_queues(tmp_path, monkeypatch) -> None:
    from ccdsl.runtime.console import app as app_module
    from ccdsl.runtime.operations.console_settings import ConsoleSettings
    from tests.console.rig import Console

    monkeypatch.setattr(app_module, "SWEEP_S", 0.1)
    rig = Console(tmp_path, settings=ConsoleSettings(users=str(tmp_path / "users.json"),
                                                     session_idle_s=0.3))
    now = [0.0]  # the sessions' clock: the session expires when the test says
    rig.app.state.sessions.clock = lambda: now[0]
    try:
        web = rig.client("zhang")
        joined = web.post("/desk/join", headers={"X-CSRF-Token": rig.csrf(web)})
        assert joined.status_code == 200, joined.text
        assert rig.desk.status("zhang").state == "ready"
        now[0] += 0.5
        deadline = time.monotonic() + WAIT_S
        while rig.desk.status("zhang").state != "logged_out":
            assert time.monotonic() < deadline, "the expired agent stayed in the queues"
            time.sleep(0.05)
        assert rig.control.asked[-1] == ("agent_logout", "zhang")
        # li never had a console session: the sweep leaves agents it did not log in alone
        assert rig.desk.status("li").state == "ready"
    finally:
        rig.close()
