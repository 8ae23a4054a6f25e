"""compiler/zone_files.py: a zone it calls surely listed is one zoneinfo lists, and the
zones a flow usually names are found from their own file (start-up, issue 15)."""

from __future__ import annotations

import os
import zoneinfo

from hypothesis import given
from hypothesis import strategies as st

from ccdsl.compiler.zone_files import surely_listed

LISTED = frozenset(zoneinfo.available_timezones())
ODD = ["", "/", "Asia", "Asia/", "asia/shanghai", "ASIA/SHANGHAI", "Asia//Shanghai",
       "./Asia/Shanghai", "Asia/../Asia/Shanghai", "../zoneinfo/UTC", "/usr/share/zoneinfo/UTC",
       "posixrules", "right/UTC", "posix/UTC", "right", "posix", "zone.tab", "tzdata.zi",
       "iso3166.tab", "leapseconds", "localtime", "Asia/Shanghai/", "Etc/GMT+8", "UTC\x00"]


def test_a_zone_surely_listed_is_listed() -> None:
    for name in [*sorted(LISTED), *ODD]:
        assert not surely_listed(name) or name in LISTED, name


@given(st.text(alphabet="AaSsUTC/._+-hinagz0", max_size=20))
def test_any_name_surely_listed_is_listed(name: str) -> None:
    assert not surely_listed(name) or name in LISTED


def test_the_system_zones_are_found_from_their_files() -> None:
    # with a system database most listed zones are found without the list; with only
    # the tzdata package none are, and the check asks the full list as before
    system = [root for root in zoneinfo.TZPATH if root and os.path.isdir(root)]
    found = [name for name in sorted(LISTED) if surely_listed(name)]
    if system:
        assert "Asia/Shanghai" in found and "UTC" in found
        assert len(found) > len(LISTED) // 2
    else:
        assert found == []
