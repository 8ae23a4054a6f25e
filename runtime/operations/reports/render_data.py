"""The report as data for other programs: CSV (one section, or every
section each under a `# name` line, separated by blank lines) and JSON
(every section). Times stay milliseconds, shares percentages (0-100).
Never queries the store: it renders a Report it is given.
"""

from __future__ import annotations

import csv
import io

from ccdsl import json_text
from ccdsl.runtime.operations.reports.model import Report, Section


def section_csv(section: Section) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in section.columns])
    writer.writerows(["" if v is None else v for v in row] for row in section.rows)
    return out.getvalue()


def to_csv(report: Report, *, one: bool) -> str:
    """`one`: the only section as plain CSV; else every section under a
    `# name` line, the sections separated by a blank line."""
    if one:
        return section_csv(report.sections[0])
    return "\n".join(f"# {s.name}\n{section_csv(s)}" for s in report.sections)


def to_json(report: Report) -> str:
    o = report.options
    document = {
        "store": report.store,
        "generated": report.generated,
        "zone": report.zone,
        "interval": o.interval,
        "covers": None if report.covers is None else {"from": report.covers[0],
                                                      "to": report.covers[1]},
        "agent_states_recorded": report.agent_states,
        "within_ms": o.within_ms,
        "minutes": o.minutes if o.interval == "realtime" else None,
        "filters": report.filters.as_dict(),
        "sections": {s.name: s.records() for s in report.sections},
    }
    # a number with no value (a share or an average of no calls, should one ever come out
    # of the database as NaN) is null, as the sections' empty cells are
    return json_text.dumps(json_text.nulled(document), ensure_ascii=False, indent=2) + "\n"
