"""`ccf.toml`: how a centre runs on Asterisk, checked against ccf.schema.json into a CentreConfig.

Must not read secrets from the file: they come from the environment variables it names.
Every problem is reported at once (ConfigError.problems); docs/asterisk.md lists the keys.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ccdsl.runtime.asterisk import config_servers, limits, names
from ccdsl.runtime.asterisk.config_api import (  # noqa: F401 (importers name ApiConfig here)
    DEFAULT_API_TOKEN_ENV,
    ApiConfig,
    advertised_summary,
    read_api,
)
from ccdsl.runtime.asterisk.config_servers import agi_script
from ccdsl.runtime.asterisk.config_store import flows_in_store, store_target
from ccdsl.runtime.core.crm.config import DEFAULT_DB as DEFAULT_CRM_FILE
from ccdsl.runtime.core.crm.config import CrmConfig, CrmConfigError, HttpConfig
from ccdsl.runtime.core.crm.config import load_config as load_crm_config
from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.redact import shown_url
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.callback_policy import DEFAULT_POLICY, CallbackPolicy, read_policy
from ccdsl.runtime.operations.centre_time import ZoneError, zone_named
from ccdsl.runtime.operations.console_settings import ConsoleSettings, console_settings
from ccdsl.runtime.operations.database import PASSWORD_ENV as STORE_PASSWORD_ENV

CONFIG_NAME = "ccf.toml"
DEFAULT_SECRET_ENV = "CCF_AMI_SECRET"
DEFAULT_INTERFACE = "PJSIP/{extension}"
DEFAULT_OUTBOUND = "PJSIP/{number}@trunk"
DEFAULT_POP_TIMEOUT = "3s"
SCHEMA_FILE = Path(__file__).with_name("ccf.schema.json")

# keys that would hold a secret if someone wrote one: the message names the
# environment variable to use instead, and the value is never echoed
_SECRET_KEYS = {
    "ami": ("secret", "password"),
    "crm": ("token", "secret", "password"),
    "api": ("token", "secret", "password"),
    "screen_pop": ("token", "secret", "password"),
    "store": ("password", "secret"),
}
# the variable a section's token is read from when its token_env is not given
_TOKEN_ENVS = {"api": DEFAULT_API_TOKEN_ENV, "screen_pop": "CCF_SCREEN_POP_TOKEN"}
_INTERFACE_FIELDS = {"extension", "agent"}
_TTS_FIELDS = {"voice", "language", "out", "text"}  # runtime.asterisk.tts fills these
_OUTBOUND_FIELDS = {"number"}


class ConfigError(Exception):
    """A ccf.toml that cannot be used; `problems` lists each one as
    "where: what is wrong; how to fix it"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class AmiConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    user: str = "ccf"
    secret_env: str = DEFAULT_SECRET_ENV
    # read from the environment at load time; never shown (repr=False)
    secret: str | None = field(default=None, repr=False)
    timeout_s: float = 5.0
    # limits where Asterisk (or anything speaking AMI) can push: limits.py
    max_channels: int = limits.AMI_MAX_CHANNELS
    channel_idle_s: float = limits.AMI_CHANNEL_IDLE_S
    store_rate: int = limits.AMI_STORE_RATE


