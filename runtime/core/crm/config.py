"""Which CRM a centre uses and how to reach it: the `[crm]` section, checked against SCHEMA.

docs/crm.md "Configuration" describes every key. Opens no CRM: runtime/core/crm/connect.py does.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DB = "ccdsl-crm.db"
DB_ENV = "CCF_CRM_DB"

OPERATIONS = ("find_customer", "find", "owner", "create", "update", "log_call",
              "recording_removed")
_NAME = "[A-Za-z_][A-Za-z0-9_]*"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# the kinds of file retention removes: recording_removed's only .TYPE
REMOVED_KINDS = ("recording", "voicemail")
# an operation, optionally for one record type; recording_removed only for a kind of file
_OPERATION = (rf"^(({'|'.join(o for o in OPERATIONS if o != 'recording_removed')})(\.{_NAME})?"
              rf"|recording_removed(\.({'|'.join(REMOVED_KINDS)}))?)$")


def removed_args(call_id: str, file: str, kind: str, removed_at: str) -> dict[str, str]:
    """What a recording_removed request fills its templates from, given what `ccf store prune`
    knows of a removed file (`removed_at`: ISO 8601 in UTC). Only the file's base name, never
    where the server keeps it."""
    return {"call_id": call_id, "file": os.path.basename(file), "kind": kind,
            "removed": removed_at[:10], "removed_at": removed_at}


# the only names a recording_removed template may use: removed_args' keys, so the check at
# load and the request cannot drift apart
REMOVED_PLACEHOLDERS = tuple(removed_args("", "", "", ""))

_ENDPOINT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
        # relative to base_url, so the token only ever goes to the CRM's host
        "url": {"type": "string", "pattern": "^/"},
        "body": {"type": ["object", "array", "string"]},
        "result": {"type": "string", "pattern": rf"^({_NAME}|[0-9]+)?(\.({_NAME}|[0-9]+))*$"},
        "fields": {"type": "object", "propertyNames": {"pattern": f"^{_NAME}$"},
                   "additionalProperties": {"type": "string"}},
        "idempotent": {"type": "boolean"},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["adapter"],
    "properties": {"adapter": {"enum": ["sqlite", "http"]}},
    "oneOf": [
        {
            "additionalProperties": False,
            "properties": {
                "adapter": {"const": "sqlite"},
                "path": {"type": "string", "minLength": 1},
                "timeout_ms": {"type": "integer", "minimum": 1},
            },
        },
        {
            "additionalProperties": False,
            "required": ["base_url", "operations"],
            "properties": {
                "adapter": {"const": "http"},
                "base_url": {"type": "string", "pattern": "^https?://[^/?#]+"},
                "token_env": {"type": "string", "pattern": f"^{_NAME}$"},
                "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 600_000},
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "backoff_ms": {"type": "integer", "minimum": 0, "maximum": 60_000},
                # the token comes from token_env, never from the file
                "headers": {"type": "object", "additionalProperties": {"type": "string"},
                            "propertyNames": {"not": {"pattern": "(?i)^authorization$"}}},
                "operations": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"pattern": _OPERATION},
                    "additionalProperties": _ENDPOINT,
                },
            },
        },
    ],
}


class CrmConfigError(ValueError):
    """A CRM configuration that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class SqliteConfig:
    path: str = DEFAULT_DB
    timeout_ms: int = 3000


