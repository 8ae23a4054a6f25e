"""A wrap-up saved on one worker for a call another worker stored: the save's 404 ("no such call
in the call store", which takes the form off the desk for good) comes only from the store's
file, never from what this worker's memory has not seen. The worker that did not run the call
reads the file at each save (CallStore.call: memory, then the file, in autocommit, so never a
snapshot older than the other worker's commit), and the form asked of the agent is written in
the same transaction as the call's row, so a form this worker can show has its call readable.
Two consoles over one store, as two `ccf serve` workers; on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.console.desk_calls import store_call
from tests.desk_fixes.test_wrapup_saved_elsewhere import SAVE, two_workers


def test_a_call_stored_by_another_worker_is_found_by_this_ones_save(tmp_path,
                                                                    store_target) -> None:
    one, two = two_workers(tmp_path, None if store_target.endswith(".db") else store_target)
    try:
        web_two = two.client("zhang")
        # worker two looks first: no such call yet, and its store has read the file for it
        assert two.post(web_two, "/desk/wrapup/w1", **SAVE).status_code == 404
        assert two.store.call("w1") is None

        # the call runs on worker one, which writes it (row and the form asked) as it goes
        store_call(one, "w1", ended=False)
        saved = two.post(web_two, "/desk/wrapup/w1", **SAVE)
        assert saved.status_code == 200, saved.text
        assert saved.json()["stored"] == "now"

        # a call worker one ran to its end: shown on worker two's desk and saved there
        store_call(one, "w2")
        assert 'action="/desk/wrapup/w2"' in web_two.get("/desk").text
        saved = two.post(web_two, "/desk/wrapup/w2", **SAVE)
        assert saved.status_code == 200, saved.text
        for call_id in ("w1", "w2"):
            record = one.store.call(call_id)
            assert record["wrapup"]["values"] == {"reason": "order", "resolved": True}, call_id
    finally:
        one.close()
        two.close()