@dataclass(frozen=True)
class FastAgiConfig:
    host: str = "127.0.0.1"
    port: int = 4573
    max_calls: int | None = None  # None: fitted to the open-file limit when serving
    header_timeout_s: float = limits.HEADER_TIMEOUT_S
    prompt_timeout_s: float = limits.PROMPT_TIMEOUT_S

    def url(self, script: str) -> str:
        """The agi:// URL of a script served by `ccf serve`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        # a flow named in another script (`热线`) travels percent-encoded, so
        # extensions.conf and the agi_ header stay ASCII; agi.py decodes it
        return f"agi://{host}:{self.port}/{agi_script(script)}"


@dataclass(frozen=True)
class ScreenPopSettings:
    """Where screen pops go besides the AMI UserEvent (runtime/operations/screenpop.py)."""

    url: str | None = None
    token_env: str | None = None
    token: str | None = field(default=None, repr=False)  # from the environment
    timeout_s: float = 3.0


@dataclass(frozen=True)
class AgentsConfig:
    file: str | None = None
    interface: str = DEFAULT_INTERFACE
    agents: tuple = ()  # agents_file.AgentSpec, in the file's order (member order)


@dataclass(frozen=True)
class DialplanTarget:
    """An extension in a dialplan context: where calls go when the server
    cannot finish them."""

    extension: str
    context: str

    @property
    def goto(self) -> str:
        """The argument of Goto() / the AGI SET CONTEXT+EXTENSION pair."""
        return f"{self.context},{self.extension},1"

    def __str__(self) -> str:
        return f"{self.extension}@{self.context}"


@dataclass(frozen=True)
class CentreConfig:
    path: str
    ami: AmiConfig
    fastagi: FastAgiConfig
    sounds_dir: str
    recordings_dir: str
    tts_cache_dir: str
    tts_command: tuple[str, ...] | None  # None: runtime.asterisk.tts's default (espeak-ng)
    flows_dir: str
    store_path: str
    crm: CrmConfig
    crm_token_env: str | None
    agents: AgentsConfig
    numbers: Mapping[str, str]  # dialled number -> flow name
    # the device that rings a number outside the centre ({number}); the
    # generated transfer context dials numbers with it
    outbound_interface: str = DEFAULT_OUTBOUND
    shutdown_grace_s: float = 30.0
    fallback: DialplanTarget | None = None
    api: ApiConfig = ApiConfig()
    screen_pop: ScreenPopSettings = ScreenPopSettings()
    console: ConsoleSettings = ConsoleSettings()
    # the centre's zone ([centre] timezone), kept in a new call store for
    # reports and listings; None: the machine's zone when they are made
    timezone: str | None = None
    # [callbacks]: how ccf serve retries the in-queue call-backs callers book
    callbacks: CallbackPolicy = DEFAULT_POLICY

    servers: tuple[config_servers.AsteriskServer, ...] = ()  # [[asterisk]] (or [ami]: one)
    workers: config_servers.AgiWorkers = config_servers.AgiWorkers()  # [fastagi] srv / hosts
    # whether the CRM token's variable is set in the environment the file was
    # read with (None: the CRM uses no token)
    crm_token_set: bool | None = None


@cache
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> CentreConfig:
    """Read and check a ccf.toml. Raises ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    file = Path(path)
    where = str(file)
    try:
        with file.open("rb") as stream:
            doc = tomllib.load(stream)
    except FileNotFoundError:
        raise ConfigError([f"{where}: no such file; write one (examples/iws/ccf.toml is a "
                           "working example) or name it with --config PATH"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{where}: is a directory; name the ccf.toml file itself"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: not valid TOML ({exc}); fix the syntax"]) from None
    except UnicodeDecodeError as exc:  # tomllib reads UTF-8 only
        raise ConfigError([f"{where}: not UTF-8 text (byte {exc.start}); save it as "
                           "UTF-8"]) from None
    except OSError as exc:
        raise ConfigError([f"{where}: cannot be read ({exc.strerror})"]) from None
    return config_from_document(doc, file, env)


