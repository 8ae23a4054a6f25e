"""`@node`: the syntax tree's frozen dataclass, made without compiling code per class at
import. Imports nothing of ours.

`@dataclass(frozen=True)` compiles six functions per class (__init__, __repr__, __eq__,
__hash__, __setattr__, __delattr__) and asks inspect for a signature as the docstring of
a class without one: for the ~90 node classes that was most of the AST's import time.
Here the comparing, hashing, printing and freezing are closures over each class's field
names, and __init__ is compiled the first time a class is instantiated; what each does
is what the dataclass's did (tests/test_ast_node.py compares them).
"""

from __future__ import annotations

import inspect
import reprlib
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from operator import attrgetter
from typing import dataclass_transform


def _values(names: tuple[str, ...]):
    """A function giving an object's values of names, always as a tuple."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names) if names else (lambda obj: ())


def _signature_doc(cls, given) -> str:
    """The docstring dataclass gives a class without one: its __init__'s signature."""
    params = []
    for f in given:  # as inspect.Parameter prints them
        text = f"{f.name}: {inspect.formatannotation(f.type)}"
        if f.default is not MISSING:
            text += f" = {f.default!r}"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})"


def _init_source(given) -> str:
    params = ", ".join(f"{f.name}=_dflt_{f.name}" if f.default is not MISSING else f.name
                       for f in given)
    sets = "".join(f"\n    _d[{f.name!r}] = {f.name}" for f in given)
    return f"def __init__(self, {params}) -> None:\n    _d = self.__dict__{sets}\n"


def _compiled_init(cls, given):
    """The __init__ dataclass would write: every field stored in order, defaults kept."""
    scope = {f"_dflt_{f.name}": f.default for f in given if f.default is not MISSING}
    exec(_init_source(given), scope)  # noqa: S102 - our own text, from field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def node(cls):
    """A frozen dataclass (fields(), replace(), match and pickling as usual) whose
    equality, hash and repr use the fields dataclass would use."""
    undocumented = not cls.__dict__.get("__doc__")
    if undocumented:
        cls.__doc__ = "-"  # so dataclass skips inspect; set below as it would have
    cls = dataclass(init=False, repr=False, eq=False)(cls)
    given = fields(cls)
    if undocumented:
        cls.__doc__ = _signature_doc(cls, given)
    names = frozenset(f.name for f in given)
    compared = _values(tuple(f.name for f in given if f.compare))
    hashed = _values(tuple(f.name for f in given
                           if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in given if f.repr)

    def __init__(self, *args, **kwargs) -> None:
        cls.__init__ = _compiled_init(cls, given)
        cls.__init__(self, *args, **kwargs)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(hashed(self))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{self.__class__.__qualname__}({inner})"

    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    for method in (__init__, __eq__, __hash__, __repr__, __setattr__, __delattr__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    return cls
