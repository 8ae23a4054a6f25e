"""The report as rich tables (`ccf report`, the default format).

Never queries the store: it renders a Report it is given.
"""

from __future__ import annotations

from typing import TextIO

from ccdsl.runtime.operations.reports.display import heading, show
from ccdsl.runtime.operations.reports.model import Report
from ccdsl.terminal_text import visible


def render(report: Report, out: TextIO, *, color: bool, width: int | None) -> None:
    # deferred: rich is heavy to import, and only the text format draws tables
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, width=width, no_color=not color, highlight=False,
                      force_terminal=color, soft_wrap=False)
    for what, value in heading(report):
        console.print(Text(f"{what}: {visible(value)}"))
    for section in report.sections:
        table = Table(title=section.title, title_justify="left", show_lines=False)
        for column in section.columns:
            table.add_column(column.title, justify="left" if column.kind == "text" else "right",
                             overflow="fold")
        for row in section.rows:
            # Text, never markup: agents', queues' and flows' names come from the
            # store, where a FastAGI peer or the CRM may have put `[/]`
            table.add_row(*(Text(visible(show(c.kind, v)))
                            for c, v in zip(section.columns, row, strict=True)))
        if not section.rows:
            table.caption = "nothing in this range"
        console.print()
        console.print(table)
    if not report.agent_states and any(s.name == "agents" for s in report.sections):
        console.print()
        console.print(Text("Agents' time in state: no agent states recorded (the console "
                           "records them)"))
