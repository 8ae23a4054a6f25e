"""Values in a call's trace read as the .ccf language writes them."""

from __future__ import annotations

import pytest

from ccdsl.runtime.operations.trace import describe


@pytest.mark.parametrize(("value", "shown"), [
    (True, "true"), (False, "false"), (None, "null"), (3, "3"), (2.5, "2.5"),
    ("text", '"text"'),
])
def test_an_assignment_shows_the_value_as_a_flow_writes_it(value, shown) -> None:
    assert describe("variable_set", {"name": "broken", "value": value}) == f"broken = {shown}"
