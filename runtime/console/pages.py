"""Every page of the console, by who uses it: the agent's desk, the wallboard, calls, admin.

Must not hold page logic itself; each module below owns its pages.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from ccdsl.runtime.console import (
    admin_pages,
    desk_pages,
    flow_pages,
    history_pages,
    wall_pages,
)
from ccdsl.runtime.console.context import ConsoleContext


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    return [*desk_pages.routes(ctx), *wall_pages.routes(ctx), *history_pages.routes(ctx),
            *admin_pages.routes(ctx), *flow_pages.routes(ctx)]
