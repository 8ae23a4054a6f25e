"""Names in any script on the way into Asterisk (docs/asterisk.md "Names in
other scripts"): queue names stay plain ASCII and distinct, a flow's AGI
script is percent-encoded by the dialplan and decoded by the server, and the
flow store keeps a flow named in Chinese."""

from __future__ import annotations

import pytest

from ccdsl.runtime.asterisk.agi import environment_from
from ccdsl.runtime.asterisk.config import FastAgiConfig, agi_script
from ccdsl.runtime.asterisk.names import queue_name
from ccdsl.runtime.operations.reports import reconcile


def test_queue_names_beyond_ascii_are_punycode_and_never_collide():
    assert queue_name("service") == "ccf-service"  # ASCII names are unchanged
    assert queue_name("billing.vip") == "ccf-billing_vip"
    names = {queue_name(q) for q in ("售后", "销售", "main.售后", "main_售后x", "a售")}
    assert len(names) == 5
    for name in names:
        assert name.startswith("ccf-xn--") and name.isascii()
        assert all(c.isalnum() or c in "_-" for c in name)


def test_reports_spell_a_queue_as_the_switch_does():
    # one spelling (ccdsl/plain_names.py) for the deployment and the reconciliation
    assert reconcile.queue_name is queue_name


def test_a_flow_named_in_chinese_travels_percent_encoded_and_comes_back():
    url = FastAgiConfig().url("热线")
    assert url.isascii() and url.endswith("/%E7%83%AD%E7%BA%BF")
    assert FastAgiConfig().url("hotline") == "agi://127.0.0.1:4573/hotline"
    assert agi_script("ccf-answered?call=${ARG1}") == "ccf-answered?call=${ARG1}"
    env = environment_from({"agi_network_script": agi_script("热线") + "?lang=zh-CN",
                            "agi_uniqueid": "1.1", "agi_channel": "PJSIP/x-1"})
    assert env.script == "热线" and env.query == {"lang": "zh-CN"}


def test_every_fastagi_address_spells_a_flow_named_in_chinese_alike():
    """[fastagi] srv and hosts (several workers) write the script as [fastagi] host does."""
    from ccdsl.runtime.asterisk.config_servers import AgiWorkers, agi_urls

    one = FastAgiConfig()
    encoded = one.url("热线").rsplit("/", 1)[1]
    assert agi_urls(one, AgiWorkers(srv="agi.example"), "热线") == (
        f"hagi://agi.example/{encoded}",)
    assert agi_urls(one, AgiWorkers(hosts=(("10.0.0.1", 4573), ("::1", 4574))), "热线") == (
        f"agi://10.0.0.1:4573/{encoded}", f"agi://[::1]:4574/{encoded}")
    assert agi_urls(one, AgiWorkers(), "热线") == (one.url("热线"),)


def test_the_flow_store_keeps_a_flow_named_in_chinese_and_refuses_paths(tmp_path):
    from ccdsl.runtime.asterisk.flowstore import FlowStore, FlowStoreError

    store = FlowStore(tmp_path / "flows")
    ir = {"name": "热线"}
    deployed = store.prepare({"热线": ir}, numbers={"4008001234": "热线"})
    assert store.get(deployed.version).flows["热线"] == ir
    for bad in ("../x", "a/b", "热.线", "热 线", "cafe\u0301"):
        with pytest.raises(FlowStoreError):
            store.prepare({bad: ir}, numbers={})
