"""The pop's CRM card has one shape, ringing or answered: a record is a heading (its kind
and id) over its fields; a duration reads as a clock."""

from __future__ import annotations

import re

from tests.console.desk_calls import pop, ringing

HTML = {"Accept": "text/html"}
CUSTOMER = {"kind": "customer", "id": "C5005", "name": "Li Ming", "tier": "VIP"}


def crm_rows(page: str) -> list[str]:
    table = page[page.index('<table id="crm"'):page.index("</table>")]
    return re.findall(r"<th[^>]*>([^<]*)</th>", table)


def test_the_ringing_and_the_answered_pop_have_one_shape(console) -> None:
    ringing(console, "c1")
    pop(console, "c1", customer=CUSTOMER)  # offered: the CRM record alone
    web = console.client("zhang")
    ringing_rows = crm_rows(web.get("/desk", headers=HTML).text)
    payload = pop(console, "c1", customer=CUSTOMER)
    payload["items"] = [CUSTOMER, {"kind": "call", "id": "c1",
                                   "queue_wait": {"duration_ms": 75_000}}]
    console.ctx.pops.offer("zhang", payload)  # answered: what the flow's screen_pop chose
    page = web.get("/desk", headers=HTML).text
    answered_rows = crm_rows(page)
    assert ringing_rows == ["customer C5005", "name", "tier"]
    assert answered_rows[:3] == ringing_rows
    assert '<th scope="row">queue_wait</th><td>1:15</td>' in page
