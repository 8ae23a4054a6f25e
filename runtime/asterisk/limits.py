"""The limits `ccf serve` holds wherever a peer can push: their defaults, and the open-file limit.

Must not open sockets or read ccf.toml (config.py reads the keys); docs/asterisk.md "Limits"
says what happens at each one.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

log = logging.getLogger("ccdsl.serve")

# -- FastAGI ----------------------------------------------------------------------------

# files `ccf serve` needs besides its calls: the listeners, the AMI link, the
# API's connections (64 + 16 + refusals), the call store and the CRM (a
# SQLite file, its journal and shared memory each), stdio, the event loop's own
RESERVED_FDS = 128
# a call's own socket, and one at a time for what it reaches out to: its
# agent's `ccf-answered` connection, a CRM or webhook request, a text-to-
# speech pipe. Past the limit accept() waits (EMFILE is backed off), so an
# estimate on the high side only turns callers away sooner
FDS_PER_CALL = 2
# memory and Asterisk bound it long before files do on a machine whose hard
# limit is a million: a single Asterisk rarely carries more channels
MAX_CALLS_CEILING = 5000
HEADER_TIMEOUT_S = 5.0  # Asterisk sends the whole agi_ block at once
# a sound this host cannot measure (Asterisk's own, or a folder it does not
# share) may play this long before its reply is overdue
PROMPT_TIMEOUT_S = 120.0

# -- the HTTP API -----------------------------------------------------------------------

API_MAX_CONNECTIONS = 64  # authenticated requests at once
API_MAX_UNAUTHENTICATED = 16  # connections still sending their headers
API_HEADER_TIMEOUT_S = 2.0  # to send the request line and headers

# -- AMI ----------------------------------------------------------------------------------

AMI_MAX_CHANNELS = 10_000  # live channels mirrored; the oldest are evicted past it
AMI_CHANNEL_IDLE_S = 4 * 3600.0  # a channel with no event for this long is forgotten
AMI_STORE_RATE = 200  # AMI events kept in the call store per second, at most


@dataclass(frozen=True)
class OpenFiles:
    before: int  # the soft limit `ccf serve` started with
    soft: int  # the soft limit now
    hard: int


def raise_open_files() -> OpenFiles:
    """Raise the soft RLIMIT_NOFILE to the hard limit (a process may, without
    privileges): a server started at the common 1,024 would otherwise turn
    calls away long before the machine is busy."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if target == resource.RLIM_INFINITY:
        target = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else soft
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target,
                        exc)
            return OpenFiles(soft, soft, hard)
        return OpenFiles(soft, target, hard)
    return OpenFiles(soft, soft, hard)


def open_file_limit() -> int:
    """The soft RLIMIT_NOFILE now (a very large number when unlimited)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1 << 30 if soft == resource.RLIM_INFINITY else soft


def fitted_max_calls(open_files: int | None = None) -> int:
    """The default of `[fastagi] max_calls`: what the open-file limit leaves
    for calls (FDS_PER_CALL each after RESERVED_FDS), at most
    MAX_CALLS_CEILING, at least 1."""
    nofile = open_file_limit() if open_files is None else open_files
    return max(1, min(MAX_CALLS_CEILING, (nofile - RESERVED_FDS) // FDS_PER_CALL))


def connection_limit(max_calls: int) -> int:
    """FastAGI connections open at once: the calls, plus room for agents'
    `ccf-answered` connections and for calls being turned away (their
    header read, then closed). Past it the listener stops accepting."""
    return max_calls + max(16, max_calls // 2)
