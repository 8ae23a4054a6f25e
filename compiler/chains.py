"""Values computed once per key where computing one asks for others: a chain of definitions.

Must not know what it resolves (constants' and variables' types, whether a
sub-flow waits): its callers hand it keys and functions. It keeps the
stack shallow however long the chain (`c1 = c2 + 1`, `c2 = c3 + 1`, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

# How many resolutions may run inside each other before the next is handed
# to the outermost one. Each costs the stack of what it computes (an
# expression, a body), so the stack must not follow the chain itself.
NESTED = 2


class _Later(Exception):
    """A resolution too deep in the stack: the outermost one computes `key`
    first, then tries again what it was doing. `chain` is what was being
    computed: what `key` meets again there is a cycle, as on the stack."""

    def __init__(self, key: Hashable, compute: Callable[[], object],
                 chain: frozenset) -> None:
        super().__init__(key)
        self.key = key
        self.compute = compute
        self.chain = chain


class Chains(Generic[V]):
    """Each key's value, computed once. A key asked for again while it is
    being computed (a definition that depends on itself) gets `on_cycle`
    there; the values are those of a recursive memo with a "busy" set."""

    def __init__(self, on_cycle: V) -> None:
        self.on_cycle = on_cycle
        self.values: dict[Hashable, V] = {}
        self._busy: set[Hashable] = set()  # being computed, inside each other
        self._pending: set[Hashable] = set()  # being computed, waiting for a _Later key

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        if key in self.values:
            return self.values[key]
        if key in self._busy or key in self._pending:
            return self.on_cycle
        if len(self._busy) >= NESTED:
            raise _Later(key, compute, frozenset(self._busy))
        if self._busy:
            return self._compute(key, compute)
        # the outermost: what its chain hands back is computed first, and
        # what waited for it is tried again (each try gets further)
        work: list[tuple[Hashable, Callable[[], V]]] = [(key, compute)]
        waiting: list[frozenset] = []  # the chain each entry below the top left off
        while work:
            top, top_compute = work[-1]
            try:
                self._compute(top, top_compute)
            except _Later as later:
                waiting.append(later.chain)
                self._pending |= later.chain
                work.append((later.key, later.compute))
                continue
            work.pop()
            if waiting:  # the entry below is tried again, its chain anew
                self._pending -= waiting.pop()
        return self.values[key]

    def _compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        self._busy.add(key)
        try:
            value = compute()
        finally:
            self._busy.discard(key)
        self.values[key] = value
        return value
