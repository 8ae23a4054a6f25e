"""ccf.toml's [api]: where `ccf serve`'s HTTP API and console listen, its limits and token, and
the address the other workers and `ccf status` reach it at (`advertise`).

Reads the document only: must not resolve names or open sockets (api_advertise.py does that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ccdsl.runtime.asterisk import limits
from ccdsl.runtime.asterisk.config_servers import parse_host_port, shown_host

DEFAULT_API_PORT = 8573
DEFAULT_API_TOKEN_ENV = "CCF_API_TOKEN"
# a bind on these listens on every address of the machine: no address to ask it at
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

_ADVERTISE_FIX = ('expected the address other workers and `ccf status` reach this worker\'s API '
                  'at, "HOST:PORT" or "HOST" (then the port it listens on), such as '
                  '"cc-worker-1.example.com:8573" or "[2001:db8::1]:8573"')


@dataclass(frozen=True)
class ApiConfig:
    """`ccf serve`'s local HTTP API and console (runtime/console/)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_API_PORT
    token_env: str = DEFAULT_API_TOKEN_ENV
    token: str | None = field(default=None, repr=False)  # from the environment
    max_connections: int = limits.API_MAX_CONNECTIONS
    max_unauthenticated: int = limits.API_MAX_UNAUTHENTICATED
    header_timeout_s: float = limits.API_HEADER_TIMEOUT_S
    # (host, port) the workers table says: None, this machine's name on a wildcard bind;
    # a port of None, the port bound
    advertise: tuple[str, int | None] | None = None

    @property
    def address(self) -> str:
        return host_port(self.host, self.port)


def host_port(host: str, port: int) -> str:
    """`host:port`, an IPv6 address in brackets (as a URL and status_at read it)."""
    return f"{shown_host(host)}:{port}"


def parse_advertise(value: str) -> tuple[str, int | None] | str:
    """(host, port or None) of an `advertise` value, or why it is not one."""
    parsed = parse_host_port(value.strip(), port_required=False)
    if not isinstance(parsed, str) and parsed[0] in WILDCARD_HOSTS:
        return (f"{parsed[0]} is every address of the machine, none another one can ask; give "
                "this machine's name or address")
    return parsed


def read_api(doc: Mapping, env: Mapping[str, str], where: str, problems: list[str],
             positive: Callable[..., float]) -> ApiConfig:
    """[api] of a document the schema checked; `positive` reads a limit's duration as
    config.py reads every section's."""
    api_doc = doc.get("api", {})
    token_env = api_doc.get("token_env", DEFAULT_API_TOKEN_ENV)
    advertise = None
    if "advertise" in api_doc:
        parsed = parse_advertise(api_doc["advertise"])
        if isinstance(parsed, str):
            problems.append(f"{where}: api.advertise: {api_doc['advertise']!r} is not valid "
                            f"({parsed}); {_ADVERTISE_FIX}")
        else:
            advertise = parsed
    return ApiConfig(
        host=api_doc.get("host", "127.0.0.1"), port=api_doc.get("port", DEFAULT_API_PORT),
        token_env=token_env, token=env.get(token_env) or None,
        max_connections=api_doc.get("max_connections", limits.API_MAX_CONNECTIONS),
        max_unauthenticated=api_doc.get("max_unauthenticated", limits.API_MAX_UNAUTHENTICATED),
        header_timeout_s=positive(api_doc, "header_timeout", limits.API_HEADER_TIMEOUT_S, "api",
                                  where, problems),
        advertise=advertise)


def advertised(api: ApiConfig, host: str, port: int, machine: Callable[[], str]) -> str:
    """The `host:port` to name for an API bound at host:port; `machine()` this machine's name
    (api_advertise.this_machine: a name lookup, not done here)."""
    if api.advertise is not None:
        name, given = api.advertise
        return host_port(name, given if given is not None else port)
    return reachable(host, port, machine)


def reachable(host: str, port: int, machine: Callable[[], str]) -> str:
    """The `host:port` another machine dials for a socket bound at host:port: `machine()`,
    this machine's name, for a bind on every address, which no one can dial."""
    return host_port(machine() if host in WILDCARD_HOSTS else host, port)


def advertised_summary(api: ApiConfig) -> str:
    """What `ccf config` says the workers table will name (the port bound when none given)."""
    where = advertised(api, api.host, api.port, lambda: "this machine's name")
    if api.advertise is not None:
        return f"{where} ([api] advertise)"
    if api.host in WILDCARD_HOSTS:
        return (f"{where.rpartition(':')[0]}, port {api.port} (bound to every address; "
                "[api] advertise names another)")
    return where
