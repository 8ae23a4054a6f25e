"""What the tests of tests/calls share: the scenario flows compiled, calls
run through the simulator or ccf serve's FastAGI server into a real call
store and a real SQLite CRM."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.sim.scenario import run_scenario
from ccdsl.runtime.testing.blocks import scenario_from_test
from ccdsl.runtime.testing.via_asterisk import AgiTestbed

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
RECORDING = SCENARIOS / "recording_line.ccf"
OWNER_MESSAGE = SCENARIOS / "owner_message_line.ccf"


@cache
def compiled(path: Path) -> dict:
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    return result.ir


def block_named(ir: dict, name: str) -> dict:
    return next(t for t in ir["tests"] if t["name"] == name)


def run_test_call(path: Path, name: str, workdir: Path, store: Path):
    """The test block `name` of a scenario flow as one simulated call, kept
    in `store`; its CRM stays in workdir/crm.db."""
    ir = compiled(path)
    scenario = scenario_from_test(ir, block_named(ir, name))
    workdir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run_scenario(load_program(ir, validate=False), ir, scenario,
                                    workdir=str(workdir), store_path=str(store)))


def over_fastagi(path: Path, names: tuple[str, ...], workdir: Path, store: Path) -> list:
    """The test blocks `names` of a scenario flow as calls one after another
    through one AgiTestbed (ccf serve's FastAGI server and the test peer;
    call-1, call-2... in workdir), kept in `store`."""
    ir = compiled(path)

    async def go():
        bed = AgiTestbed(load_program(ir, validate=False), ir, workdir=str(workdir),
                         store_path=str(store))
        await bed.start()
        try:
            return [await bed.call(scenario_from_test(ir, block_named(ir, name)))
                    for name in names]
        finally:
            await bed.stop()

    return asyncio.run(go())


RUNTIMES = ("sim", "agi")


def run_on(runtime: str, path: Path, name: str, folder: Path):
    """The test block `name` as one call on `runtime` ("sim": the simulator,
    "agi": ccf serve through the FastAGI peer), kept in folder/calls.db; its
    work in folder/w (the FastAGI call's in folder/w/call-1)."""
    store = folder / "calls.db"
    if runtime == "sim":
        return run_test_call(path, name, folder / "w", store)
    (run,) = over_fastagi(path, (name,), folder / "w", store)
    return run
