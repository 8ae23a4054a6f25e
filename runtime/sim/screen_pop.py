"""Screen pops from a simulated call (`ccf simulate --screen-pop-url`): the webhook only."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from ccdsl.runtime.core.redact import shown_url
from ccdsl.runtime.operations.screenpop import PopTarget, ScreenPop
from ccdsl.runtime.sim.scenario import run_simulation

SIMULATOR_TOKEN_ENV = "CCF_SCREEN_POP_TOKEN"  # = config._TOKEN_ENVS["screen_pop"]


def run_simulation_with_pop(ir: dict, scenario, url: str, *, sink=None,
                            crm_db: str | None = None, crm_folder: str | None = None,
                            ask=None, note=None, store_path: str | None = None,
                            sounds_dir: str | None = None, timeout_s: float = 3.0):
    """runtime.sim.scenario.run_simulation with screen pops to `url` (`ccf
    simulate --screen-pop-url`): the webhook only (there is no Asterisk),
    with the token of $CCF_SCREEN_POP_TOKEN when set. The pop reads the
    call's own CRM (what the flow created during the call included) and its
    call store (recent calls; each send is kept there too, centre_events,
    source `ccf`). The call never waits for a pop; the command waits for
    them once the call has ended."""
    target = PopTarget(url, os.environ.get(SIMULATOR_TOKEN_ENV) or None, timeout_s)
    pops: list[ScreenPop] = []

    def companion(crm, store) -> ScreenPop:
        def record(kind: str, data: dict, call_id: str) -> None:
            store.record_centre_event("ccf", kind, data, datetime.now(UTC), call_id=call_id)

        pop = ScreenPop(target, crm=crm, history=store.recent_calls, record=record,
                        finish_s=timeout_s + 1.0)
        pops.append(pop)
        return pop

    run = run_simulation(ir, scenario, sink=sink, crm_db=crm_db, crm_folder=crm_folder,
                         ask=ask, note=note, store_path=store_path, companion=companion,
                         sounds_dir=sounds_dir)
    if note is not None:
        for pop in pops:
            for sent in pop.sent:
                what = (f"HTTP {sent['status']}" if sent["kind"] == "screen_pop_sent"
                        else f"failed: {sent.get('error')}")
                note(f"screen pop for {sent['agent']} to {shown_url(url)}: {what}")
    return run
