"""`ccf deploy PATH`: compile the entry flows, store them as a new version and
apply the dialplan. Compiles and prints; runtime.asterisk.deploy does the rest."""

from __future__ import annotations

import os
import sys

import typer

from ccdsl.cli.common import (
    ConfigOption,
    Format,
    load_centre,
    render_diagnostics,
    require_ami_secrets,
    service_exit_code,
    store_exit,
    wants_color,
    write,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import PROBLEMS, USAGE


def deploy(
    path: str | None = typer.Argument(
        None, metavar="PATH", show_default=False, autocompletion=flow_paths,
        help="A flow file or a directory searched recursively for .ccf files; every entry "
             "flow (one with `on start`) is deployed, modules are compiled with the flows "
             "that use them."),
    config: ConfigOption = None,
    dry_run: bool = typer.Option(False, "--dry-run", "-n",
                                 help="Print what would change (flows added, changed and "
                                      "removed; for a changed flow the steps, prompts and "
                                      "queues that changed and a diff of its sources; the "
                                      "dialplan diff) and write nothing."),
    rollback: bool = typer.Option(False, "--rollback",
                                  help="Return to the version that was current before this "
                                       "one and apply its dialplan (no PATH)."),
    no_apply: bool = typer.Option(False, "--no-apply",
                                  help="Write the flow store only; do not touch Asterisk "
                                       "(apply later with another deploy)."),
    note: str = typer.Option("", "--note", "-m", help="A note kept with the version, shown "
                                                      "by `ccf flows`."),
) -> None:
    """Deploy flows to Asterisk: compile, store a new version, apply the dialplan.

    Refuses when any flow has an error (shown as `ccf validate` shows it).
    Asterisk's AMI is reached before anything is written; if it cannot be,
    nothing changes. A running `ccf serve` starts new calls on the new
    version; calls in progress finish on theirs. Exit status: 0 when
    deployed (or for a dry run), 1 when refused or failed, 2 for a usage
    error (a missing path or ccf.toml, the AMI secret's environment variable
    not set, the store's PostgreSQL server refusing the login), 4 when
    Asterisk's AMI or the store's PostgreSQL server does not answer.
    """
    from ccdsl.runtime.asterisk.deploy import DeployError
    from ccdsl.runtime.asterisk.flowstore import FlowStoreError
    from ccdsl.runtime.asterisk.flowstore_db import flow_store_for

    if rollback and path is not None:
        write("error: --rollback takes no PATH: it returns to the previous version\n", err=True)
        raise typer.Exit(USAGE)
    if not rollback and path is None:
        write("error: name the flows to deploy: ccf deploy PATH (or --rollback)\n", err=True)
        raise typer.Exit(USAGE)
    centre = load_centre(config)
    store = flow_store_for(centre)
    try:
        if rollback:
            _rollback(centre, store, dry_run=dry_run, no_apply=no_apply)
        else:
            _deploy(centre, store, path, dry_run=dry_run, no_apply=no_apply, note=note)
    except (DeployError, FlowStoreError) as exc:
        write(f"error: {exc}\n", err=True)
        raise typer.Exit(store_exit(exc, service_exit_code(exc))) from None


def compile_entry_flows(path: str) -> tuple[dict[str, dict], dict[str, str], list[str]]:
    """Compile every flow under PATH. Returns the IR of each entry flow by
    flow name, its source file, and the module files left out. Exits 1
    with the diagnostics when any has an error."""
    from ccdsl.compiler.pipeline import compile_file, find_flow_files, unique_sorted
    from ccdsl.diagnostics import has_errors
    from ccdsl.render import summary

    if not os.path.exists(path):
        write(f"error: `{path}` does not exist\n", err=True)
        raise typer.Exit(USAGE)
    files, diags = find_flow_files([path])
    if diags:  # a folder without flows
        for diag in diags:
            write(f"error: {diag.message}\n", err=True)
        raise typer.Exit(USAGE)
    results = [compile_file(file) for file in files]
    sources: dict = {}
    for result in results:
        diags.extend(result.diagnostics)
        sources.update(result.sources)
    diags = unique_sorted(diags)
    if diags:
        write(render_diagnostics(diags, sources, Format.text, err=True), err=True)
    if has_errors(diags):
        write("\n" + summary(diags, len(files)) + "\n", err=True)
        write("error: nothing was deployed: fix the errors above (`ccf validate` shows the "
              "same)\n", err=True)
        raise typer.Exit(PROBLEMS)
    flows: dict[str, dict] = {}
    origin: dict[str, str] = {}
    modules: list[str] = []
    for result in results:
        ir = result.ir
        if not _is_entry(ir):
            modules.append(result.path)
            continue
        name = ir["flow"]["name"]
        if name in flows:
            write(f"error: two files declare the flow {name}: {origin[name]} and "
                  f"{result.path}; rename one (the flow name is the FastAGI path)\n", err=True)
            raise typer.Exit(PROBLEMS)
        # tests do not run in production: a changed test is not a changed flow
        flows[name] = {**ir, "tests": []}
        origin[name] = result.path
    if not flows:
        write(f"error: no entry flow under {path}: a flow to deploy has `on start`\n",
              err=True)
        raise typer.Exit(USAGE)
    return flows, origin, modules


def _is_entry(ir: dict) -> bool:
    return (ir.get("handlers") or {}).get("start") is not None or "start" in (ir.get("steps")
                                                                              or {})


def _deploy(centre, store, path: str, *, dry_run: bool, no_apply: bool, note: str) -> None:
    import asyncio

    from ccdsl.runtime.asterisk.deploy import ami_connectors, deploy, make_plan

    flows, origin, modules = compile_entry_flows(path)
    if not dry_run and not no_apply:  # before the plan: nothing could be applied
        require_ami_secrets(centre)
    plan = make_plan(centre, store, flows, origin)
    for module in modules:
        write(f"{module}: a module (no `on start`), deployed with the flows that use it\n")
    base = f"version {plan.current.version}" if plan.current else "nothing deployed"
    write(f"Flows (against {base}):\n")
    colour = wants_color(sys.stdout)
    for change in plan.changes:
        source = origin.get(change.name, "")
        write(f"  {change.change:<9}  {change.name}" + (f"  ({source})" if source else "") + "\n")
        write("".join(f"{'':13}{part}\n" for part in change.parts))
        if change.kept_no_sources:
            write(f"{'':13}(version {plan.current.version} kept no sources to diff against; "
                  "the next deploy will)\n")
        write(diff_lines(change.diff, colour=colour))
    if plan.diff:
        write("Dialplan:\n" + diff_lines(plan.diff, colour=colour))
    else:
        write("Dialplan: unchanged\n")
    if plan.sounds:
        write(("Queue messages (to render or copy):\n" if dry_run else "Queue messages:\n")
              + "".join(f"  {sound.describe()}\n" for sound in plan.sounds))
    if dry_run:
        write("Dry run: nothing was written.\n")
        return
    connect = None if no_apply else ami_connectors(centre)
    version, done = asyncio.run(deploy(centre, store, plan, note=note, connect=connect))
    _report(centre, version, done, no_apply, store.where)


_COLOURS = (("+++", "\x1b[1m"), ("---", "\x1b[1m"), ("@@", "\x1b[36m"), ("+", "\x1b[32m"),
            ("-", "\x1b[31m"))


def diff_lines(text: str, *, colour: bool) -> str:
    """A unified diff as it is, or (on a terminal) each line coloured as
    git colours it: removed red, added green, hunks cyan, file names bold."""
    if not colour or not text:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        start = next((code for prefix, code in _COLOURS if body.startswith(prefix)), None)
        out.append(f"{start}{body}\x1b[0m\n" if start else line)
    return "".join(out)


def _rollback(centre, store, *, dry_run: bool, no_apply: bool) -> None:
    import asyncio

    from ccdsl.runtime.asterisk.deploy import ami_connectors, rollback

    if not dry_run and not no_apply:
        require_ami_secrets(centre)
    target = store.rollback_target()
    now = store.current_version()
    if dry_run:
        write(f"Dry run: would return from version {now} to version {target.version} and "
              "apply its dialplan; nothing was written.\n")
        return
    connect = None if no_apply else ami_connectors(centre)
    version, done = asyncio.run(rollback(centre, store, connect=connect))
    write(f"Rolled back from version {now}.\n")
    _report(centre, version, done, no_apply, store.where)


def _report(centre, version, done: list[str], no_apply: bool, where: str) -> None:
    names = ", ".join(f.name for f in version.flows)
    write(f"Version {version.version} is current ({names}) in {where}.\n")
    if no_apply:
        write("Asterisk was not touched (--no-apply): deploy again without it to apply the "
              "dialplan.\n")
    elif not getattr(centre, "servers", ()) or not centre.servers[0].name:
        write(f"Applied through AMI at {centre.ami.host}:{centre.ami.port}: "
              + "; ".join(done) + ".\n")
    else:  # [[asterisk]] servers: a line per server, as deploy wrote them
        write("Applied through AMI on every server:\n" + "".join(f"  {line}.\n" for line in done))
