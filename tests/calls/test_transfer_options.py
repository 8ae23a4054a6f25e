"""`transfer ... caller_id X announce P` works (issue 13): the party the
call is transferred to is shown caller id X and hears P before the caller
is connected, in a blind and an attended transfer. The simulator models it;
over FastAGI ccf serve gives Dial() `f(X)A(file)` (the attended transfer's
EXEC Dial, or the blind transfer's dialplan through CCF_TRANSFER_DIAL),
which the test peer parses as app_dial does."""

from __future__ import annotations

import pytest

from calls.world import ROOT, RUNTIMES, run_on

FLOW = ROOT / "tests" / "scenarios" / "transfer_options_line.ccf"
BRIEF = "A customer about a parcel, from the hotline."


def _line(run, kind: str) -> list[dict]:
    return [d for k, d in run.line if k == kind]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(("name", "party", "shown", "mode"), [
    ("a blind transfer to the courier", "+862150009999", "+862150000000", "blind"),
    ("an attended transfer to the supervisor", "zhao", "+862150000001", "attended"),
])
def test_the_called_party_sees_the_caller_id_and_hears_the_announcement(
        runtime, name, party, shown, mode, tmp_path):
    run = run_on(runtime, FLOW, name, tmp_path)
    (event,) = [e.data for e in run.events if e.kind == "transfer"]
    assert (event["target"], event["status"], event["caller_id"]) == \
        (party, "transferred", shown)
    (done,) = [d for d in _line(run, "transfer") if d["status"] == "transferred"]
    assert (done["target"], done["mode"], done["caller_id"]) == (party, mode, shown)
    (announced,) = _line(run, "announced")
    assert announced["party"] == party
    assert (announced["kind"], announced["text"]) == ("tts", BRIEF)
    assert announced["ms"] > 0
    assert run.result.outcome == "transfer"
