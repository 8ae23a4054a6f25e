"""`ccf report --check-asterisk` printed: the two columns side by side and
the calls that differ, as a table, CSV or JSON (reconcile.py computes)."""

from __future__ import annotations

import csv
import io

from ccdsl import json_text
from ccdsl.runtime.operations.reports.reconcile import Check
from ccdsl.runtime.operations.tables import table
from ccdsl.terminal_text import visible


def _range(check: Check) -> str:
    f = check.filters
    said = f"{f.start or 'the first call'} to {f.end or 'the last call'}"
    named = [f"{k} {v}" for k, v in (("queue", f.queue), ("agent", f.agent),
                                      ("flow", f.flow)) if v]
    return said + (f" ({', '.join(named)})" if named else "")


def to_text(check: Check) -> str:
    rows = [[f.name, "-" if f.asterisk is None else f.asterisk, f.store,
             "" if f.agrees else "differs"] for f in check.figures]
    out = [f"Asterisk (AMI events kept by ccf serve) against the call store {check.store}",
           f"range: {_range(check)}; {check.ami_events} AMI events read", "",
           table(["figure", "Asterisk", "call store", ""], rows)]
    if any(f.asterisk is None for f in check.figures):
        out.append("-: not in the AMI events ccf serve keeps (voicemail is an AGI RECORD FILE)\n")
    if check.agrees:
        out.append("Asterisk and the call store agree.\n")
    else:
        out.append(f"{len(check.differences)} call(s) differ:\n")
        # agents' and queues' names as Asterisk's events gave them
        out += [f"  {visible(d.text())}\n" for d in check.differences]
    return "\n".join(line.rstrip("\n") for line in out) + "\n"


def to_json(check: Check) -> str:
    return json_text.dumps(check.as_dict(), indent=2, ensure_ascii=False) + "\n"


def to_csv(check: Check) -> str:
    """`# figures` (figure, asterisk, store, agree), a blank line, then
    `# differences` (call_id, differs, asterisk, store)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    out.write("# figures\n")
    w.writerow(["figure", "asterisk", "store", "agree"])
    for f in check.figures:
        w.writerow([f.name, "" if f.asterisk is None else f.asterisk, f.store, int(f.agrees)])
    out.write("\n# differences\n")
    w.writerow(["call_id", "differs", "asterisk", "store"])
    for d in check.differences:
        w.writerow([d.call_id, " ".join(d.differs), d.asterisk, d.store])
    return out.getvalue()
