"""The pictures of the console's Flows page, made where the compiler may be used: each flow in
service compiled again from the sources it was deployed (or loaded) with, given the call
store's traffic and drawn by Graphviz. Never writes anything; a failure is a note, not an error.
"""

from __future__ import annotations

import logging
import posixpath
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from ccdsl.runtime.console.flow_pictures import FlowDrawings, FlowPicture

log = logging.getLogger("ccdsl.console")

# a folder that is nowhere: the kept sources are compiled as if they were in it
ROOT = "/ccf-kept-sources"
NO_DOT = ("Graphviz's `dot` is not installed on this server, so the flows cannot be drawn: "
          "install the graphviz package (apt-get install graphviz)")


class Sources:
    """A flow's files as kept: the entry file's name and every user file's
    text by its path relative to the entry's folder (runtime/asterisk/flow_changes.py)."""

    def __init__(self, entry: str, texts: Mapping[str, str]) -> None:
        self.entry = entry
        self.texts = dict(texts)


def entry_name(ir: Mapping) -> str | None:
    """The entry file's name as the kept sources name it."""
    entry = (ir.get("flow") or {}).get("file")
    return posixpath.basename(entry) if isinstance(entry, str) else None


def compile_graph(flow: str, sources: Sources):
    """The flow's graph (compiler.graph.model.FlowGraph) compiled from the
    kept texts alone (nothing read from disk but the standard library), or
    the reason it cannot be drawn."""
    from ccdsl.compiler.graph.build import flow_graph
    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.compiler.reader import unsaved_texts

    if sources.entry not in sources.texts:
        return f"the sources kept for {flow} lack its file {sources.entry}"
    # deep enough that `../` in a module's path stays inside ROOT
    depth = max((name.split("/").count("..") for name in sources.texts), default=0)
    base = posixpath.join(ROOT, *(["up"] * depth))
    texts = {posixpath.normpath(posixpath.join(base, name)): text
             for name, text in sources.texts.items()}
    entry = posixpath.join(base, sources.entry)
    with unsaved_texts(texts):
        result = compile_file(entry, lower=False, text=texts[entry])
    if not result.ok or result.program is None:
        first = next((d for d in result.diagnostics if d.severity == "error"), None)
        return (f"{flow} does not compile from its kept sources"
                + (f": {first.message}" if first is not None else ""))
    return flow_graph(result.program), base + "/"


def drawn_svg(graph, base: str, store_path: str, since: datetime | None,
              until: datetime | None) -> FlowPicture:
    """The graph with its calls' traffic, as SVG markup for a page."""
    from ccdsl.cli.flow_graphs import counted
    from ccdsl.cli.graphviz import GraphvizError, to_svg
    from ccdsl.compiler.graph.dot import render_dot
    from ccdsl.compiler.graph.page import covers, inline_svg
    from ccdsl.runtime.operations.reports import ReportError
    from ccdsl.runtime.operations.reports.flow_traffic import flow_traffic
    from ccdsl.runtime.operations.reports.query import StoreUnreachable

    source = graph.path.removeprefix(base)
    try:
        found = flow_traffic(store_path, graph.flow, since, until)
    except StoreUnreachable as exc:  # an outage: as every console page says it
        return FlowPicture(None, f"the call store cannot be read now: {exc}; try again "
                                 "shortly", source)
    except ReportError as exc:  # a store to mend says so itself (query.StoreNeedsMending)
        return FlowPicture(None, f"the call store cannot be read: {exc}", source)
    drawn = counted(graph, found)
    # the files by the names the author knows them by, not the folder they were compiled in
    dot = render_dot(drawn).replace(base, "")
    try:
        svg = to_svg(dot)
    except GraphvizError as exc:
        return FlowPicture(None, NO_DOT if exc.missing else str(exc), source)
    except RuntimeError as exc:  # dot refused ccf's own DOT: a bug, logged
        log.error("the flow %s could not be drawn: %s", graph.flow, exc)
        return FlowPicture(None, "Graphviz could not draw this flow (the server's log "
                                 "says why)", source)
    return FlowPicture(inline_svg(svg), covers(drawn), source)


def drawings(names: Callable[[], list[str]],
             sources_of: Callable[[str], tuple[str, Sources | None] | None],
             store_path: str) -> FlowDrawings:
    """The console's FlowDrawings: `sources_of(flow)` gives the version the
    flow runs as (a cache key) and its kept sources (None: none kept), or
    None for a flow not running. Graphs are compiled once per version."""
    graphs: dict[tuple[str, str], object] = {}
    lock = threading.Lock()

    def draw(flow: str, since: datetime | None, until: datetime | None) -> FlowPicture | None:
        found = sources_of(flow)
        if found is None:
            return None
        version, sources = found
        if sources is None:
            return FlowPicture(None, f"no sources kept for this version ({version}) of "
                                     f"{flow}: deploy it again with this ccf to see it drawn")
        with lock:
            made = graphs.get((flow, version))
            if made is None:
                made = graphs[(flow, version)] = compile_graph(flow, sources)
        if isinstance(made, str):
            return FlowPicture(None, made, sources.entry)
        graph, base = made
        return drawn_svg(graph, base, store_path, since, until)

    return FlowDrawings(names=names, draw=draw)


def served_drawings(live) -> FlowDrawings:
    """For `ccf serve`: the flows of the version in service, from the
    sources `ccf deploy` kept with it (runtime/asterisk/deploy.py)."""
    from ccdsl.runtime.asterisk.flow_changes import parse_sources, sources_name

    def names() -> list[str]:
        return sorted(live.flows.programs) if live.flows is not None else []

    def sources_of(flow: str) -> tuple[str, Sources | None] | None:
        flows = live.flows
        if flows is None or flows.version is None or flow not in flows.programs:
            return None
        version = flows.version
        kept = parse_sources(flows.store.attached(version, sources_name(flow)))
        entry = entry_name(flows.programs[flow].doc)
        if kept is None or entry is None:
            return version, None
        return version, Sources(entry, kept)

    return drawings(names, sources_of, str(live.store.path))


def simulated_drawings(irs: Mapping[str, Mapping], store_path: str) -> FlowDrawings:
    """For `ccf serve --simulate`: the flows it loaded, from their files
    as they were read at start (an edit while it runs is not what runs)."""
    from ccdsl.runtime.asterisk.flow_changes import read_sources

    kept: dict[str, Sources | None] = {}
    for name, ir in irs.items():
        entry = entry_name(ir)
        kept[name] = Sources(entry, read_sources(ir)) if entry is not None else None

    def sources_of(flow: str) -> tuple[str, Sources | None] | None:
        return ("loaded", kept[flow]) if flow in kept else None

    return drawings(lambda: sorted(kept), sources_of, store_path)