def config_from_document(doc: dict, file: Path, env: Mapping[str, str]) -> CentreConfig:
    where = str(file)
    problems: list[str] = []
    doc = config_servers.without_secrets(_without_secrets(doc, where, problems), where, problems)
    problems.extend(_schema_problems(doc, where))
    problems.extend(_control_characters(doc, where))
    if problems:
        raise ConfigError(problems)
    base = file.resolve().parent  # absolute: the server may run from anywhere

    def resolve(value: str) -> str:
        expanded = Path(value).expanduser()
        return str(expanded if expanded.is_absolute() else base / expanded)

    ami_doc = doc.get("ami", {})
    idle_s = _positive(ami_doc, "channel_idle", limits.AMI_CHANNEL_IDLE_S, "ami", where,
                       problems)

    def ami_of(server: dict) -> AmiConfig:  # [ami]'s timeout and limits are every server's
        secret_env = server.get("secret_env", DEFAULT_SECRET_ENV)
        return AmiConfig(host=server.get("host", "127.0.0.1"), port=server.get("port", 5038),
                         user=server.get("user", "ccf"), secret_env=secret_env,
                         secret=env.get(secret_env) or None,
                         timeout_s=_seconds(ami_doc.get("timeout", "5s")),
                         max_channels=ami_doc.get("max_channels", limits.AMI_MAX_CHANNELS),
                         channel_idle_s=idle_s,
                         store_rate=ami_doc.get("store_rate", limits.AMI_STORE_RATE))
    servers = config_servers.read_servers(doc, ami_of, where, problems)
    workers = config_servers.read_workers(doc.get("fastagi", {}), where, problems)
    agi_doc = doc.get("fastagi", {})
    fastagi = FastAgiConfig(
        host=agi_doc.get("host", "127.0.0.1"), port=agi_doc.get("port", 4573),
        max_calls=agi_doc.get("max_calls"),
        header_timeout_s=_positive(agi_doc, "header_timeout", limits.HEADER_TIMEOUT_S,
                                   "fastagi", where, problems),
        prompt_timeout_s=_positive(agi_doc, "prompt_timeout", limits.PROMPT_TIMEOUT_S,
                                   "fastagi", where, problems))
    paths = doc.get("paths", {})

    tts_command = doc.get("tts", {}).get("command")
    if tts_command is not None:
        problems.extend(_placeholder_problems(
            tts_command, _TTS_FIELDS, f"{where}: tts.command", need=None,
            fix='such as ["espeak-ng", "-v", "{voice}", "-w", "{out}", "--stdin"]'))

    outbound = doc.get("outbound", {}).get("interface", DEFAULT_OUTBOUND)
    problems.extend(_placeholder_problems(
        [outbound], _OUTBOUND_FIELDS, f"{where}: outbound.interface", need="number",
        fix='a device template such as "PJSIP/{number}@trunk"'))
    crm, token_env = _crm(doc, file, problems)
    agents = _agents(doc.get("agents", {}), where, resolve, problems)

    api = read_api(doc, env, where, problems, _positive)
    pop_doc = doc.get("screen_pop", {})
    # the same variable `ccf simulate --screen-pop-url` reads when none is named
    pop_token_env = pop_doc.get("token_env", _TOKEN_ENVS["screen_pop"])
    screen_pop = ScreenPopSettings(
        url=pop_doc.get("url"), token_env=pop_token_env,
        token=env.get(pop_token_env) or None,
        timeout_s=_seconds(pop_doc.get("timeout", DEFAULT_POP_TIMEOUT)))

    timezone = doc.get("centre", {}).get("timezone")
    if timezone is not None:
        try:
            zone_named(timezone)
        except ZoneError as exc:
            problems.append(f"{where}: centre.timezone: {exc}")
    callbacks, found = read_policy(doc.get("callbacks"), where)
    problems.extend(found)
    shutdown = doc.get("shutdown", {})
    fallback = None
    if "fallback" in shutdown:
        exten, _, context = shutdown["fallback"].partition("@")
        fallback = DialplanTarget(extension=exten, context=context or names.TRANSFER_CONTEXT)
    store_url = store_target(doc, where, problems)
    if problems:
        raise ConfigError(problems)
    return CentreConfig(
        path=str(file), ami=servers[0].ami, servers=servers, workers=workers, fastagi=fastagi,
        sounds_dir=resolve(paths.get("sounds", "sounds")),
        recordings_dir=resolve(paths.get("recordings", "recordings")),
        tts_cache_dir=resolve(paths.get("tts_cache", "tts-cache")),
        tts_command=tuple(tts_command) if tts_command is not None else None,
        flows_dir=resolve(paths.get("flows", "flows")),
        store_path=store_url or resolve(paths.get("store", "calls.db")),
        crm=crm, crm_token_env=token_env, agents=agents,
        crm_token_set=None if token_env is None else bool(env.get(token_env)),
        numbers=dict(doc.get("numbers", {})), outbound_interface=outbound,
        shutdown_grace_s=_seconds(shutdown.get("grace", "30s")),
        fallback=fallback, api=api, screen_pop=screen_pop, timezone=timezone,
        console=console_settings(doc.get("console", {}), resolve), callbacks=callbacks,
    )


def _seconds(duration: str) -> float:
    return parse_duration_ms(duration) / 1000


def _positive(section: dict, key: str, default: float, name: str, where: str,
              problems: list[str]) -> float:
    """A limit's duration in seconds (the schema checked its form); zero
    would make the limit refuse everything, so it is a problem."""
    if key not in section:
        return default
    seconds = _seconds(section[key])
    if seconds <= 0:
        problems.append(f"{where}: {name}.{key}: {section[key]!r} is not valid; expected a "
                        'duration above zero, such as "5s"')
        return default
    return seconds


