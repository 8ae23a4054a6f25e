"""Dial()'s f() and A() as ccf serve writes them for a transfer, and as the
test peer reads them (main/app.c parse_options, apps/app_dial.c)."""

from __future__ import annotations

import pytest

from ccdsl.runtime.asterisk.dial_options import transfer_options
from ccdsl.runtime.asterisk.names import UnsafeValue
from ccdsl.runtime.testing.peer.app_options import (
    announcement,
    forced_caller_id,
    parse_options,
)


def test_ccf_serve_writes_f_and_a_from_checked_values() -> None:
    assert transfer_options("+86 21 5000-0000", "/var/tts/ab12") == \
        "f(+862150000000)A(/var/tts/ab12)"
    assert transfer_options(None, None) == ""
    assert transfer_options("", "beep") == "A(beep)"
    with pytest.raises(UnsafeValue):
        transfer_options("+86)G(evil", None)
    with pytest.raises(UnsafeValue):
        transfer_options(None, "/tmp/a:b")  # A's caller part would begin at the colon


@pytest.mark.parametrize(("text", "parsed"), [
    ("tf(+862150000000)A(/var/tts/ab12)",
     {"t": None, "f": "+862150000000", "A": "/var/tts/ab12"}),
    ("gU(ccf-answered^c1^li)", {"g": None, "U": "ccf-answered^c1^li"}),
    ("A(a(b)c)t", {"A": "a(b)c", "t": None}),  # brackets nest
    ("f(\\)x)", {"f": ")x"}),  # a backslash outside quotes is dropped, keeping `)`
    ('f("Desk <+8621>")', {"f": "Desk <+8621>"}),  # quotes when the argument starts with one
    ("A(unclosed", {"A": "unclosed"}),
    ("", {}),
])
def test_the_peer_parses_options_as_asterisk(text, parsed) -> None:
    assert parse_options(text) == parsed


def test_what_f_and_a_ask_of_the_called_party() -> None:
    assert forced_caller_id(parse_options("f(+862150000000)")) == "+862150000000"
    assert forced_caller_id(parse_options('f("Hotline <+862150000000>")')) == "+862150000000"
    assert forced_caller_id(parse_options("f")) is None  # only forces a forward's
    assert forced_caller_id(parse_options("t")) is None
    assert announcement(parse_options("A(brief:caller-side)")) == "brief"
    assert announcement(parse_options("A(:caller-side)")) is None
