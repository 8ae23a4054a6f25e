"""The Flows page's rig: the console's rig (tests/console/rig.py) over a call store holding
simulated calls through examples/iws/hotline.ccf and a flow whose title is markup, drawn by
the cli's own drawings (cli/console_flows.py), as `ccf serve --simulate` wires them."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ccdsl.cli.console_flows import simulated_drawings
from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.sim import HangUp, Press
from ccdsl.runtime.sim.scenario import run_simulation, simulation
from tests.console.rig import Console

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
DAY = "2026-11-30"
SVG = "{http://www.w3.org/2000/svg}"
CALLS = (
    (f"{DAY} 10:00", (Press("0"), Press("5"))),
    (f"{DAY} 10:20", (Press("1"), Press("20261128#"), HangUp(after_ms=6_000))),
    (f"{DAY} 10:30", (Press("7"), HangUp(after_ms=2_000))),
    (f"{DAY} 10:40", (Press("2"), Press("4"))),
    (f"{DAY} 10:50", (HangUp(after_ms=3_000),)),
    ("2026-12-01 10:00", (Press("0"), Press("5"))),  # the next day: out of DAY's range
)
HOSTILE_TITLE = "</svg><script>alert('title')</script><img src=x onerror=alert(2)>"
HOSTILE = textwrap.dedent(f"""\
    flow hostile:
      title "{HOSTILE_TITLE}"
      languages en-US

    prompt greet:
      en-US tts "<script>alert(1)</script>"

    on start:
      answer
      goto main

    step main:
      menu retries 1 timeout 3s:
        prompt greet
        1 -> goto main
        timeout, invalid -> hangup
        exhausted -> hangup
    """)


def compiled(path: Path) -> dict:
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, result.diagnostics
    return result.ir


def flows_console(folder: Path) -> tuple[Console, Counter]:
    """The console with both flows' drawings; the steps the DAY's calls entered."""
    hotline = compiled(IWS / "hotline.ccf")
    (folder / "flows").mkdir()
    (folder / "flows" / "hostile.ccf").write_text(HOSTILE, encoding="utf-8")
    hostile = compiled(folder / "flows" / "hostile.ccf")
    store = folder / "calls.db"  # the rig's store
    agents = load_agents(str(IWS / "agents.toml"))
    entered: Counter = Counter()
    for number, (at, actions) in enumerate(CALLS):
        scenario = simulation(hotline, caller=f"+861390000{number:04d}",
                              at=f"{at} Asia/Shanghai", actions=actions, agents=agents)
        # on a thread of its own: the browser tests' Playwright runs an event loop here
        with ThreadPoolExecutor(1) as worker:
            run = worker.submit(run_simulation, hotline, scenario,
                                crm_folder=str(IWS / "crm"), store_path=str(store)).result()
        if at.startswith(DAY):
            entered.update(e.data["step"] for e in run.events if e.kind == "step_entered")
    rig = Console(folder)
    rig.ctx.flows_drawn = simulated_drawings({"hotline": hotline, "hostile": hostile},
                                             str(store))
    return rig, entered


# reading the page


def drawings(html: str) -> dict[str, ET.Element]:
    """Each flow's drawing in the page, by the flow's name."""
    found = re.findall(r'data-flow="([^"]+)".*?<div class="flow-graph">(<svg.*?</svg>)</div>',
                       html, re.S)
    return {name: ET.fromstring(svg) for name, svg in found}


def node_lines(svg: ET.Element) -> dict[str, list[str]]:
    """Each node's lines of text, by its first line (its name)."""
    out = {}
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") == "node":
            lines = [t.text or "" for t in group.iter(f"{SVG}text")]
            out.setdefault(lines[0], lines[1:])
    return out


def calls(count: int) -> str:
    return f"{count} call{'s' if count != 1 else ''}"


def traffic(lines: list[str]) -> list[str]:
    """A node's traffic line in parts: ["6 calls", "3 hung up here"]."""
    return next((x.split(" · ") for x in lines if re.match(r"\d+ calls? ", x + " ")), [])
