"""The IR's JSON Schema (compiler/ir.schema.json) and validation of an IR against it.

Must not import the runtime: the runtime checks an IR with this schema,
never the other way round."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def ir_schema() -> dict:
    text = (resources.files("ccdsl.compiler") / "ir.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator():
    # deferred: jsonschema is heavy to import, and `ccf validate` and `ccf fmt` never need it
    from jsonschema import Draft202012Validator

    schema = ir_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_ir(ir: dict) -> list[str]:
    """Every way ``ir`` breaks the schema, as ``at /path: message`` lines in
    a stable order; an empty list when it is valid."""
    errors = sorted(_validator().iter_errors(ir), key=lambda e: list(map(str, e.absolute_path)))
    return [f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
