"""The AMI test peer on an event loop of its own thread, for code that runs `asyncio.run`."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from asterisk.centre import WAIT_S

from doubles.ami_server import AmiPeer


@contextlib.contextmanager
def peer_in_thread(peer: AmiPeer | None = None) -> Iterator[AmiPeer]:
    """Run the peer on an event loop of its own thread, for code that runs
    its own `asyncio.run` (an in-process `ccf deploy`, `ccf monitor`, `ccf
    callback` in a test): started on entry, stopped on exit."""
    peer = peer or AmiPeer(auth_failure_delay=0.01)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ami-peer", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(peer.start(), loop).result(WAIT_S)
        yield peer
    finally:
        asyncio.run_coroutine_threadsafe(peer.stop(), loop).result(WAIT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
