"""A flow's graph for the commands that show one (`ccf graph`, `ccf report --graph`):
compiled, given the store's traffic, drawn by Graphviz; each failure a message and an exit."""

from __future__ import annotations

from pathlib import Path

from ccdsl.cli import exit_codes
from ccdsl.cli.common import (
    STDIN,
    Format,
    compile_stdin,
    fail,
    render_diagnostics,
    store_exit,
    write,
)


def load_graph(flow: str, stdin_filename: str | None = None):
    """The graph of a flow (compiler.graph.model.FlowGraph), `-`: the one
    on standard input, named `stdin_filename`; its errors printed and exit 1,
    a flow that is not there exit 2."""
    from ccdsl.code_selection import ALL
    from ccdsl.compiler.graph.build import flow_graph
    from ccdsl.compiler.pipeline import compile_file

    result = compile_stdin([flow], stdin_filename, ALL, lower=False)
    if result is None:
        if not Path(flow).is_file():
            raise fail(f"`{flow}` is not a .ccf file", exit_codes.USAGE)
        result = compile_file(flow, lower=False)
    if not result.ok or result.program is None:
        write(render_diagnostics(result.diagnostics, result.sources, Format.text, err=True),
              err=True)
        shown = result.path if flow == STDIN else flow
        # imported here: it loads the lowering, which drawing a flow never needs
        from ccdsl.compiler.test_isolation import only_tests_broken

        if not only_tests_broken(result):
            raise fail(f"{shown} has errors: fix them to draw it (`ccf validate {shown}`)",
                       exit_codes.PROBLEMS)
        # tests are not drawn: a mistake in one must not hide the flow from its author
        write("note: the errors are in test blocks: drawing the flow without them\n", err=True)
    return flow_graph(result.program)


def traffic_on(drawn, store_path: str, since=None, until=None, *,
               since_text: str | None = None, queue: str | None = None,
               agent: str | None = None):
    """The graph with the traffic of its flow's calls in the store that
    started from `since` up to `until` (aware datetimes; None: unbounded), or
    from a --since text `since_text` read in the store's zone, only those that
    joined `queue` or were offered to `agent` when given; a bad --since
    exits USAGE with its message."""
    from ccdsl.runtime.operations.reports import ReportError
    from ccdsl.runtime.operations.reports.flow_traffic import flow_traffic

    try:
        found = flow_traffic(store_path, drawn.flow, since, until, since_text=since_text,
                             queue=queue, agent=agent)
    except ReportError as exc:
        raise fail(str(exc), store_exit(exc)) from None  # a server not answering: 4
    only = " and ".join(words for words in (
        f"that joined queue {queue}" if queue is not None else "",
        f"offered to agent {agent}" if agent is not None else "") if words)
    return counted(drawn, found, only)


def counted(drawn, found, only: str = ""):
    """The graph with `found` (a reports.flow_traffic.FlowTraffic) on it;
    `only` says which calls were counted when not all."""
    from ccdsl.compiler.graph.model import Traffic
    from ccdsl.compiler.graph.traffic import with_traffic

    covers = (found.first, found.last) if found.first and found.last else None
    return with_traffic(drawn, Traffic(found.visits, found.choices, found.transitions,
                                       covers, found.calls, found.zone, only))


def svg_of(drawn) -> str:
    """The graph drawn by Graphviz; without dot, exit 2 naming the package."""
    from ccdsl.cli.graphviz import GraphvizError, to_svg
    from ccdsl.compiler.graph.dot import render_dot

    try:
        return to_svg(render_dot(drawn))
    except GraphvizError as exc:
        raise fail(str(exc), exit_codes.USAGE) from None