def _without_secrets(doc: dict, where: str, problems: list[str]) -> dict:
    """The document without secrets written into it, each one reported with
    the variable to use instead. The value itself is never repeated."""
    out = dict(doc)
    for section, keys in _SECRET_KEYS.items():
        table = out.get(section)
        if not isinstance(table, dict):
            continue
        found = [k for k in keys if k in table]
        if not found:
            continue
        if section == "ami":
            env_name = table.get("secret_env", DEFAULT_SECRET_ENV)
            hint = f"the environment variable {env_name} (ami.secret_env names it)"
        elif section == "store":
            hint = f"the environment variable {STORE_PASSWORD_ENV}"
        else:
            env_name = table.get("token_env", _TOKEN_ENVS.get(section, "CRM_TOKEN"))
            hint = (f"an environment variable such as {env_name} and name it with "
                    f"{section}.token_env")
        for key in found:
            problems.append(f"{where}: {section}.{key}: secrets are not written in the file; "
                            f"remove it and put it in {hint}")
        out[section] = {k: v for k, v in table.items() if k not in found}
    return out


def _control_characters(doc: Any, where: str, path: str = "") -> list[str]:
    """Every value (and key) with a line break or another control character.
    The schema's patterns cannot refuse them (JSON Schema matches a pattern
    anywhere in the string, and `$` matches before a final newline), and
    each such value ends up in a dialplan line, a Dial() interface or an
    AMI header, where a line break splits it."""
    found: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            here = f"{path}.{key}" if path else str(key)
            if _CONTROL.search(str(key)):
                found.append(f"{where}: {here}: the key has a line break or control character")
            found.extend(_control_characters(value, where, here))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(_control_characters(value, where, f"{path}[{index}]"))
    elif isinstance(doc, str) and _CONTROL.search(doc):
        found.append(f"{where}: {path}: {doc!r} has a line break or control character; "
                     "write it on one line")
    return found


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _schema_problems(doc: dict, where: str) -> list[str]:
    # deferred: jsonschema is heavy to import, and most `ccf` commands never read a ccf.toml
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{where}: {_message(e)}" for e in errors]


_FIXES = {
    "port": "a whole number from 1 to 65535",
    "host": "a host name or IP address such as 127.0.0.1",
    "secret_env": "the NAME of an environment variable, such as CCF_AMI_SECRET",
    "user": "the AMI user name of manager.conf (letters, digits, _ . @ -)",
    "grace": 'a duration such as "30s", "500ms" or "2m"',
    "timeout": 'a duration such as "5s"',
    "fallback": 'an extension, optionally @context, such as "0" or "0@operators"',
    "interface": 'a device template such as "PJSIP/{extension}" or '
                 '"Local/{extension}@agents"',
    "outbound.interface": 'a device template such as "PJSIP/{number}@trunk"',
    "command": 'a list of strings such as ["espeak-ng", "-v", "{voice}", "-w", "{out}"]',
    "api.port": "a whole number from 0 (any free port) to 65535",
    "advertise": '"HOST:PORT" or "HOST", such as "cc-worker-1.example.com:8573"',
    "token_env": "the NAME of an environment variable, such as CCF_API_TOKEN",
    "url": 'an http:// or https:// URL such as "https://desk.example.com/ccf/pop"',
    "store.url": 'a postgresql:// URL without its password, such as '
                 '"postgresql://ccf@db.example.com/calls" (a SQLite store is named by '
                 '[paths] store)',
    "header_timeout": 'a duration such as "5s"',
    "prompt_timeout": 'a duration such as "2m"',
    "channel_idle": 'a duration such as "4h"',
    "max_calls": "a whole number of calls, at least 1 (leave it out to fit the open-file limit)",
    "max_connections": "a whole number, at least 1",
    "max_unauthenticated": "a whole number, at least 1",
    "max_channels": "a whole number of channels, at least 100",
    "store_rate": "a whole number of events per second, at least 1",
}


