"""The store's fast paths against the general ones: an event_batches element built as text
(store_record.event_element) is what encoding the event's values as one JSON list gives, a
row's values picked in C (row_values) are what picking each gives, and one row a call
holds its events in order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations.store_queue import _batched
from ccdsl.runtime.operations.store_record import _col, encode_json, event_element, row_values

texts = st.text(max_size=12)  # any code point: quotes, controls, CJK, surrogates
# no NaN or infinity: no JSON number is either, and the store refuses them
scalars = (st.none() | st.booleans() | st.integers() | texts
           | st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts, inner, max_size=4), max_leaves=12)
locs = st.none() | st.fixed_dictionaries({}, optional={"file": st.none() | texts,
                                                       "line": scalars, "column": scalars})


def _general(seq, at, ms, kind, step, loc, data) -> str:
    loc = loc or {}
    return encode_json([seq, at, ms, kind, step, loc.get("file"), loc.get("line"),
                        loc.get("column"), to_json(data)])


@settings(max_examples=300, deadline=None)
@given(seq=st.integers(0, 10**6) | st.booleans(), at=texts, ms=st.integers(0, 2**53),
       kind=texts, step=st.none() | texts, loc=locs,
       data=st.dictionaries(texts, values, max_size=5))
def test_event_json_is_the_general_encoding(seq, at, ms, kind, step, loc, data):
    built = event_element(seq, at, ms, kind, step, loc, data)
    assert built == _general(seq, at, ms, kind, step, loc, data)
    assert json.loads(built)[8] == json.loads(encode_json(to_json(data)))


def test_event_json_takes_keys_json_cannot_and_run_time_values():
    at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    data = {("a", 1): 1, "when": at, "took": timedelta(seconds=2)}
    built = event_element(3, "t", 5, "log", None, {"file": ["x"], "line": 1}, data)
    assert json.loads(built) == json.loads(_general(3, "t", 5, "log", None,
                                                    {"file": ["x"], "line": 1}, data))


def test_a_batch_holds_one_row_a_call_its_events_in_order():
    # the queue keeps each call's events under it as they come: the first one's seq, then
    # each event's JSON array (tests/runtime/test_store_queue_rows.py)
    queued = {"a": [1, "[1]", "[2]", "[3]"], "b": [7, "[7]", "[8]"]}
    assert _batched(queued) == [("a", 1, "[[1],[2],[3]]"), ("b", 7, "[[7],[8]]")]


@settings(max_examples=200, deadline=None)
@given(row=st.dictionaries(st.sampled_from("abcdef"), values, min_size=6))
def test_row_values_is_each_column_made_storable(row):
    for columns in (("f", "a", "c"), ("b",)):  # one column: still a tuple
        assert row_values(row, columns) == tuple(_col(row[c]) for c in columns)
