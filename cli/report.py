"""`ccf report`: figures of the calls in a call store (docs/reports.md).
Reads options and prints; runtime.operations.reports computes and renders."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from ccdsl.cli.common import (
    MOMENT_FORMS_HELP,
    RANGE_FORMS_HELP,
    ConfigOption,
    ReportFormat,
    StoreOption,
    fail,
    named_store,
    store_exit,
    wants_color,
    write,
)
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE
from ccdsl.cli.output_format import chosen_format

# what -o FILE's suffix writes when --format is not given
SUFFIXES = {".txt": ReportFormat.table, ".csv": ReportFormat.csv, ".json": ReportFormat.json,
            ".html": ReportFormat.html, ".htm": ReportFormat.html}


class Interval(StrEnum):
    auto = "auto"
    realtime = "realtime"
    hour = "hour"
    day = "day"
    month = "month"
    year = "year"


class SectionName(StrEnum):
    summary = "summary"
    calls = "calls"
    service = "service"
    queues = "queues"
    agents = "agents"
    agent_time = "agent_time"
    agent_pauses = "agent_pauses"
    nodes = "nodes"
    choices = "choices"
    queue_choices = "queue_choices"
    callbacks = "callbacks"


def report(
    store: StoreOption = None,
    config: ConfigOption = None,
    interval: Interval = typer.Option(Interval.auto, "--interval", "-i",
                                      help="The periods calls are counted in, in the report's "
                                           "time zone (--zone); auto: hour for a range of up "
                                           "to two days, day up to 92 days, month beyond; "
                                           "realtime: the last --minutes minutes, per minute, "
                                           "and the calls in progress now."),
    start: str = typer.Option(None, "--from", metavar="DATE",
                              help=f"The first day or moment reported: {RANGE_FORMS_HELP}. "
                                   "Default: the first call."),
    end: str = typer.Option(None, "--to", metavar="DATE",
                            help="The last day reported (included), or the moment the range "
                                 f"ends (excluded): {RANGE_FORMS_HELP}. Default: the last "
                                 "call."),
    queue: str = typer.Option(None, "--queue", metavar="QUEUE",
                              help="Only calls that joined this queue (and only this queue's "
                                   "row, and the agents' offers from it)."),
    agent: str = typer.Option(None, "--agent", metavar="AGENT",
                              help="Only calls offered to this agent (and only this agent's "
                                   "row)."),
    flow: str = typer.Option(None, "--flow", metavar="FLOW", help="Only calls of this flow."),
    within: str = typer.Option("20s", "--within", metavar="SECONDS",
                               help="The service level's threshold: calls answered within "
                                    "this wait, such as 20s."),
    minutes: int = typer.Option(None, "--minutes", metavar="N",
                                help="With --interval realtime: how many minutes (default 60, "
                                     "at most 1440)."),
    now: str = typer.Option(None, "--now", metavar="WHEN",
                            help="With --interval realtime: the moment the window ends, "
                                 f"{MOMENT_FORMS_HELP} (default: now; without a zone, the "
                                 "report's)."),
    zone: str = typer.Option(None, "--zone", metavar="ZONE",
                             help="The time zone of periods, and of --from and --to "
                                  "written without one, such as "
                                  "Asia/Shanghai. Default: the centre's zone the store was "
                                  "made with, else this machine's."),
    section: SectionName = typer.Option(None, "--section", "-s",
                                        help="Only this section. With --format csv: plain "
                                             "CSV of it; without, every section under a "
                                             "`# name` line."),
    fmt: ReportFormat = typer.Option(None, "--format", "-f", show_default=False,
                                     help="table (readable), csv, json (every section) or "
                                          "html (one self-contained file with charts). "
                                          "Default: from --output's suffix (.txt, .csv, "
                                          ".json, .html; another is refused), else table."),
    output: Path = typer.Option(None, "--output", "-o", metavar="FILE", dir_okay=False,
                                help="Write the report to this file (default: standard "
                                     "output)."),
    graphs: list[str] = typer.Option(None, "--graph", metavar="FLOW",
                                     help="With --format html: put this flow's graph (a .ccf "
                                          "file), with the traffic of the calls the report "
                                          "counts (store, range, --queue, --agent), into the "
                                          "report; repeatable. Needs "
                                          "Graphviz's dot."),
    check_asterisk: bool = typer.Option(False, "--check-asterisk",
                                        help="Instead of the report: count what Asterisk saw "
                                             "(the AMI events `ccf serve` kept) against the "
                                             "call store for the range and filters, side by "
                                             "side, and name each call that differs. Exit 0 "
                                             "when they agree, 1 when they differ, 2 when the "
                                             "store has no AMI events for the range."),
) -> None:
    """Report on the calls in a call store: calls per interval, queues, agents, menu nodes.

    Sections: summary (totals, speed of answer, handling time, IVR
    containment), calls (per hour, day, month, year, or per minute in real
    time, every period of the range), service (service level and abandon
    rate per period), queues (offered, answered, abandoned, service
    level, wait and talk), agents (offered, answered, missed, talk and
    handling time), agent_time (time logged in, ready, paused, ringing,
    talking and wrapping up, and occupancy, from the console's agent
    states; shown when the store has them), agent_pauses (paused time per
    reason), nodes (visits, time spent, drops), choices (what callers
    chose at each menu), queue_choices (keys callers pressed while waiting
    in a queue) and callbacks (in-queue call-backs requested, completed,
    failed, and the time to call back); the last two shown when the store
    has them. docs/reports.md defines every figure.
    Exit status: 0 with a report, 2 for bad options or a store that cannot
    be read, 4 when its PostgreSQL server does not answer. With
    --check-asterisk: 0 when Asterisk and the call store agree, 1 when they
    differ, 2 when there is nothing to check against.
    """
    fmt = chosen_format(fmt, output, SUFFIXES, ReportFormat.table)
    if graphs and fmt is not ReportFormat.html:
        raise fail("--graph draws flows into the HTML report: add --format html", USAGE)
    if check_asterisk:
        _check_asterisk(store, config, interval, start, end, queue, agent, flow, zone, fmt,
                        output)
        return
    text = _make(store, config, interval, start, end, queue, agent, flow, within, minutes,
                 now, zone, section, fmt, output, graphs or [])
    if text is not None:
        write(text)


def _make(store, config, interval, start, end, queue, agent, flow, within, minutes, now,
          zone, section, fmt, output, graphs) -> str | None:
    """The rendered report (None: the table was printed, or a file written)."""
    from ccdsl.runtime.operations.reports import ReportError, ZoneError, make_report
    from ccdsl.runtime.operations.reports.model import Options
    from ccdsl.runtime.operations.reports.options import OptionError, duration_ms, filters
    from ccdsl.runtime.operations.reports.pruned import pruned_note

    realtime = interval is Interval.realtime
    if realtime and (start or end):
        raise fail("--from and --to do not go with --interval realtime, which reports the last "
                   "--minutes minutes", USAGE)
    if not realtime and (minutes is not None or now is not None):
        raise fail("--minutes and --now go with --interval realtime", USAGE)
    if minutes is not None and not 1 <= minutes <= 1440:
        raise fail(f"--minutes {minutes}: give 1 to 1440 minutes", USAGE)
    try:
        chosen = filters(start, end, queue=queue, agent=agent, flow=flow)
        within_ms = duration_ms(within, "--within")
        moment = _moment(now) if now else None
    except OptionError as exc:
        raise fail(str(exc), USAGE) from None
    options = Options(interval=interval.value, within_ms=within_ms, minutes=minutes or 60,
                      zone=zone)
    wanted = (section.value,) if section else None  # None: every one the store has
    path = named_store(store, config)
    try:
        made = make_report(path, chosen, options, wanted, now=moment)
    except ZoneError as exc:
        raise fail(f"--zone: {exc}", USAGE) from None
    except ReportError as exc:
        raise fail(str(exc), store_exit(exc)) from None  # a server not answering: 4
    note = pruned_note(made)
    if note:
        write(f"warning: {note}\n", err=True)
    drawn = _graphs(graphs, path, made) if graphs else {}
    text = _render(made, fmt, one=section is not None, to_file=output is not None,
                   graphs=drawn)
    if output is None:
        return text
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write `{output}`: {exc.strerror}", USAGE) from None
    write(f"report written to {output}\n", err=True)
    return None


def _check_asterisk(store, config, interval, start, end, queue, agent, flow, zone, fmt,
                    output) -> None:
    """`--check-asterisk` (docs/reports.md "Checking against Asterisk")."""
    from ccdsl.runtime.operations.centre_time import ZoneError, report_zone
    from ccdsl.runtime.operations.reports import ReportError
    from ccdsl.runtime.operations.reports import reconcile_render as render
    from ccdsl.runtime.operations.reports.options import OptionError, filters
    from ccdsl.runtime.operations.reports.query import open_store
    from ccdsl.runtime.operations.reports.reconcile import check_asterisk

    if interval is Interval.realtime:
        raise fail("--check-asterisk takes --from and --to, not --interval realtime", USAGE)
    if fmt is ReportFormat.html:
        raise fail("--check-asterisk prints a table, csv or json, not html", USAGE)
    try:
        chosen = filters(start, end, queue=queue, agent=agent, flow=flow)
    except OptionError as exc:
        raise fail(str(exc), USAGE) from None
    path = named_store(store, config)
    try:
        db = open_store(path)
    except ReportError as exc:
        raise fail(str(exc), store_exit(exc)) from None
    try:
        checked = check_asterisk(db, path, chosen, report_zone(db, zone))
    except ZoneError as exc:
        raise fail(f"--zone: {exc}", USAGE) from None
    finally:
        db.close()
    if checked.ami_events == 0:
        raise fail(f"the call store {path} has no AMI events for this range: nothing to check "
                   "against (the calls were simulated, or `ccf serve` ran without its AMI link)",
                   USAGE)
    text = {ReportFormat.json: render.to_json,
            ReportFormat.csv: render.to_csv}.get(fmt, render.to_text)(checked)
    if output is None:
        write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write `{output}`: {exc.strerror}", USAGE) from None
    raise typer.Exit(OK if checked.agrees else PROBLEMS)


def _moment(text: str):

    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.operations.reports.options import OptionError
    from ccdsl.runtime.sim.script import parse_at

    try:
        return parse_at(text, None)  # without a zone: in the report's
    except InputError as exc:
        raise OptionError(f"--now: {exc}") from None


def _graphs(flows: list[str], path: str, made) -> dict[str, tuple[str, str]]:
    """Each flow's graph as (what its traffic counts, inline SVG), with the
    traffic of the report's store over its range and its --queue and --agent
    (docs/reports.md "Flow graphs")."""
    from ccdsl.cli.flow_graphs import load_graph, svg_of, traffic_on
    from ccdsl.compiler.graph.page import covers, inline_svg
    from ccdsl.runtime.operations.centre_time import local_moment

    def moment(local: str | None):
        return local_moment(local, ZoneInfo(made.zone)) if local else None

    drawn: dict[str, tuple[str, str]] = {}
    for flow in flows:
        graph = traffic_on(load_graph(flow), path, moment(made.filters.start),
                           moment(made.filters.end), queue=made.filters.queue,
                           agent=made.filters.agent)
        drawn[graph.flow] = (covers(graph), inline_svg(svg_of(graph)))
    return drawn


def _render(made, fmt: ReportFormat, *, one: bool, to_file: bool,
            graphs: dict[str, tuple[str, str]] | None = None) -> str:
    if fmt is ReportFormat.csv:
        from ccdsl.runtime.operations.reports.render_data import to_csv

        return to_csv(made, one=one)
    if fmt is ReportFormat.json:
        from ccdsl.runtime.operations.reports.render_data import to_json

        return to_json(made)
    if fmt is ReportFormat.html:
        from ccdsl.runtime.operations.reports.render_html import render

        return render(made, graphs=graphs or {})
    import io
    import shutil

    from ccdsl.runtime.operations.reports.render_text import render

    color = not to_file and wants_color(sys.stdout)
    out = io.StringIO()
    # a terminal's own width; a file or a pipe gets room for the widest table
    render(made, out, color=color, width=shutil.get_terminal_size().columns if color else 200)
    return out.getvalue()