def _message(error) -> str:
    path = [str(p) for p in error.absolute_path]
    where = ".".join(path) or "(top level)"
    last = path[-1] if path else ""
    keyword = error.validator
    if keyword == "additionalProperties" and "properties" in error.schema:
        allowed = sorted(error.schema["properties"])
        extra = sorted(set(error.instance) - set(allowed))
        if not path:
            shown = ", ".join(f"[{k}]" for k in extra)
            return (f"unknown section {shown}; the sections are "
                    + ", ".join(f"[{k}]" for k in allowed))
        return (f"{where}: unknown setting {', '.join(map(repr, extra))}; expected one of "
                f"{', '.join(allowed)}")
    if "propertyNames" in error.schema_path and path and path[0] == "numbers":
        return (f"numbers: {error.instance!r} is not a phone number; write the digits "
                'dialled, such as "4008001234" (an optional leading +)')
    if path[:1] == ["numbers"] and keyword in ("pattern", "type"):
        return (f"numbers.{last}: {error.instance!r} is not a flow name; write the name of a "
                "deployed flow, such as \"hotline\"")
    if keyword == "type" and error.validator_value == "object":
        return f"{where}: expected a table ([{where}] with settings)"
    fix = _FIXES.get(where) or _FIXES.get(last)
    if fix is None and len(path) >= 2 and path[-2] == "command":
        fix = _FIXES["command"]
    if fix is None and path[:1] == ["paths"]:
        fix = "a non-empty path, relative to this file or absolute"
    if fix is not None:
        return f"{where}: {error.instance!r} is not valid; expected {fix}"
    return f"{where}: {error.message}"


def _placeholder_problems(items: list[str], allowed: set[str], where: str, *,
                          need: str | None, fix: str) -> list[str]:
    """Problems with `{name}` placeholders in a template (or a list of them):
    unknown names, broken braces, and the one that must appear."""
    seen: set[str] = set()
    for item in items:
        try:
            for _, name, _, _ in string.Formatter().parse(item):
                if name is None:
                    continue
                if name not in allowed:
                    known = ", ".join("{" + a + "}" for a in sorted(allowed))
                    return [f"{where}: unknown placeholder {{{name}}}; the placeholders are "
                            f"{known}"]
                seen.add(name)
        except ValueError:
            return [f"{where}: unbalanced {{ or }} in {item!r}; write {fix}"]
    if need is not None and need not in seen:
        return [f"{where}: no {{{need}}} placeholder; write {fix}"]
    return []


def _crm(doc: dict, file: Path, problems: list[str]) -> tuple[CrmConfig | None, str | None]:
    """The [crm] section, read by runtime.core.crm.config (one schema for it)."""
    section = doc.get("crm")
    try:
        if section is None:
            # the embedded CRM beside the ccf.toml, as every [paths] entry is,
            # never in whatever folder `ccf serve` was started from
            return load_crm_config({"crm": {"adapter": "sqlite",
                                            "path": str(file.parent / DEFAULT_CRM_FILE)}}), None
        # the file itself, so a relative sqlite path is relative to it
        return load_crm_config(file), section.get("token_env")
    except CrmConfigError as exc:
        problems.extend(f"{file}: {line}" for line in str(exc).splitlines())
        return None, None


def _agents(section: dict, where: str, resolve, problems: list[str]) -> AgentsConfig:
    interface = section.get("interface", DEFAULT_INTERFACE)
    found = _placeholder_problems([interface], _INTERFACE_FIELDS, f"{where}: agents.interface",
                                  need="extension", fix=_FIXES["interface"])
    problems.extend(found)
    file = section.get("file")
    if file is None:
        return AgentsConfig(interface=interface)
    path = resolve(file)
    if not os.path.isfile(path):
        problems.append(f"{where}: agents.file: {path} does not exist; write it (the format "
                        "of examples/iws/agents.toml) or fix the path, relative to this file")
        return AgentsConfig(file=path, interface=interface)
    try:
        agents = load_agents(path)
    except InputError as exc:
        problems.append(f"{where}: agents.file: {exc}")
        return AgentsConfig(file=path, interface=interface)
    if not found:
        for agent in agents:
            try:
                names.agent_interface(interface, agent.id, agent.extension)
            except names.UnsafeValue as exc:
                problems.append(f"{path}: agent {agent.id!r}: {exc}; give it an `extension` "
                                "of digits and an `id` of letters, digits, _ and -")
    return AgentsConfig(file=path, interface=interface, agents=tuple(agents))


