"""Each test's call store is a copy of one migrated empty store (runtime/sim/store_template.py):
what a test sees is what a freshly created store gave it, no test sees another's calls, and the
template's folder is gone once the run ends, however it ends."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.sim.scenario import run_scenario
from ccdsl.runtime.sim.store_template import StoreTemplates
from ccdsl.runtime.testing import run_test
from ccdsl.runtime.testing.blocks import scenario_from_test

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"
TEMPLATE_PREFIX = "ccf-store-template-"
WORKDIR = re.compile(r"ccf-test-[^/\"]+")

# the second test would be routed `via last_agent to zhang` if it saw the first's call
LOYAL = """flow loyal:
  languages en-US

routing back_to_them:
  last_agent of caller ring 15s
  skills [general] ring 15s
  otherwise -> hangup

on start:
  answer
  route back_to_them

test "zhang talks to the caller":
  at "2026-11-30 10:00 UTC"
  agent zhang skills [general] state "available"
  call from "+15550001"
  expect answered by zhang

test "the same caller again sees no earlier call":
  at "2026-11-30 11:00 UTC"
  agent zhang skills [general] state "available"
  call from "+15550001"
  expect not routed via last_agent to zhang
  expect routed via skills to zhang
"""


def _loyal(folder: Path) -> Path:
    flow = folder / "loyal.ccf"
    flow.write_text(LOYAL, encoding="utf-8")
    return flow


def _dump(path: str) -> list[str]:
    """The store's SQL, but for meta's `created`: each store's own time, a copy's too
    (tests/sim/test_store_template_created.py), so two made a second apart differ there."""
    db = sqlite3.connect(path)
    try:
        return [line for line in db.iterdump()
                if not line.startswith("INSERT INTO \"meta\" VALUES('created',")]
    finally:
        db.close()


def _seen(result) -> tuple:
    """Everything a test's result shows: its outcomes, and its events as the trace has them,
    but for what differs between any two runs: `ms`, the wall time a CRM query took, and
    the name of the test's temporary folder (where a recording goes)."""
    return (result.name, result.error, result.outcomes,
            tuple((e.kind, e.at, WORKDIR.sub("ccf-test-WORKDIR", json.dumps(
                {k: v for k, v in e.data.items() if k != "ms"}, sort_keys=True, default=str)))
                  for e in result.events))


@pytest.mark.parametrize("timezone", [None, "Asia/Shanghai"])
def test_a_copied_store_holds_exactly_what_a_fresh_one_does(tmp_path: Path, timezone) -> None:
    from ccdsl.runtime.operations.store import CallStore

    CallStore(str(tmp_path / "fresh.db"), timezone=timezone).close()
    with StoreTemplates() as stores:
        stores.open(str(tmp_path / "copied.db"), timezone=timezone).close()
        stores.open(str(tmp_path / "again.db"), timezone=timezone).close()
    fresh = _dump(str(tmp_path / "fresh.db"))
    assert _dump(str(tmp_path / "copied.db")) == fresh
    assert _dump(str(tmp_path / "again.db")) == fresh
    assert any("timezone" in line for line in fresh) == (timezone is not None)


def test_the_same_test_blocks_see_the_same_calls_with_or_without_the_template(
        tmp_path: Path) -> None:
    flows = [compile_file(str(HOTLINE)).ir, compile_file(str(_loyal(tmp_path))).ir]
    assert all(ir is not None and ir["tests"] for ir in flows)
    for ir in flows:
        program = load_program(ir, validate=False)
        fresh = [run_test(ir, test, program=program) for test in ir["tests"]]
        with StoreTemplates() as stores:
            copied = [run_test(ir, test, program=program, stores=stores) for test in ir["tests"]]
        assert [_seen(r) for r in copied] == [_seen(r) for r in fresh]
        assert all(r.passed for r in copied), [r.name for r in copied if not r.passed]


