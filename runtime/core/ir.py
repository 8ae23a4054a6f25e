"""Loading an IR document: the one input of the runtime.

Never imports `compiler` (the runtime does not depend on the parser): the schema
file that ships with it is found with importlib.util.find_spec, which runs nothing.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ccdsl.runtime.core.errors import IRError
from ccdsl.runtime.core.ir_depth import depth_problem

# The IR majors this runtime can execute (docs/ir.md "Versioning").
SUPPORTED_MAJORS = (1,)


@lru_cache(maxsize=1)
def _schema_path() -> Path:
    spec = importlib.util.find_spec("ccdsl.compiler")
    if spec is None or not spec.submodule_search_locations:
        raise IRError("the IR schema cannot be found: the `compiler` package is not installed")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "ir.schema.json"
        if path.is_file():
            return path
    raise IRError("the IR schema compiler/ir.schema.json is missing from the installation")


@lru_cache(maxsize=1)
def _validator():
    # deferred: jsonschema is heavy to import, and only loading an IR file checks it
    from jsonschema import Draft202012Validator

    schema = json.loads(_schema_path().read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def schema_errors(doc: dict) -> list[str]:
    """Every way `doc` breaks the IR schema, as `at /path: message` lines;
    only how it nests too deep when it does (the validator recurses once
    per level: ir_depth.depth_problem walks it first, without recursion)."""
    problem = depth_problem(doc)
    return [problem] if problem is not None else _validated(doc)


def _validated(doc: dict) -> list[str]:
    """schema_errors of a document known to nest no deeper than the compiler's."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def check_version(doc: Any) -> None:
    """Refuse an IR of an unknown major version before anything else is read,
    so an old runtime says 'too new' rather than listing schema errors."""
    if not isinstance(doc, dict):
        raise IRError(f"an IR document is a JSON object, not {type(doc).__name__}")
    version = doc.get("ir_version")
    if not isinstance(version, str) or "." not in version:
        raise IRError(f"the IR has no valid `ir_version` (found {version!r}); "
                      "was it written by `ccf compile`?")
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) not in SUPPORTED_MAJORS:
        known = ", ".join(f"{m}.x" for m in SUPPORTED_MAJORS)
        raise IRError(f"IR version {version} is not supported by this runtime "
                      f"(it runs IR {known}); recompile the flow with a matching ccdsl")


def _frozen(mapping: dict | None) -> MappingProxyType:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Program:
    """A read-only view of a validated IR document, by table."""

    doc: MappingProxyType
    flow: MappingProxyType
    languages: tuple[str, ...]
    steps: MappingProxyType
    subs: MappingProxyType
    handlers: MappingProxyType
    prompts: MappingProxyType
    queues: MappingProxyType
    routing: MappingProxyType
    hours: MappingProxyType
    constants: MappingProxyType
    records: MappingProxyType
    wrapup: dict | None
    tests: tuple[dict, ...]
    # what the runtime derives from the IR once per program instead of once
    # per call (the sounds of prompts without parameters: ops_media.sounds_of)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.flow.get("name", "")

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else ""

    def handler(self, name: str) -> dict | None:
        return self.handlers.get(name)


def program_from_doc(doc: dict, *, validate: bool = True) -> Program:
    check_version(doc)
    if validate:
        problem = depth_problem(doc)
        if problem is not None:
            raise IRError(f"the IR nests deeper than the compiler writes one: {problem}")
        errors = _validated(doc)
        if errors:
            shown = "\n  ".join(errors[:10])
            more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
            raise IRError(f"the IR does not match its schema:\n  {shown}{more}")
    flow = doc["flow"]
    return Program(
        doc=_frozen(doc),
        flow=_frozen(flow),
        languages=tuple(flow.get("languages") or ()),
        steps=_frozen(doc["steps"]),
        subs=_frozen(doc["subs"]),
        handlers=_frozen(doc["handlers"]),
        prompts=_frozen(doc["prompts"]),
        queues=_frozen(doc["queues"]),
        routing=_frozen(doc["routing"]),
        hours=_frozen(doc["hours"]),
        constants=_frozen(doc["constants"]),
        records=_frozen(doc["records"]),
        wrapup=doc.get("wrapup"),
        tests=tuple(doc["tests"]),
    )


def load_program(source: dict | str | Path, *, validate: bool = True) -> Program:
    """A Program from an IR dict or an IR JSON file. Raises IRError when the
    file is not JSON, the major version is unknown, or the schema fails."""
    if isinstance(source, dict):
        return program_from_doc(source, validate=validate)
    path = Path(source)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise IRError(f"cannot read the IR file {path}: {err.strerror or err}") from err
    except json.JSONDecodeError as err:
        raise IRError(f"{path} is not JSON: {err.msg} at line {err.lineno}") from err
    except RecursionError:
        # the JSON decoder recurses once per level of nesting, and says so by
        # this error alone; it keeps no state, so going on after it is safe
        raise IRError(f"{path} nests its lists and objects too deep to be read as JSON, "
                      "let alone an IR; was it edited by hand?") from None
    return program_from_doc(doc, validate=validate)