def summary(config: CentreConfig) -> list[tuple[str, str]]:
    """The effective settings as (name, value) rows, for `ccf config
    check`: secrets appear as "set" or "missing", never their values."""
    def secret(env_name: str, value: bool) -> str:
        return f"{'set' if value else 'missing'} (${env_name})"

    rows = [
        ("config", str(Path(config.path).resolve())),
        ("time zone", config.timezone or "this machine's (no [centre] timezone)"),
        *config_servers.ami_rows(config, secret),
        ("fastagi", f"{config.fastagi.host}:{config.fastagi.port}"),
        ("fastagi limits", f"max_calls {config.fastagi.max_calls or 'fitted to open files'}, "
                           f"header {config.fastagi.header_timeout_s:g}s, prompt of unknown "
                           f"length {config.fastagi.prompt_timeout_s:g}s"),
        ("ami limits", f"max_channels {config.ami.max_channels}, channel_idle "
                       f"{config.ami.channel_idle_s:g}s, store_rate {config.ami.store_rate}/s"),
        ("sounds", config.sounds_dir),
        ("recordings", config.recordings_dir),
        ("flow store", "the call store's database" if flows_in_store(
            config.store_path, config.flows_dir) else config.flows_dir),
        ("call store", config.store_path),
        ("tts cache", config.tts_cache_dir),
        ("tts command", " ".join(config.tts_command) if config.tts_command
         else "espeak-ng (default)"),
    ]
    if isinstance(config.crm, HttpConfig):
        rows.append(("crm", f"http {shown_url(config.crm.base_url)}"))
        if config.crm_token_env:
            rows.append(("crm token", secret(config.crm_token_env, bool(config.crm_token_set))))
    else:
        rows.append(("crm", f"sqlite {config.crm.path}"))
    agents = config.agents
    rows.append(("agents", f"{len(agents.agents)} from {agents.file}" if agents.file
                 else "none (no [agents] file)"))
    rows.append(("agent interface", agents.interface))
    rows.append(("outbound interface", config.outbound_interface))
    numbers = ", ".join(f"{n} -> {f}" for n, f in sorted(config.numbers.items()))
    rows.append(("numbers", numbers or "none"))
    rows.append(("shutdown grace", f"{config.shutdown_grace_s:g}s"))
    rows.append(("fallback", str(config.fallback) if config.fallback else "hang up"))
    api = config.api
    rows.append(("api", f"http://{api.address}"))
    rows.append(("api advertised", advertised_summary(api)))
    rows.append(("api limits", f"max_connections {api.max_connections}, max_unauthenticated "
                               f"{api.max_unauthenticated}, header {api.header_timeout_s:g}s"))
    rows.append(("api token", secret(api.token_env, api.token is not None)
                 + ("" if api.token else ": requests need none")))
    pop = config.screen_pop
    rows.append(("screen pop", f"webhook {shown_url(pop.url)}, timeout "
                 f"{pop.timeout_s:g}s" if pop.url else "AMI UserEvent only (no [screen_pop] url)"))
    if pop.url and pop.token_env:
        rows.append(("screen pop token", secret(pop.token_env, pop.token is not None)))
    return rows


def ipaddress_is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def warnings(config: CentreConfig) -> list[str]:
    """What is allowed but will stop `ccf serve` or `ccf deploy` from working
    in this environment (the service may run with another environment)."""
    out = config_servers.missing_secrets(config)
    if config.crm_token_set is False:
        out.append(f"the CRM token is missing: set the environment variable "
                   f"{config.crm_token_env}")
    pop = config.screen_pop
    if pop.url and pop.token_env != _TOKEN_ENVS["screen_pop"] and pop.token is None:
        # a variable named in the file is one the webhook is expected to need
        out.append(f"the screen pop token is missing: set the environment variable "
                   f"{pop.token_env}, or the webhook is called without one")
    api = config.api
    if api.token is None and not ipaddress_is_loopback(api.host):
        out.append(f"the HTTP API listens on {api.host}, beyond this machine, with no token: "
                   f"anyone who reaches it reads call records and writes wrap-ups; set "
                   f"{api.token_env} or listen on 127.0.0.1")
    agi = config.fastagi
    if not ipaddress_is_loopback(agi.host):
        # FastAGI has no token to set: the address is the only protection
        out.append(f"FastAGI listens on {agi.host}, beyond this machine: anyone who reaches "
                   f"port {agi.port} runs the flows as a caller would and reads the CRM "
                   "through them (FastAGI has no password); listen on 127.0.0.1, where "
                   "Asterisk runs (docs/asterisk.md), or let a firewall admit Asterisk alone")
    if not config.numbers:
        out.append("no [numbers]: no call reaches a flow; add a line such as "
                   '"4008001234" = "hotline"')
    return out

