"""The check passes. Each module here defines

    check(program: Program, scopes: dict[str, Scope]) -> Iterable[Diagnostic]

a plain function from the loaded program to diagnostics. The pipeline runs
every module of this package, in name order."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache


@lru_cache(maxsize=1)
def passes() -> tuple:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return tuple(importlib.import_module(f"{__name__}.{name}").check for name in names)
