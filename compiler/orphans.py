"""A NAME.test.ccf with no NAME.ccf beside it (E306): its tests have no flow to run
against, so it is an error, never a run against an empty flow.

Must not import the runtime; pipeline.py calls it for every entry path it is given.
"""

from __future__ import annotations

import os

from ccdsl.compiler.flow_files import TEST_SUFFIX, flow_of
from ccdsl.compiler.loader import flows_in
from ccdsl.compiler.reader import read_source
from ccdsl.diagnostics import Diagnostic, closest, diagnostic
from ccdsl.source import SourceFile, Span


def orphan_diagnostic(path: str) -> tuple[Diagnostic, SourceFile | None]:
    """E306 for an orphaned test file, at its first line, and its source
    (for the quoted line) when it can be read."""
    source, _ = read_source(path)
    flows = flows_in(os.path.dirname(path) or ".")
    stem = os.path.basename(path)[: -len(TEST_SUFFIX)]
    near = closest(stem, flows)
    if near is not None:
        help_text = (f"did you mean `{near}.ccf`? rename the test file to "
                     f"`{near}{TEST_SUFFIX}` so its tests run against that flow")
    elif 0 < len(flows) <= 5:
        help_text = (f"name it after the flow it tests (NAME.ccf -> NAME{TEST_SUFFIX}); the "
                     "flows here are: " + ", ".join(f"{f}.ccf" for f in flows))
    else:
        help_text = (f"put it beside the flow it tests, named after it "
                     f"(NAME.ccf -> NAME{TEST_SUFFIX})")
    end = len(source.line_text(1).rstrip()) + 1 if source is not None and source.line_count \
        else 1
    span = Span(path, 1, 1, 1, max(end, 2))
    message = (f"`{os.path.basename(path)}` has no flow beside it: its tests are for "
               f"`{os.path.basename(flow_of(path))}`, which does not exist")
    return diagnostic("E306", message, span, help=help_text), source
