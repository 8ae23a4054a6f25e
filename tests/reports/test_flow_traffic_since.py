"""flow_traffic's start is a moment (`since`) or a --since text (`since_text`), never both:
given both it refuses rather than silently keep the text and drop the moment. No caller gives
both (ccf graph --store passes the text, ccf report and the console's Flows page the moment)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccdsl.runtime.operations.reports.flow_traffic import flow_traffic
from reports import busy


def test_a_moment_and_a_since_text_together_are_refused(tmp_path) -> None:
    store = busy.write_busy_store(tmp_path / "calls.db")
    moment = datetime(2099, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="since or since_text, not both"):
        flow_traffic(store, "hotline", moment, since_text="2020-01-01")
    # each alone is taken: the moment after every call leaves none, the text before them all
    assert flow_traffic(store, "hotline", moment).calls == 0
    assert flow_traffic(store, "hotline", since_text="2020-01-01").calls > 0
