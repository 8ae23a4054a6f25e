"""`@node`: the syntax tree's frozen dataclass, made without compiling code per class at
import. Imports nothing of ours.

`@dataclass(frozen=True)` compiles six functions per class (__init__, __repr__, __eq__,
__hash__, __setattr__, __delattr__) and asks inspect for a signature as the docstring of
a class without one: for the ~90 node classes that was most of the AST's import time.
Here printing and freezing are closures over each class's field names, and __init__,
__eq__ and __hash__ are compiled the first time each is called, as dataclass writes them:
a compile builds most node classes but compares few. tests/test_ast_node.py compares
each class with the dataclass.
"""

from __future__ import annotations

import inspect
import reprlib
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from typing import dataclass_transform


def _signature_doc(cls, given) -> str:
    """The docstring dataclass gives a class without one: its __init__'s signature."""
    params = []
    for f in given:  # as inspect.Parameter prints them
        text = f"{f.name}: {inspect.formatannotation(f.type)}"
        if f.default is not MISSING:
            text += f" = {f.default!r}"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})"


def _fields_tuple(obj: str, names: tuple[str, ...]) -> str:
    return f"({''.join(f'{obj}.{name},' for name in names)})"  # as dataclass writes it


def _init_source(given) -> str:
    params = ", ".join(f"{f.name}=_dflt_{f.name}" if f.default is not MISSING else f.name
                       for f in given)
    # object.__setattr__, as dataclass's frozen __init__: writing self.__dict__ instead
    # would give each node a dict of its own, larger and slower to read than its values
    sets = "".join(f"\n    _set(self, {f.name!r}, {f.name})" for f in given) or "\n    pass"
    return f"def __init__(self, {params}) -> None:{sets}\n"


def _eq_source(names: tuple[str, ...]) -> str:
    return ("def __eq__(self, other):\n"
            "    if other.__class__ is self.__class__:\n"
            f"        return {_fields_tuple('self', names)} == {_fields_tuple('other', names)}\n"
            "    return NotImplemented\n")


def _hash_source(names: tuple[str, ...]) -> str:
    return f"def __hash__(self):\n    return hash({_fields_tuple('self', names)})\n"


def _compile_on_first_call(cls, name: str, source, scope: dict) -> None:
    """Set cls.name to a stand-in that compiles the method from source() (with scope as
    its globals), puts it in its place and calls it: a class never compared pays nothing."""
    def stand_in(self, *args, **kwargs):
        exec(source(), scope)  # noqa: S102 - our own text, from field names
        method = scope[name]
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        method.__module__ = cls.__module__
        setattr(cls, name, method)
        return method(self, *args, **kwargs)

    stand_in.__qualname__ = f"{cls.__qualname__}.{name}"
    setattr(cls, name, stand_in)


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
    compared = tuple(f.name for f in given if f.compare)
    hashed = tuple(f.name for f in given if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in given if f.repr)
    defaults = {f"_dflt_{f.name}": f.default for f in given if f.default is not MISSING}
    defaults["_set"] = object.__setattr__
    _compile_on_first_call(cls, "__init__", lambda: _init_source(given), defaults)
    _compile_on_first_call(cls, "__eq__", lambda: _eq_source(compared), {})
    _compile_on_first_call(cls, "__hash__", lambda: _hash_source(hashed), {})

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

    for method in (__repr__, __setattr__, __delattr__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    return cls
