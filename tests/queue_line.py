"""The `line` flow of the queue-ring tests (its `service` queue rings the general agents), and
one caller of it through `ccf serve` by the FastAGI peer, whose Queue() rings by app_queue."""

from __future__ import annotations

import textwrap
from pathlib import Path

from asterisk.centre import compiled
from asterisk.test_serve import WAIT_S

from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.sim.scenario import Scenario, scenario_centre
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine, CallerReport
from ccdsl.runtime.testing.peer.app_queue import AppQueue
from ccdsl.runtime.testing.peer.sim_backend import SimBackend, agent_leg

DIALLED = "4008005678"
# a second queue, `support`, of the tech agents (wang): a member of two queues
SUPPORT = """
queue support:
  skills [tech]
  max_wait 60s
"""


def line_source(strategy: str = "leastrecent", autopause: str = "yes", *,
                support: bool = False) -> str:
    """`service` rings general agents for 5 s by `strategy`; with `support` too."""
    return textwrap.dedent(f"""\
        flow line:
          languages en-US

        queue service:
          skills [general]
          max_wait 60s
          ring 5s
          strategy "{strategy}"
          autopause "{autopause}"
        """) + (SUPPORT if support else "") + textwrap.dedent("""
        on start:
          answer
          queue service
          hangup
        """)


def line_flow(folder: Path, strategy: str = "leastrecent", autopause: str = "yes", *,
              support: bool = False) -> dict:
    """line_source compiled, as `ccf deploy` stores it."""
    path = folder / "line.ccf"
    path.write_text(line_source(strategy, autopause, support=support), encoding="utf-8")
    return compiled(path)


async def call_the_line(port: int, ir: dict, scenario: Scenario, app_queue: AppQueue, *,
                        call_id: str, channel: str) -> tuple[CallerReport, SimBackend]:
    """The scenario's caller dials the line at `ccf serve` on `port`; its
    Queue() rings `app_queue`'s members, whose answered legs run the
    `ccf-answered` AGI. What the peer saw, and its backend (AGI variables)."""
    info = CallInfo(call_id=call_id, caller_number=scenario.caller, caller_name=None,
                    dialled=DIALLED, started=scenario.start, channel=channel, language="en")
    sim = SimChannel(info, VirtualClock(scenario.start), ScriptedCaller(scenario.actions),
                     scenario_centre(ir, scenario))
    backend = SimBackend(sim, answered=agent_leg("127.0.0.1", port, timeout=WAIT_S),
                         app_queue=app_queue)
    line = CallerLine(script="line", channel=channel, uniqueid=call_id,
                      callerid=scenario.caller, dnid=DIALLED, extension=DIALLED)
    report = await AgiCaller("127.0.0.1", port, backend, line, timeout=WAIT_S).run()
    return report, backend