@dataclass(frozen=True)
class Endpoint:
    """How one CRM operation maps onto an HTTP request."""

    url: str
    method: str = "GET"
    body: Any = None  # JSON template; None: the operation's default body
    result: str = ""  # where the answer sits in the response JSON; "" the whole body
    fields: Mapping[str, str] = field(default_factory=dict)  # ccf field -> path in the record
    idempotent: bool | None = None  # None: by method (GET, PUT, DELETE are)

    @property
    def retry_safe(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method in ("GET", "PUT", "DELETE")


@dataclass(frozen=True)
class HttpConfig:
    base_url: str
    operations: Mapping[str, Endpoint]
    token_env: str | None = None
    timeout_ms: int = 3000
    retries: int = 2
    backoff_ms: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


CrmConfig = SqliteConfig | HttpConfig


def default_db_path() -> str:
    return os.environ.get(DB_ENV) or DEFAULT_DB


def load_config(source: str | Path | Mapping[str, Any] | None = None) -> CrmConfig:
    """The CRM configuration from a TOML file's `[crm]` section, or from a
    dict (either that section or a whole document holding it). None, or a
    file without `[crm]`, means the SQLite CRM at the default path."""
    base_dir: Path | None = None
    if source is None:
        section: Any = {}
    elif isinstance(source, Mapping):
        section = source.get("crm", source) if "adapter" not in source else source
    else:
        path = Path(source)
        try:
            with path.open("rb") as stream:
                document = tomllib.load(stream)
        except FileNotFoundError:
            raise CrmConfigError(f"{path}: no such configuration file") from None
        except tomllib.TOMLDecodeError as exc:
            raise CrmConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise CrmConfigError(f"{path}: cannot be read: {exc.strerror}") from None
        section = document.get("crm", {})
        base_dir = path.resolve().parent  # the file's own folder, whatever the cwd
    if not isinstance(section, Mapping):
        raise CrmConfigError("crm: expected a table of settings")
    section = {"adapter": "sqlite", **section}
    _validate(section)
    if section["adapter"] == "sqlite":
        db = section.get("path") or default_db_path()
        if base_dir is not None and db != ":memory:" and not Path(db).is_absolute():
            db = str(base_dir / db)
        return SqliteConfig(path=db, timeout_ms=section.get("timeout_ms", 3000))
    operations = {name: Endpoint(**spec) for name, spec in section["operations"].items()}
    return HttpConfig(
        base_url=section["base_url"].rstrip("/"),
        operations=operations,
        token_env=section.get("token_env"),
        timeout_ms=section.get("timeout_ms", 3000),
        retries=section.get("retries", 2),
        backoff_ms=section.get("backoff_ms", 200),
        headers=dict(section.get("headers", {})),
    )


def _validate(section: Mapping[str, Any]) -> None:
    """Check against SCHEMA, against the branch of the adapter named, so
    the message is about the settings that adapter takes."""
    # deferred: jsonschema is heavy to import, and only a [crm] section needs it
    from jsonschema import Draft202012Validator

    adapter = section.get("adapter")
    if adapter not in ("sqlite", "http"):
        raise CrmConfigError(
            f"crm.adapter: expected \"sqlite\" or \"http\", found {adapter!r}")
    branch = SCHEMA["oneOf"][0 if adapter == "sqlite" else 1]
    errors = sorted(Draft202012Validator(branch).iter_errors(dict(section)),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise CrmConfigError("\n".join(_message(e) for e in errors))
    if adapter == "http":
        _check_removed(section["operations"])


def _check_removed(operations: Mapping[str, Any]) -> None:
    """A recording_removed template naming what prune does not know fails at load, not on the
    first removed file a night later: that one would stop every file after it being told."""
    for name, spec in operations.items():
        if name.split(".")[0] != "recording_removed":
            continue
        for key in ("url", "body"):
            unknown = sorted(set(PLACEHOLDER.findall(_strings(spec.get(key))))
                             - set(REMOVED_PLACEHOLDERS))
            if unknown:
                known = ", ".join(f"{{{p}}}" for p in REMOVED_PLACEHOLDERS)
                raise CrmConfigError(f"crm.operations.{name}.{key}: {{{unknown[0]}}} is not a "
                                     f"placeholder of recording_removed; expected {known}")


def _strings(template: Any) -> str:
    """Every string value of a URL or body template (keys are sent as they are), a line each."""
    if isinstance(template, Mapping):
        return "\n".join(_strings(v) for v in template.values())
    if isinstance(template, list):
        return "\n".join(_strings(v) for v in template)
    return template if isinstance(template, str) else ""


def _message(error) -> str:
    path = [str(p) for p in error.absolute_path]
    where = ".".join(["crm", *path])
    last = path[-1] if path else ""
    keyword = error.validator
    if "propertyNames" in error.schema_path:  # the error is about a key, not a value
        keyword = "propertyNames"
    if keyword == "additionalProperties" and error.schema.get("properties"):
        allowed = sorted(error.schema["properties"])
        extra = sorted(set(error.instance) - set(allowed))
        return (f"{where}: unknown setting {', '.join(map(repr, extra))}; "
                f"expected one of {', '.join(allowed)}")
    if keyword == "required":
        return f"{where}: missing setting: {error.message.split(' ')[0]}"
    if keyword == "propertyNames" and last == "operations" \
            and str(error.instance).startswith("recording_removed."):
        return (f"{where}: {error.instance!r}: recording_removed takes ."
                f"{' or .'.join(REMOVED_KINDS)} (the kind of file), or neither")
    if keyword == "propertyNames" and last == "operations":
        return (f"{where}: {error.instance!r} is not an operation; expected one of "
                f"{', '.join(OPERATIONS)} (optionally with .TYPE, such as find.order)")
    if keyword == "propertyNames" and last == "headers":
        return (f"{where}: set the token with token_env (the name of an environment "
                "variable), not an Authorization header")
    if keyword == "pattern" and last == "url":
        return f"{where}: {error.instance!r} must start with / (it is relative to base_url)"
    if keyword == "pattern" and last == "base_url":
        return f"{where}: {error.instance!r} is not an http:// or https:// URL"
    if keyword == "pattern" and last == "token_env":
        # never echo the value: it may be the token itself, put there by mistake
        return (f"{where}: expected the NAME of an environment variable (such as CRM_TOKEN), "
                "not the token itself")
    return f"{where}: {error.message}"
