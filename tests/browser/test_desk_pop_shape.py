"""The live pop's CRM card keeps its shape from ringing to answered."""

from __future__ import annotations

from tests.console.desk_calls import pop, ringing

from .desk_rig import at_desk
from .screens import shoot

CUSTOMER = {"kind": "customer", "id": "C5005", "name": "Li Ming", "tier": "VIP"}
ROWS = "() => [...document.querySelectorAll('#crm th')].map(t => t.textContent)"



def test_the_crm_card_has_one_shape_ringing_and_answered(browser, console) -> None:
    with at_desk(browser, console) as (desk, watched):
        ringing(console, "c1")
        offered = pop(console, "c1", customer=CUSTOMER)
        console.call_soon(lambda: console.feed.publish("pop", offered, agent="zhang"))
        desk.wait_for_function(f"() => ({ROWS})().length === 3")
        assert desk.evaluate(ROWS) == ["customer C5005", "name", "tier"]
        answered = {**offered, "items": [CUSTOMER, {"kind": "call", "id": "c1",
                                                    "queue_wait": {"duration_ms": 75_000}}]}
        console.call_soon(lambda: console.feed.publish("pop", answered, agent="zhang"))
        desk.wait_for_function(f"() => ({ROWS})().length === 5")
        assert desk.evaluate(ROWS) == ["customer C5005", "name", "tier", "call c1",
                                       "queue_wait"]
        assert "1:15" in desk.inner_text("#crm")
        shoot(desk, "desk-pop-shape")
        desk.set_viewport_size({"width": 390, "height": 844})
        shoot(desk, "desk-pop-shape-narrow")
    assert watched.errors == []
