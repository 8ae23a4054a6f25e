"""`ccf graph FLOW`: a flow as a picture (DOT, SVG, Mermaid or an HTML page), with the
call store's traffic on it. Reads options; compiler/graph draws, the reports count."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from ccdsl.cli.common import (
    ConfigOption,
    SinceOption,
    StdinFilenameOption,
    StoreOption,
    fail,
    named_store,
    write,
    write_file,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import USAGE
from ccdsl.cli.flow_graphs import load_graph, svg_of, traffic_on
from ccdsl.cli.output_format import chosen_format


class GraphFormat(StrEnum):
    dot = "dot"
    svg = "svg"
    png = "png"
    mermaid = "mermaid"
    html = "html"


SUFFIXES = {".dot": GraphFormat.dot, ".gv": GraphFormat.dot, ".svg": GraphFormat.svg,
            ".png": GraphFormat.png, ".mmd": GraphFormat.mermaid, ".mermaid": GraphFormat.mermaid,
            ".html": GraphFormat.html, ".htm": GraphFormat.html}


def graph(
    flow: str = typer.Argument(..., metavar="FLOW", show_default=False,
                               autocompletion=flow_paths,
                               help="The entry .ccf flow to draw; `-` reads it from "
                                    "standard input."),
    fmt: GraphFormat = typer.Option(None, "--format", "-f", show_default=False,
                                    help="dot (Graphviz source), svg or png (drawn by "
                                         "Graphviz's dot; png only to a file), mermaid (for "
                                         "Markdown) or html (one page: the SVG, a legend). "
                                         "Default: from --output's suffix (one it cannot "
                                         "write is refused), else dot."),
    output: Path = typer.Option(None, "--output", "-o", metavar="FILE", dir_okay=False,
                                help="Write to this file (default: standard output)."),
    store: StoreOption = None,
    config: ConfigOption = None,
    since: SinceOption = None,
    stdin_filename: StdinFilenameOption = None,
) -> None:
    """Draw a flow: its handlers, steps, menus, routing rules, queues and modules.

    Menus with their keys, routing rules with their lines, the sub-flows and
    modules it uses, each with its file:line. With --store (or --config's call
    store), every box and arrow carries its traffic: the calls that reached
    it, the callers who hung up there, the choices made at each menu key;
    --since narrows it to recent calls. svg, png and html need Graphviz's
    `dot` (Debian's graphviz package).
    Exit status: 0 drawn, 1 the flow has errors, 2 a usage error (an unknown
    format or output suffix, a missing flow or store, Graphviz missing for
    svg, png or html, an unwritable output), 4 when the --store's
    PostgreSQL server does not answer.
    """
    chosen = chosen_format(fmt, output, SUFFIXES, GraphFormat.dot)
    if chosen is GraphFormat.png and output is None:
        raise fail("--format png is an image: write it to a file with -o FILE", USAGE)
    drawn = load_graph(flow, stdin_filename)
    if store is not None or config is not None or since is not None:
        drawn = traffic_on(drawn, named_store(store, config), since_text=since)
    if chosen is GraphFormat.png:
        _write_png(output, drawn)
    elif output is None:
        write(render(drawn, chosen))
        return
    else:
        write_file(output, render(drawn, chosen))
    write(f"graph written to {output}\n", err=True)


def _write_png(output: Path, drawn) -> None:
    from ccdsl.cli.graphviz import GraphvizError, to_png
    from ccdsl.compiler.graph.dot import render_dot

    try:
        image = to_png(render_dot(drawn))
    except GraphvizError as exc:
        raise fail(str(exc), USAGE) from None
    try:
        output.write_bytes(image)
    except OSError as exc:
        raise fail(f"cannot write `{output}`: {exc.strerror or exc}", USAGE) from None


def render(drawn, fmt: GraphFormat) -> str:
    from ccdsl.compiler.graph.dot import render_dot

    if fmt is GraphFormat.mermaid:
        from ccdsl.compiler.graph.mermaid import render_mermaid

        return render_mermaid(drawn)
    if fmt is GraphFormat.dot:
        return render_dot(drawn)
    svg = svg_of(drawn)
    if fmt is GraphFormat.svg:
        return svg
    from ccdsl.compiler.graph.page import render_page

    return render_page(drawn, svg)
