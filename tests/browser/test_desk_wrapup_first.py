"""At page load the desk keeps the form the server rendered (the oldest unsaved), not the
form of the call wrapped up now: the first state had no list of unsaved forms, so the page
fetched the current call's form over the server's, and two fetches raced for the form."""

from __future__ import annotations

from tests.console.desk_calls import store_call, wrapping_up

from .desk_rig import at_desk


def test_the_oldest_unsaved_form_stays_at_page_load(browser, console) -> None:
    store_call(console, "w1")
    store_call(console, "w2")
    wrapping_up(console, "w1")
    console.run(console.desk.ready("zhang"))
    wrapping_up(console, "w2")  # wrapping up w2 now, w1's form still unsaved
    with at_desk(browser, console) as (desk, watched):
        asked: list[str] = []
        desk.on("request", lambda r: asked.append(r.url) if "/desk/wrapup/" in r.url else None)
        # the first state alone, as the page shows it before the live stream's first event
        desk.route("**/live", lambda route: route.abort())
        desk.reload()
        desk.wait_for_load_state("networkidle")
        assert desk.text_content("#wrapup-of") == "w1"
        assert desk.get_attribute("#wrapup-form", "action") == "/desk/wrapup/w1"
        assert not [url for url in asked if url.endswith("/w2")], asked
