"""ccf.toml's several Asterisk servers ([[asterisk]]) and FastAGI workers ([fastagi] srv or hosts).

Checks and reads those keys for config.py; must not read secrets from the file (each server's
comes from the variable it names) nor import config.py (it calls this module).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# a DNS name: letters, digits and hyphens in dot-separated labels (no port: res_agi's
# launch_ha_netscript turns SRV off when the hagi:// host has one)
# a DNS name (labels of letters, digits and hyphens; an underscore may lead a label, as in
# SRV names): the one rule for every host name ccf.toml gives
DNS_NAME = re.compile(r"^(?=.{1,253}\Z)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?\Z")
# where a server names its connection; the rest of [ami] (timeouts, limits) is every server's
_SERVER_KEYS = ("host", "port", "user", "secret_env")
_SECRET_WORDS = ("secret", "password")
# set by `ccf serve` on a call's channel before anything else when [fastagi] hosts lists
# several workers: res_agi's AGISTATUS is FAILURE both when no worker answered and when one
# ran the call but a command failed on it (a missing sound), and only the first may go on
# to the next worker (tried on Asterisk 22.10.1, docs/asterisk.md)
REACHED_VARIABLE = "CCF_AGI_WORKER"
# its value from a worker that takes no call (stopping, or at its max_calls): the next worker
# is tried, where closing the connection alone leaves AGISTATUS=SUCCESS and the fallback
REFUSED_MARK = "refused"


@dataclass(frozen=True)
class AgiWorkers:
    """Where the generated dialplan sends calls, when not [fastagi] host:port: an SRV name
    (hagi://) or hosts tried in turn while AGI() cannot connect (AGISTATUS FAILURE)."""

    srv: str | None = None
    hosts: tuple[tuple[str, int], ...] = ()

    @property
    def failover(self) -> bool:
        """The dialplan tries more than one worker in turn (REACHED_VARIABLE)."""
        return len(self.hosts) > 1


@dataclass(frozen=True)
class AsteriskServer:
    """One Asterisk server `ccf serve` keeps an AMI link to. name "": the single [ami]."""

    name: str
    ami: Any  # config.AmiConfig

    @property
    def label(self) -> str:
        """How messages name it: its name, else its address."""
        return self.name or f"{self.ami.host}:{self.ami.port}"


def agi_script(script: str) -> str:
    """A FastAGI script name as the dialplan writes it: each character
    beyond ASCII percent-encoded as UTF-8 (an ASCII name, `${ARG1}` and
    all, is unchanged)."""
    return "".join(c if c.isascii() else quote(c) for c in script)


def agi_urls(fastagi: Any, workers: AgiWorkers, script: str) -> tuple[str, ...]:
    """Each URL the dialplan's AGI() tries for a script, in order: [fastagi]'s own address
    (fastagi.url) when no srv and no hosts are given."""
    name = agi_script(script)
    if workers.srv:
        return (f"hagi://{workers.srv}/{name}",)
    if workers.hosts:
        return tuple(f"agi://{shown_host(host)}:{port}/{name}" for host, port in workers.hosts)
    return (fastagi.url(script),)


def shown_host(host: str) -> str:
    """A host as a URL or `host:port` writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def read_workers(section: dict, where: str, problems: list[str]) -> AgiWorkers:
    """[fastagi] srv / hosts (the schema checked their types)."""
    srv, hosts = section.get("srv"), section.get("hosts")
    if srv is not None and hosts is not None:
        problems.append(f"{where}: fastagi: srv and hosts are both given; keep one (srv: "
                        "Asterisk finds the workers in DNS; hosts: the dialplan lists them)")
        return AgiWorkers()
    if srv is not None:
        if ":" in srv or not DNS_NAME.fullmatch(srv):
            problems.append(f"{where}: fastagi.srv: {srv!r} is not valid; expected a DNS name "
                            "without a port, such as \"ccf.example.org\" (Asterisk looks up "
                            "_agi._tcp.ccf.example.org; a port would turn that lookup off)")
            return AgiWorkers()
        return AgiWorkers(srv=srv)
    if hosts is None:
        return AgiWorkers()
    if not hosts:
        problems.append(f"{where}: fastagi.hosts: the list is empty; name at least one "
                        "worker such as \"10.0.0.1:4573\", or leave hosts out")
        return AgiWorkers()
    found: list[tuple[str, int | None]] = []  # each with its port: port_required
    for index, item in enumerate(hosts):
        parsed = parse_host_port(item) if isinstance(item, str) else "not a string"
        if isinstance(parsed, str):
            problems.append(f"{where}: fastagi.hosts[{index}]: {item!r} is not valid; expected "
                            "HOST:PORT such as \"10.0.0.1:4573\" or \"[2001:db8::1]:4573\"; "
                            f"{parsed}")
        elif parsed in found:
            problems.append(f"{where}: fastagi.hosts[{index}]: {item!r} is listed twice")
        else:
            found.append(parsed)
    return AgiWorkers(hosts=tuple(found)) if len(found) == len(hosts) else AgiWorkers()


def parse_host_port(text: str, *, port_required: bool = True) -> tuple[str, int | None] | str:
    """(host, port) of "HOST:PORT" or "[IPv6]:PORT", or why it is not one. Without
    port_required also "HOST", "[IPv6]" or a bare IPv6 address, with the port None."""
    if text.startswith("["):
        host, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            return ("an IPv6 address is written in brackets, then :PORT"
                    + ("" if port_required else " if any"))
        port_text = rest[1:] if rest else None
        if not _is_ipv6(host):
            return f"{host!r} in brackets is not an IPv6 address"
    elif text.count(":") > 1:
        if port_required:
            return "an IPv6 address is written in brackets before :PORT"
        host, port_text = text, None
        if not _is_ipv6(host):
            return "more than one ':' and not an IPv6 address"
    else:
        host, colon, port_text = text.partition(":")
        port_text = port_text if colon else None
        if not DNS_NAME.fullmatch(host):
            return f"{host!r} is not a host name or IP address"
    if port_text is None:
        return "no :PORT after the host" if port_required else (host, None)
    # ASCII digits only: str.isdigit and int() also take other scripts' digits
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
        return f"the port {port_text!r} is not a whole number from 1 to 65535"
    return host, int(port_text)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def without_secrets(doc: dict, where: str, problems: list[str]) -> dict:
    """The document without a secret written into an [[asterisk]] server (reported with the
    variable to use instead; the value is never repeated)."""
    servers = doc.get("asterisk")
    if not isinstance(servers, list):
        return doc
    kept = []
    for index, server in enumerate(servers):
        if not isinstance(server, dict):
            kept.append(server)
            continue
        for key in (k for k in _SECRET_WORDS if k in server):
            env = server.get("secret_env", "CCF_AMI_SECRET")
            problems.append(f"{where}: asterisk[{index}].{key}: secrets are not written in the "
                            f"file; remove it and put it in the environment variable {env} "
                            "(this server's secret_env names it)")
        kept.append({k: v for k, v in server.items() if k not in _SECRET_WORDS})
    return {**doc, "asterisk": kept}


def read_servers(doc: dict, make_ami: Callable[[dict], Any], where: str,
                 problems: list[str]) -> tuple[AsteriskServer, ...]:
    """Every [[asterisk]] server, or the [ami] as one unnamed server. make_ami(section)
    builds a config.AmiConfig from a table with host, port, user and secret_env."""
    listed = doc.get("asterisk")
    ami = doc.get("ami", {})
    if listed is None:
        return (AsteriskServer("", make_ami(ami)),)
    both = [k for k in _SERVER_KEYS if k in ami]
    if both:
        problems.append(f"{where}: ami.{', ami.'.join(both)} and [[asterisk]] are both given; "
                        "name every server in [[asterisk]] (the [ami] section keeps the "
                        "timeout and limits, which apply to each)")
    if not listed:
        problems.append(f"{where}: asterisk: the list is empty; add an [[asterisk]] table per "
                        "server, or use [ami] for one")
    out: list[AsteriskServer] = []
    for index, server in enumerate(listed):
        name = server.get("name", "")
        if any(s.name == name for s in out):
            problems.append(f"{where}: asterisk[{index}].name: {name!r} names two servers; "
                            "give each its own name")
        where_to = (server.get("host", "127.0.0.1"), server.get("port", 5038))
        if any((s.ami.host, s.ami.port) == where_to for s in out):
            problems.append(f"{where}: asterisk[{index}]: {where_to[0]}:{where_to[1]} is "
                            "listed twice; each server has its own AMI address")
        out.append(AsteriskServer(name, make_ami(server)))
    return tuple(out)



def servers_of(config: Any) -> tuple[AsteriskServer, ...]:
    """A CentreConfig's servers. The single unnamed one is always `config.ami` as it is now
    (a config built without a file, or with its ami replaced, has no other)."""
    servers = config.servers
    if not servers or (len(servers) == 1 and not servers[0].name):
        return (AsteriskServer("", config.ami),)
    return servers


def ami_rows(config: Any, secret: Callable[[str, bool], str]) -> list[tuple[str, str]]:
    """`ccf config check`'s rows for each server: its AMI address and whether its secret is
    set (never the secret)."""
    rows = []
    for server in servers_of(config):
        ami, name = server.ami, f"ami {server.name}" if server.name else "ami"
        rows.append((name, f"{ami.user}@{ami.host}:{ami.port}"))
        rows.append((f"{name} secret", secret(ami.secret_env, ami.secret is not None)))
    return rows


def missing_secrets(config: Any) -> list[str]:
    """A line for each server whose secret's environment variable is not set (never a
    secret): `ccf config check` warns of each; a command that logs in to every server stops
    at the first."""
    return [f"the AMI secret{f' of the Asterisk server {s.name}' if s.name else ''} is "
            f"missing: set the environment variable {s.ami.secret_env} (the secret of the AMI "
            f"user {s.ami.user} in manager.conf)"
            for s in servers_of(config) if s.ami.secret is None]
