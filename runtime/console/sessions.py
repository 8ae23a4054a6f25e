"""Who is logged in to the console: server-side sessions behind an opaque cookie, with CSRF tokens.

The cookie holds only a random id (HttpOnly, Secure, SameSite=Strict); the role is looked up
on the server for every request. Must not keep a password.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "ccf_session"
MAX_SESSIONS = 10_000  # the oldest go first past this


@dataclass
class Session:
    id: str
    user: str
    role: str
    csrf: str
    created: float
    seen: float
    agent: str | None = None  # the agent id an agent's session acts as
    name: str = ""
    flashes: list[str] = field(default_factory=list)

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, idle_s: float, max_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.max_s = max_s
        self.clock = clock
        self._by_id: dict[str, Session] = {}

    def start(self, user: str, role: str, *, agent: str | None = None,
              name: str = "") -> Session:
        now = self.clock()
        while len(self._by_id) >= MAX_SESSIONS:
            self._by_id.pop(next(iter(self._by_id)))
        session = Session(secrets.token_urlsafe(32), user, role, secrets.token_urlsafe(32),
                          now, now, agent, name)
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of the cookie, touched; None when it is unknown
        or has expired (idle too long, or older than the maximum)."""
        if not session_id:
            return None
        session = self._by_id.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if now - session.seen > self.idle_s or now - session.created > self.max_s:
            del self._by_id[session_id]
            return None
        session.seen = now
        return session

    def sweep(self) -> list[Session]:
        """End every expired session; the ones ended."""
        now = self.clock()
        gone = [s for s in self._by_id.values()
                if now - s.seen > self.idle_s or now - s.created > self.max_s]
        for session in gone:
            del self._by_id[session.id]
        return gone

    def end(self, session_id: str | None) -> Session | None:
        return self._by_id.pop(session_id or "", None)

    def end_user(self, user: str) -> int:
        """Log a user out everywhere (a supervisor logging an agent out)."""
        gone = [k for k, s in self._by_id.items() if s.user == user or s.agent == user]
        for key in gone:
            del self._by_id[key]
        return len(gone)

    def users(self) -> list[Session]:
        now = self.clock()
        return [s for s in self._by_id.values()
                if now - s.seen <= self.idle_s and now - s.created <= self.max_s]
