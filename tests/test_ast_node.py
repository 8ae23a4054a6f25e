"""`@node` (ccdsl/ast_node.py) behaves as `@dataclass(frozen=True)` did on every class of
the syntax tree: each class is compared with a twin the dataclass makes from its fields."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from ccdsl import ast, ast_expr, ast_stmt
from ccdsl.ast_node import node

NODES = sorted({cls for module in (ast, ast_expr, ast_stmt)
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if dataclasses.is_dataclass(cls) and cls.__module__.startswith("ccdsl.ast")},
               key=lambda cls: cls.__qualname__)


def _twin(cls):
    """The class as `@dataclass(frozen=True)` makes it from the same fields and doc."""
    given = dataclasses.fields(cls)
    generated_doc = cls.__doc__.startswith(f"{cls.__name__}(")
    namespace = {"__annotations__": {f.name: f.type for f in given},
                 "__module__": cls.__module__, "__qualname__": cls.__qualname__,
                 "__doc__": None if generated_doc else cls.__doc__}
    for f in given:
        if f.default is not dataclasses.MISSING:
            namespace[f.name] = dataclasses.field(default=f.default, compare=f.compare,
                                                  repr=f.repr, hash=f.hash)
    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (), namespace))


def _values(cls, tag: str) -> dict:
    return {f.name: f"{tag}{i}" for i, f in enumerate(dataclasses.fields(cls))}


def test_every_node_class_is_found() -> None:
    assert len(NODES) > 80 and ast.Name in NODES and ast.Module in NODES


@pytest.mark.parametrize("cls", NODES, ids=lambda cls: cls.__name__)
def test_a_node_does_what_the_frozen_dataclass_did(cls) -> None:
    twin = _twin(cls)
    assert cls.__doc__ == twin.__doc__
    assert cls.__match_args__ == twin.__match_args__
    assert [(f.name, f.compare, f.repr, f.default) for f in dataclasses.fields(cls)] == \
        [(f.name, f.compare, f.repr, f.default) for f in dataclasses.fields(twin)]
    values, other = _values(cls, "a"), _values(cls, "b")
    ours, theirs = cls(**values), twin(*values.values())
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert vars(ours) == vars(theirs)
    assert ours == cls(*values.values()) and ours != theirs
    for name in values:  # equal when only uncompared fields differ, as before
        changed = dataclasses.replace(ours, **{name: other[name]})
        assert (changed == ours) == (twin(**{**values, name: other[name]}) == theirs)
        assert (hash(changed) == hash(ours)) == \
            (hash(twin(**{**values, name: other[name]})) == hash(theirs))
    assert pickle.loads(pickle.dumps(ours)) == ours
    for attempt in (lambda obj: setattr(obj, "span", 1), lambda obj: delattr(obj, "span"),
                    lambda obj: setattr(obj, "new", 1)):
        with pytest.raises(dataclasses.FrozenInstanceError) as mine:
            attempt(ours)
        with pytest.raises(dataclasses.FrozenInstanceError) as before:
            attempt(theirs)
        assert str(mine.value) == str(before.value)


@pytest.mark.parametrize("cls", NODES[:5], ids=lambda cls: cls.__name__)
def test_a_wrong_call_fails_as_before(cls) -> None:
    with pytest.raises(TypeError) as mine:
        cls(*range(len(dataclasses.fields(cls)) + 1))
    with pytest.raises(TypeError) as before:
        _twin(cls)(*range(len(dataclasses.fields(cls)) + 1))
    assert str(mine.value).split("(", 1)[1] == str(before.value).split("(", 1)[1]


def test_a_class_compiles_its_init_on_its_first_instance() -> None:
    @node
    class Pair:
        left: str
        right: str = "r"

    assert Pair.__init__.__code__.co_varnames[:3] == ("self", "args", "kwargs")
    assert Pair("l") == Pair("l", "r") != Pair("l", "x")
    assert Pair.__init__.__code__.co_varnames[:3] == ("self", "left", "right")
    assert repr(Pair(left="a")) == \
        "test_a_class_compiles_its_init_on_its_first_instance.<locals>.Pair(left='a', right='r')"