@pytest.mark.parametrize("via", ["sim", "asterisk"])
def test_two_tests_of_one_run_do_not_see_each_others_calls(tmp_path: Path, monkeypatch,
                                                           via: str) -> None:
    _loyal(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = ccf("test", "loyal.ccf", "--format", "json", "--via", via)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [t["outcome"] for t in report["tests"]] == ["passed", "passed"]


def test_the_isolation_test_would_catch_a_shared_store(tmp_path: Path) -> None:
    """The control: the same two calls kept in ONE store do see each other, so
    the test above fails if ccf test ever shares a store between tests."""
    import asyncio

    ir = compile_file(str(_loyal(tmp_path))).ir
    program = load_program(ir, validate=False)
    shared = str(tmp_path / "shared.db")
    routes = []
    for n, test in enumerate(ir["tests"]):
        workdir = tmp_path / f"call{n}"
        workdir.mkdir()
        run = asyncio.run(run_scenario(program, ir, scenario_from_test(ir, test),
                                       workdir=str(workdir), store_path=shared))
        routes.append([(e.data["kind"], e.data["agent"]) for e in run.events
                       if e.kind == "routing_decision" and e.data["outcome"] == "dial"])
    assert routes == [[("skills", "zhang")], [("last_agent", "zhang")]]


def test_the_template_folder_is_removed_when_the_run_fails(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), StoreTemplates() as stores:
        stores.open(str(tmp_path / "calls.db")).close()
        folder = Path(stores._folder)
        assert list(folder.iterdir())
        raise KeyboardInterrupt
    assert not folder.exists()


def test_templates_never_closed_go_when_forgotten(tmp_path: Path) -> None:
    import gc

    stores = StoreTemplates()
    stores.open(str(tmp_path / "calls.db")).close()
    folder = Path(stores._folder)
    assert folder.exists()
    del stores
    gc.collect()
    assert not folder.exists()


def test_threads_opening_stores_at_once_share_one_whole_template(tmp_path: Path) -> None:
    from ccdsl.runtime.operations.store import CallStore

    CallStore(str(tmp_path / "fresh.db"), timezone="Europe/Paris").close()
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            barrier.wait()
            stores.open(str(tmp_path / f"t{n}.db"), timezone="Europe/Paris").close()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    with StoreTemplates() as stores:
        threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        made = list(Path(stores._folder).iterdir())
    assert errors == []
    assert [p.name for p in made] == ["calls-0.db"]
    fresh = _dump(str(tmp_path / "fresh.db"))
    assert all(_dump(str(tmp_path / f"t{n}.db")) == fresh for n in range(6))


def test_no_template_to_be_had_makes_each_store_afresh(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with StoreTemplates() as stores:
        stores.open(str(tmp_path / "calls.db"), timezone="UTC").close()
    assert any("timezone" in line for line in _dump(str(tmp_path / "calls.db")))


def _templates(folder: Path) -> list[Path]:
    return list(folder.glob(TEMPLATE_PREFIX + "*"))


def test_ccf_test_leaves_no_template_behind(tmp_path: Path) -> None:
    _loyal(tmp_path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run([sys.executable, "-m", "ccdsl.cli.main", "test", "loyal.ccf"],
                          cwd=tmp_path, env={**os.environ, "TMPDIR": str(temp)},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert _templates(temp) == []


def test_ccf_test_interrupted_leaves_no_template_behind(tmp_path: Path) -> None:
    body = LOYAL.split("test ", 1)[0] + "".join(
        f'test "call {n}":\n  call from "+1555{n:04d}"\n  expect hangup\n\n' for n in range(400))
    (tmp_path / "many.ccf").write_text(body, encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "ccdsl.cli.main", "test", "many.ccf"],
                            cwd=tmp_path, env={**os.environ, "TMPDIR": str(temp)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60  # a bound on a hang, not a measurement
        while not _templates(temp) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _templates(temp), "the run never made its template"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert _templates(temp) == []


@pytest.mark.parametrize("with_templates", [False, True])
def test_a_temporary_store_that_cannot_be_opened_says_so_without_a_path_of_none(
        tmp_path: Path, with_templates: bool) -> None:
    """The message names no store the user gave (`None`) when ccf made the store itself."""
    import asyncio

    from ccdsl.runtime.core.errors import InputError

    ir = compile_file(str(_loyal(tmp_path))).ir
    program = load_program(ir, validate=False)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "calls.db").mkdir()  # a folder where the store's file goes
    with StoreTemplates() as stores, pytest.raises(InputError) as caught:
        asyncio.run(run_scenario(program, ir, scenario_from_test(ir, ir["tests"][0]),
                                 workdir=str(tmp_path / "work"),
                                 stores=stores if with_templates else None))
    assert str(caught.value).startswith("the call store cannot be opened: ")
    assert "None" not in str(caught.value)


def test_the_crm_is_closed_when_the_call_store_cannot_be_opened(tmp_path: Path,
                                                                 monkeypatch) -> None:
    """A run that stops at the call store leaves no CRM connection open behind it."""
    import asyncio

    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.sim import scenario as scenario_module

    opened: list[SqliteCRM] = []
    closed: list[SqliteCRM] = []

    class Watched(SqliteCRM):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

        def close_now(self) -> None:
            closed.append(self)
            super().close_now()

    monkeypatch.setattr(scenario_module, "SqliteCRM", Watched)
    ir = compile_file(str(_loyal(tmp_path))).ir
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "calls.db").mkdir()
    with pytest.raises(InputError):
        asyncio.run(run_scenario(load_program(ir, validate=False), ir,
                                 scenario_from_test(ir, ir["tests"][0]),
                                 workdir=str(tmp_path / "work")))
    assert opened and closed == opened
