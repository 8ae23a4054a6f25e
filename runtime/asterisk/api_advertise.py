"""The address the other workers and `ccf status` reach this worker's HTTP API at (the workers
table's `api`): [api] advertise, else the bound address, this machine's name when bound to every
address. Looks up this machine's own name once (a DNS lookup: `resolve` in a thread): must not
ask anything else on the network.
"""

from __future__ import annotations

import functools
import logging
import socket
from collections.abc import Callable

from ccdsl.runtime.asterisk.config_api import (
    WILDCARD_HOSTS,
    ApiConfig,
    advertised,
    host_port,
    reachable,
)

log = logging.getLogger("ccdsl.serve")


@functools.cache
def this_machine() -> str:
    """This machine's name as others find it: its fully qualified name, else its host name
    (a resolver that knows it only as localhost says nothing others can use)."""
    name = socket.getfqdn()
    if not name or name.split(".")[0] == "localhost":
        name = socket.gethostname()
    return name or "localhost"


def reachable_here(bound: tuple[str, int]) -> str:
    """The workers table's FastAGI `address` for the server bound at `bound`: as the API's
    without [api] advertise (this machine's name on 0.0.0.0). May look the name up: call it
    in a thread."""
    return reachable(bound[0], int(bound[1]), this_machine)


class Advertised:
    """WorkerPresence's `api`: the advertised address of the API as bound now (None while it
    does not listen), worked out, and said in the log, once per bound address."""

    def __init__(self, api: ApiConfig, bound: Callable[[], tuple[str, int] | None],
                 machine: Callable[[], str] = this_machine) -> None:
        self.api = api
        self.bound = bound
        self.machine = machine
        self._said: tuple[tuple[str, int], str] | None = None

    def resolve(self) -> None:
        """Look this machine's name up now if it will be advertised: a name lookup may wait
        on DNS, so a server calls this in a thread, and later calls find it known."""
        if self.api.advertise is None and self.api.host in WILDCARD_HOSTS:
            self.machine()

    def planned(self, port: int) -> str | None:
        """Before the API listens: the address it will have (None for any free port)."""
        return advertised(self.api, self.api.host, port, self.machine) if port else None

    def __call__(self) -> str | None:
        bound = self.bound()
        if bound is None:
            return None
        host, port = bound[0], int(bound[1])
        if self._said is not None and self._said[0] == (host, port):
            return self._said[1]
        address = advertised(self.api, host, port, self.machine)
        self._said = (host, port), address
        why = ("[api] advertise" if self.api.advertise is not None
               else "this machine's name: the API listens on every address; [api] advertise "
               "names another" if host in WILDCARD_HOSTS else "the address it listens on")
        log.info("workers: this worker's HTTP API (listening on %s) is advertised to the other "
                 "workers and `ccf status` as %s (%s)", host_port(host, port), address, why)
        return address
