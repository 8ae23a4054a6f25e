"""The flow store: versions written whole, an atomic pointer a server
polls cheaply, rollback along the deploy history, and concurrent deploys
that never corrupt it."""

from __future__ import annotations

import json
import os
import threading

import pytest

from asterisk.hotline_ir import hotline_ir, variant  # noqa: F401 - the `hotline` fixture
from ccdsl.runtime.asterisk.flowstore import FlowStore, FlowStoreError, ir_hash
from ccdsl.runtime.core.ir import load_program


def test_deploy_writes_a_version_and_points_at_it(tmp_path, hotline):
    store = FlowStore(tmp_path / "flows")
    assert store.current() is None and store.versions() == []
    deployed = store.deploy({"hotline": hotline}, numbers={"4008001234": "hotline"},
                            note="first", sources={"hotline": "examples/iws/hotline.ccf"},
                            attached={"extensions_ccf.conf": "[ccf-inbound]\n"})
    assert deployed.version == "0001" and deployed.current and deployed.previous is None
    folder = tmp_path / "flows" / "versions" / "0001"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == "0001" and manifest["note"] == "first"
    assert manifest["numbers"] == {"4008001234": "hotline"}
    assert manifest["flows"] == {"hotline": {"source": "examples/iws/hotline.ccf",
                                             "ir_hash": ir_hash(hotline)}}
    assert manifest["created"].endswith("+00:00")
    assert (tmp_path / "flows" / "current").read_text() == "0001\n"
    bundle = store.current()
    assert bundle.version == "0001" and bundle.numbers == {"4008001234": "hotline"}
    assert bundle.flows["hotline"] == hotline
    # the IR keeps its table order: the runtime reads declarations in order
    assert list(bundle.flows["hotline"]["steps"]) == list(hotline["steps"])
    assert load_program(bundle.flows["hotline"]).name == "hotline"
    assert store.attached("0001", "extensions_ccf.conf") == "[ccf-inbound]\n"
    assert store.attached("0001", "queues_ccf.conf") is None
    assert store.get("0001") is bundle  # versions never change: loaded once


def test_changed_is_a_cheap_poll_of_the_pointer(tmp_path, hotline):
    store = FlowStore(tmp_path)
    assert store.changed() is False  # nothing deployed, nothing read: no change
    store.deploy({"hotline": hotline}, numbers={})
    assert store.changed() is True
    first = store.current()
    assert store.changed() is False
    program = load_program(first.flows["hotline"])
    # another process deploys (a separate object over the same folder)
    FlowStore(tmp_path).deploy({"hotline": variant(hotline, "new")}, numbers={})
    assert store.changed() is True
    second = store.current()
    assert second.version == "0002" and store.changed() is False
    # a call that started on version 1 keeps its program untouched
    assert first.flows["hotline"]["flow"]["title"] == "IWS customer service"
    assert program.flow["title"] == "IWS customer service"
    assert second.flows["hotline"]["flow"]["title"] == "new"


def test_rollback_follows_the_deploy_history(tmp_path, hotline):
    store = FlowStore(tmp_path)
    with pytest.raises(FlowStoreError, match="nothing is deployed"):
        store.rollback()
    store.deploy({"hotline": variant(hotline, "v1")}, numbers={})
    with pytest.raises(FlowStoreError, match="0001 is the first deployment; there is no "
                                             "earlier version"):
        store.rollback()
    store.deploy({"hotline": variant(hotline, "v2")}, numbers={})
    back = store.rollback()
    assert back.version == "0001" and back.current
    assert store.current().flows["hotline"]["flow"]["title"] == "v1"
    # a deploy after a rollback comes after the version that was current (v1),
    # so rolling it back never lands on the version rolled away from (v2)
    v3 = store.deploy({"hotline": variant(hotline, "v3")}, numbers={})
    assert v3.version == "0003" and v3.previous == "0001"
    assert store.rollback_target().version == "0001"
    assert store.rollback().version == "0001"
    listed = store.versions()
    assert [(v.version, v.current) for v in listed] == [("0001", True), ("0002", False),
                                                        ("0003", False)]


def test_rollback_refuses_when_the_previous_version_is_gone(tmp_path, hotline):
    store = FlowStore(tmp_path)
    store.deploy({"hotline": hotline}, numbers={})
    store.deploy({"hotline": hotline}, numbers={})
    (tmp_path / "versions" / "0001" / "manifest.json").unlink()
    with pytest.raises(FlowStoreError, match="came after 0001, which is no longer in the store"):
        store.rollback()


def test_restore_and_discard_undo_a_deploy(tmp_path, hotline):
    store = FlowStore(tmp_path)
    prepared = store.prepare({"hotline": hotline}, numbers={})
    assert store.current_version() is None and [v.version for v in store.versions()] == ["0001"]
    store.activate(prepared.version)
    with pytest.raises(FlowStoreError, match="is current; it cannot be removed"):
        store.discard("0001")
    store.restore(None)
    assert store.current_version() is None
    store.discard("0001")
    assert store.versions() == []


def test_a_broken_pointer_or_a_half_written_version_is_reported_or_ignored(tmp_path, hotline):
    store = FlowStore(tmp_path)
    store.deploy({"hotline": hotline}, numbers={})
    # what a crash during prepare() leaves: a temporary folder, not a version
    (tmp_path / "versions" / ".0002-abc").mkdir()
    (tmp_path / "versions" / "0003").mkdir()  # no manifest: not a version either
    assert [v.version for v in store.versions()] == ["0001"]
    assert store.deploy({"hotline": hotline}, numbers={}).version == "0002"
    (tmp_path / "current").write_text("garbage\n")
    with pytest.raises(FlowStoreError, match="holds 'garbage', not a version"):
        store.current()
    with pytest.raises(FlowStoreError, match="no version 0009"):
        store.get("0009")
    with pytest.raises(FlowStoreError, match="is not a version"):
        store.get("../0001")


def test_names_that_cannot_be_files_are_refused(tmp_path, hotline):
    store = FlowStore(tmp_path)
    with pytest.raises(FlowStoreError, match="cannot be a flow name"):
        store.deploy({"../evil": hotline}, numbers={})
    with pytest.raises(FlowStoreError, match="cannot be a file name"):
        store.deploy({"ok": hotline}, numbers={}, attached={"../x.conf": ""})
    assert store.versions() == []


def test_concurrent_deploys_get_distinct_complete_versions(tmp_path, hotline):
    errors: list[BaseException] = []

    def deploy_some(worker: int) -> None:
        store = FlowStore(tmp_path)  # its own lock file descriptor, as another process has
        try:
            for n in range(3):
                store.deploy({"hotline": variant(hotline, f"{worker}-{n}")}, numbers={},
                             note=f"{worker}-{n}")
        except BaseException as exc:  # reported below: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=deploy_some, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    store = FlowStore(tmp_path)
    versions = store.versions()
    assert [v.version for v in versions] == [f"{n:04d}" for n in range(1, 19)]
    notes = sorted(v.note for v in versions)
    assert notes == sorted(f"{w}-{n}" for w in range(6) for n in range(3))
    for v in versions:
        bundle = FlowStore(tmp_path).get(v.version)
        assert bundle.flows["hotline"]["flow"]["title"] == v.note
    assert store.current_version() in {v.version for v in versions}
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".current-")]
