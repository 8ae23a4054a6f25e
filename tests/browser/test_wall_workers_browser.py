"""The wallboard in Chromium: another worker's calls arrive by the live stream and are drawn
by wall.js, each naming its worker as text (a hostile host name stays text), and a worker
listed up whose API is closed is named as not answering, without a reload."""

from __future__ import annotations

from ports import free_port

from tests.browser.screens import Watched, log_in, shoot
from tests.console.rig import PASSWORD, Console
from tests.console.test_history_calls import HOSTILE
from tests.console.test_wall_every_worker import TOKEN, centre_of, other_worker


def test_the_wall_draws_the_other_workers_calls_live(browser, tmp_path) -> None:
    rig = Console(tmp_path, token=TOKEN)
    watched = Watched()
    try:
        with other_worker() as (port, _):
            centre_of(rig, port, free_port())
            workers = rig.status_doc.pop("workers")  # none at first: this worker's calls only
            context, wall = log_in(browser, rig.base, "sup", PASSWORD, watched)
            assert wall.url.endswith("/wall")  # a supervisor's home
            wall.wait_for_selector("#wall-link.live")
            wall.evaluate("window.__same_page = 1")
            assert wall.locator("#wall-call-rows tr[data-call]").count() == 1
            assert wall.locator("#wall-silent").is_hidden()
            rig.status_doc["workers"] = workers  # the other workers come up
            wall.wait_for_selector("#wall-call-rows tr[data-call=there-2]")
            row = wall.locator("#wall-call-rows tr[data-call=there-2] td").all_text_contents()
            assert row[0] == f"cc-{HOSTILE}" and row[1] == HOSTILE
            assert wall.locator("#wall-call-rows script").count() == 0
            assert wall.locator("#wall-silent").is_visible()
            assert "cc-gone" in wall.locator("#wall-silent-names").text_content()
            assert "not answering" in wall.locator("#wall-workers").text_content()
            assert wall.evaluate("window.__same_page") == 1
            shoot(wall, "wall-every-worker")
            rig.status_doc["workers"] = []  # all gone: wall.js says why, as the page did
            wall.wait_for_selector("#wall-workers tbody tr.empty")
            assert wall.locator("#wall-workers tbody").text_content() == (
                "a simulated centre: its calls run in this ccf serve, on no FastAGI worker")
            # before the page closes (which ends its live stream)
            assert not watched.errors and not watched.failed, (watched.errors, watched.failed)
            context.close()
    finally:
        rig.close()
