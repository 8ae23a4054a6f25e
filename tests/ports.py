"""Ports on 127.0.0.1 for the tests and the benches (bench/ puts tests/ on its path).

Must not listen nor keep a socket open: a port handed out is free when it is used.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (bound and released at once): for a server a test
    starts there, or for a peer that must be found down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
