"""Events: built by position or by name, with an empty data map and no
location by default, equal by value, and frozen."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from ccdsl.runtime.core.events import Event

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_an_event_is_built_by_position_or_by_name():
    loc = {"file": "hotline.ccf", "line": 3, "column": 1}
    by_position = Event("c1", 2, T0, "step_entered", {"step": "welcome"}, loc)
    by_name = Event(call_id="c1", seq=2, at=T0, kind="step_entered",
                    data={"step": "welcome"}, loc=loc)
    assert by_position == by_name
    assert (by_name.call_id, by_name.seq, by_name.at, by_name.kind) == ("c1", 2, T0,
                                                                        "step_entered")
    assert by_name.data == {"step": "welcome"} and by_name.loc is loc


def test_defaults_are_an_empty_map_of_its_own_and_no_location():
    a, b = Event("c1", 1, T0, "answered"), Event("c1", 2, T0, "answered")
    assert a.data == {} and a.loc is None
    assert a.data is not b.data


def test_an_event_is_frozen_and_replace_makes_a_new_one():
    event = Event("c1", 1, T0, "answered")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.seq = 5  # type: ignore[misc]
    later = dataclasses.replace(event, seq=5)
    assert later.seq == 5 and event.seq == 1
    assert "seq=1" in repr(event)
