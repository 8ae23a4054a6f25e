"""builtins' bind, with each builtin's parameters worked out once, binds
(and refuses) every call as the binder that read the parameters every time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccdsl.builtins import BUILTINS, Builtin
from ccdsl.runtime.core.builtins.implementations import bind
from ccdsl.runtime.core.errors import FlowError


def _bind_before(builtin: Builtin, args: list, kwargs: dict, loc: dict | None) -> dict:
    """bind as it was, reading the parameters on every call."""
    if len(args) > len(builtin.params):
        raise FlowError(f"`{builtin.name}` takes {len(builtin.params)} argument(s), "
                        f"got {len(args)}", loc)
    bound = {p.name: a for p, a in zip(builtin.params, args, strict=False)}
    fields = {}
    names = frozenset(p.name for p in builtin.params)
    for name, value in kwargs.items():
        if name in names:
            bound[name] = value
        elif builtin.record_fields:
            fields[name] = value
        else:
            raise FlowError(f"`{builtin.name}` has no parameter `{name}`", loc)
    for p in builtin.params:
        if p.required and p.name not in bound:
            raise FlowError(f"`{builtin.name}` needs its `{p.name}` argument", loc)
    bound["fields"] = fields
    return bound


def _outcome(fn, builtin, args, kwargs):
    try:
        return "bound", fn(builtin, list(args), dict(kwargs), None)
    except FlowError as err:
        return "refused", str(err)


FUNCTIONS = sorted(name for name, b in BUILTINS.items() if b.kind != "value")
NAMES = st.sampled_from(["phone", "type", "fields", "record", "customer", "number", "text",
                         "at", "after", "note", "outcome", "items", "seed", "x", "url"])


@given(st.sampled_from(FUNCTIONS), st.lists(st.integers(), max_size=4),
       st.dictionaries(NAMES, st.integers(), max_size=4))
def test_bind_as_before(name, args, kwargs):
    builtin = BUILTINS[name]
    assert _outcome(bind, builtin, args, kwargs) == _outcome(_bind_before, builtin, args, kwargs)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_builtin_with_its_own_parameter_names(name):
    builtin = BUILTINS[name]
    kwargs = {p.name: i for i, p in enumerate(builtin.params)}
    assert _outcome(bind, builtin, [], kwargs) == _outcome(_bind_before, builtin, [], kwargs)
    assert _outcome(bind, builtin, [], {}) == _outcome(_bind_before, builtin, [], {})


def test_a_builtin_not_in_the_registry_is_read_afresh():
    import dataclasses
    real = BUILTINS["crm.find"]
    fewer = dataclasses.replace(real, params=real.params[:1])
    assert _outcome(bind, real, [1, 2], {}) == _outcome(_bind_before, real, [1, 2], {})
    assert _outcome(bind, fewer, [1, 2], {}) == _outcome(_bind_before, fewer, [1, 2], {})
    assert _outcome(bind, fewer, [1, 2], {})[0] == "refused"
