"""What became of a wrap-up the desk was given: an HTTP status and its JSON, in the words every
refusal shares. Must not read or write the store: runtime/operations/wrapup.py does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.operations.store_errors import MEND, StoreBusy, StoreFault


@dataclass(frozen=True)
class Outcome:
    """What became of a submitted wrap-up: an HTTP status and its JSON."""

    status: int
    body: dict[str, Any]


def refused(call_id: str, already: str, said: str, agent: str | None) -> Outcome:
    """A second save of an agent's wrap-up of a call: 409, nothing changed."""
    by = f" by {agent}" if agent else ""
    return Outcome(409, {"ok": False, "already": already,
                         "error": f"the wrap-up of call {call_id}{by} {said}; "
                                  "a saved wrap-up is not changed"})


def not_saved(call_id: str, exc: StoreBusy) -> Outcome:
    """A save the store could not take now (nothing stored): 503, to be saved again; or, for
    a store that needs mending (StoreFault), what is wrong and no word of saving again."""
    then = MEND if isinstance(exc, StoreFault) else "save it again"
    return Outcome(503, {"ok": False, "error": f"the wrap-up of call {call_id} is not saved: "
                         f"{exc}; {then}"})


def bad(problems: list[str]) -> Outcome:
    return Outcome(400, {"ok": False, "problems": problems})
