"""The flow store in the call store's database, on SQLite and on a real PostgreSQL: every worker
(each its own store object, as each `ccf serve` has) sees a deploy or rollback at its next look,
versions never change, and deploys of several hosts take turns."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from types import SimpleNamespace

import pytest

from asterisk.hotline_ir import hotline_ir, variant  # noqa: F401 - the `hotline` fixture
from ccdsl.runtime.asterisk.flowstore import FlowStore, FlowStoreError, ir_hash
from ccdsl.runtime.asterisk.flowstore_db import DbFlowStore, flow_store_for, in_database
from ccdsl.runtime.asterisk.service import StoreFlows
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION


def test_a_deploy_is_seen_by_every_worker_and_a_call_keeps_its_version(store_target, hotline):
    deployer, one, two = (DbFlowStore(store_target) for _ in range(3))
    assert one.current() is None and deployer.versions() == []
    first = deployer.deploy({"hotline": hotline}, numbers={"4008001234": "hotline"},
                            note="first", sources={"hotline": "hotline.ccf"},
                            attached={"extensions_ccf.conf": "[ccf-inbound]\n"})
    assert first.version == "0001" and first.current and first.previous is None
    workers = [StoreFlows(one, poll_s=0), StoreFlows(two, poll_s=0)]
    assert [w.version for w in workers] == ["0001", "0001"]
    started_on = workers[0].lookup("hotline")  # a call in progress holds its Program
    second = deployer.deploy({"hotline": variant(hotline, "new")}, numbers={}, note="second")
    assert second.version == "0002" and second.previous == "0001"
    assert one.changed() and two.changed()
    # a new call does not look (a round trip on the event loop): each worker's tick does, in
    # a thread (ccf serve's _tick; at once on PostgreSQL's NOTIFY)
    assert [w.lookup("hotline")[0] for w in workers] == ["0001", "0001"]
    assert [asyncio.run(w.poll()) for w in workers] == [True, True]
    assert [w.lookup("hotline")[0] for w in workers] == ["0002", "0002"]
    assert started_on[0] == "0001" and started_on[1].doc == hotline
    assert workers[1].programs["hotline"].doc["flow"]["title"] == "new"
    assert not one.changed()
    bundle = one.get("0001")
    assert bundle.flows["hotline"] == hotline and bundle.numbers == {"4008001234": "hotline"}
    assert list(bundle.flows["hotline"]["steps"]) == list(hotline["steps"])  # order kept
    assert bundle.manifest.flows[0].ir_hash == ir_hash(hotline)
    assert one.get("0001") is bundle
    assert one.attached("0001", "extensions_ccf.conf") == "[ccf-inbound]\n"
    assert one.attached("0002", "extensions_ccf.conf") is None
    listed = two.versions()
    assert [(v.version, v.current, v.note) for v in listed] == [
        ("0001", False, "first"), ("0002", True, "second")]
    assert listed[0].to_json()["flows"] == {"hotline": {"source": "hotline.ccf",
                                                        "ir_hash": ir_hash(hotline)}}


def test_rollback_moves_every_worker_back_even_to_a_version_it_had(store_target, hotline):
    store, worker = DbFlowStore(store_target), DbFlowStore(store_target)
    store.deploy({"hotline": hotline}, numbers={})
    flows = StoreFlows(worker, poll_s=0)
    store.deploy({"hotline": variant(hotline, "two")}, numbers={})
    asyncio.run(flows.poll())  # the worker's tick
    assert flows.lookup("hotline")[0] == "0002"
    assert store.rollback_target().version == "0001"
    assert store.rollback().version == "0001"
    asyncio.run(flows.poll())
    assert flows.lookup("hotline")[0] == "0001"
    store.activate("0002")
    store.activate("0001")  # back where the worker last looked, by way of another version
    assert worker.changed()


def test_discard_restore_and_errors_say_what_to_do(store_target, hotline):
    store = DbFlowStore(store_target)
    with pytest.raises(FlowStoreError, match="nothing is deployed in the call store"):
        store.rollback_target()
    store.deploy({"hotline": hotline}, numbers={})
    with pytest.raises(FlowStoreError, match="first deployment"):
        store.rollback_target()
    prepared = store.prepare({"hotline": variant(hotline, "x")}, numbers={})
    assert store.current_version() == "0001"  # prepared, not current
    with pytest.raises(FlowStoreError, match="is current"):
        store.discard("0001")
    store.discard(prepared.version)
    assert [v.version for v in store.versions()] == ["0001"]
    with pytest.raises(FlowStoreError, match="no version 0009"):
        store.get("0009")
    with pytest.raises(FlowStoreError, match="not a version"):
        store.activate("../x")
    with pytest.raises(FlowStoreError, match="cannot be a flow name"):
        store.deploy({"a/b": hotline}, numbers={})
    store.restore(None)
    assert store.current_version() is None and store.current() is None
    # as in the folder store, a discarded version (a deploy that failed to apply, never
    # served) leaves its number to the next
    assert store.deploy({"hotline": hotline}, numbers={}).version == "0002"


def test_deploys_of_several_hosts_take_turns(store_target, hotline):
    errors: list[BaseException] = []

    def deploy(n: int) -> None:
        try:
            DbFlowStore(store_target).deploy({"hotline": variant(hotline, str(n))},
                                             numbers={}, note=str(n))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = DbFlowStore(store_target).versions()
    assert [v.version for v in versions] == ["0001", "0002", "0003", "0004"]
    # each deploy saw the one before it as current
    assert [v.previous for v in versions] == [None, "0001", "0002", "0003"]


def test_the_call_store_opens_a_database_the_flow_store_made_first(tmp_path, hotline):
    path = tmp_path / "calls.db"
    DbFlowStore(path).deploy({"hotline": hotline}, numbers={})
    with CallStore(path) as calls:
        assert calls.schema_version == SCHEMA_VERSION
    assert DbFlowStore(path).current_version() == "0001"


def test_another_programs_database_is_left_alone(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(FlowStoreError, match="not a call store"):
        DbFlowStore(path).versions()
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
    assert names == ["accounts"]


def test_which_store_a_centre_uses(tmp_path):
    def centre(flows: str, store: str):
        return SimpleNamespace(flows_dir=flows, store_path=store)

    assert in_database(centre(str(tmp_path / "flows"), "postgresql://ccf@db/ccf"))
    assert isinstance(flow_store_for(centre(str(tmp_path / "flows"), "postgresql://h/c")),
                      DbFlowStore)
    same = str(tmp_path / "calls.db")
    assert isinstance(flow_store_for(centre(same, same)), DbFlowStore)
    folder = flow_store_for(centre(str(tmp_path / "flows"), same))
    assert type(folder) is FlowStore and folder.where == str(tmp_path / "flows")


def test_a_store_that_cannot_be_read_keeps_the_version_in_service(tmp_path, hotline, caplog):
    path = tmp_path / "calls.db"
    DbFlowStore(path).deploy({"hotline": hotline}, numbers={})
    flows = StoreFlows(DbFlowStore(path), poll_s=0)
    path.write_bytes(b"not a database" * 100)  # the database lost under the worker
    for _ in range(2):  # two ticks of the worker, each looking for a new version
        asyncio.run(flows.poll())
        assert flows.lookup("hotline")[0] == "0001"
    said = [r.getMessage() for r in caplog.records if "stay on the version" in r.getMessage()]
    assert len(said) == 1  # said once, not at every call


def test_a_version_10_store_gains_the_shared_tables(tmp_path, hotline):
    from ccdsl.runtime.operations.workers_schema import WORKER_TABLES

    path = tmp_path / "calls.db"
    CallStore(path).close()
    with sqlite3.connect(path) as db:  # as schema 10 left it
        for table in WORKER_TABLES:
            db.execute(f"DROP TABLE {table}")
        db.execute("UPDATE meta SET value = '10' WHERE key = 'schema_version'")
    with CallStore(path) as calls:
        assert calls.schema_version == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert set(WORKER_TABLES) <= tables
