"""`ccf wrapup CALL --field name=value ...`: an agent's wrap-up, to `ccf serve` or a
call store. Reads options and prints; runtime.operations.wrapup checks and stores."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ccdsl import json_text
from ccdsl.cli.common import (
    ConfigOption,
    CrmOption,
    WriteStoreOption,
    not_found,
    service_exit_code,
    write,
)
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE

CLIENT_TIMEOUT_S = 20.0  # the server gives a wrap-up 15 s (a slow CRM); a little more here


def wrapup(
    call: str = typer.Argument(..., metavar="CALL", show_default=False,
                               help="The call's id (the Asterisk Uniqueid, or sim-N of a "
                                    "simulated call)."),
    field: list[str] = typer.Option([], "--field", "-f", metavar="NAME=VALUE",
                                    help="One wrap-up value, such as reason=order or "
                                         "resolved=yes; repeat for each field. Typed by the "
                                         "flow's declaration: bool takes true/false/yes/no/1/0, "
                                         "date 2026-11-30, datetime 2026-11-30T14:30, time "
                                         "14:30, duration 90s; an empty value leaves an "
                                         "optional field empty."),
    agent: str = typer.Option(None, "--agent", "-a", metavar="AGENT",
                              help="The agent entering the wrap-up: each agent asked for "
                                   "the form saves their own (default: the agent asked "
                                   "last)."),
    config: ConfigOption = None,
    store: WriteStoreOption = None,
    crm: CrmOption = None,
    flow: Path = typer.Option(None, "--flow", metavar="FLOW", dir_okay=False,
                              help="With --store: the .ccf the call ran, for the fields' types "
                                   "(default: found from the call's events)."),
) -> None:
    """Enter an agent's wrap-up for a call: the fields its flow declares.

    Checked against the flow's `wrapup:` fields (unknown fields, missing
    required ones and values of the wrong type are reported together),
    then stored with the call in the call store and logged to the CRM.
    Without --store it goes to the running `ccf serve`, found at the \\[api]
    address of ccf.toml (127.0.0.1:8573 without one); a call still in
    progress gets it when it ends. With --store, --crm DB also logs it to
    that CRM's call_log. Each agent asked for the form (a transferred call
    asks both agents) saves their own once: a second save by the same agent
    is refused and changes nothing. Exit status: 0 stored, 1 refused (the
    problems are listed, this agent's wrap-up is saved already, or the store
    is busy: save it again), 2 bad options, an unknown call (or one pruned
    meanwhile), a missing store or CRM, or a store to mend first (its login
    refused, a table missing), 4 when ccf serve is not running or
    does not answer (with --store: when its PostgreSQL server does not).
    """
    from ccdsl.runtime.operations.wrapup import parse_field_args

    values, problems = parse_field_args(field)
    if not field:
        problems.append("no --field given: name each wrap-up value, such as "
                        "--field reason=order")
    if store is None and (crm is not None or flow is not None):
        problems.append("--crm and --flow go with --store (`ccf serve` uses its own CRM "
                        "and flows)")
    if problems:
        for problem in problems:
            write(f"error: {problem}\n", err=True)
        raise typer.Exit(USAGE)
    if store is not None:
        code = _to_store(call, values, agent, store, crm, flow)
    else:
        code = _to_server(call, values, agent, config)
    if code:
        raise typer.Exit(code)


# ---- to ccf serve ----------------------------------------------------------------------


def _to_server(call: str, values: dict[str, str], agent: str | None,
               config: str | None) -> int:
    from ccdsl.runtime.asterisk.api_client import ApiClientError, api_address, call_api

    body = {"fields": values} if agent is None else {"agent": agent, "fields": values}
    try:
        address = api_address(config)
    except ApiClientError as exc:
        for problem in str(exc).splitlines():
            write(f"error: {problem}\n", err=True)
        return USAGE
    token = os.environ.get(address.token_env) or None
    try:
        status, data = call_api(address, token, "POST", f"/calls/{_segment(call)}/wrapup",
                                body=body, timeout_s=CLIENT_TIMEOUT_S)
    except ApiClientError as exc:
        write(f"error: {exc}\n", err=True)
        return service_exit_code(exc)
    from ccdsl.terminal_text import visible

    data = data if isinstance(data, dict) else {}
    if status == 200 and data.get("ok"):
        done = "taken, stored when the call ends" if data.get("stored") == "when the call ends" \
            else "stored"
        fields = data.get("fields")
        _stored(call, fields if isinstance(fields, dict) else {}, done, data.get("crm"))
        return OK
    if status == 404:  # no such call (now): exit 2, as in --store's case
        error = data.get("error") or f"no call {call!r} on ccf serve"
        # a call pruned since its form was shown (`gone`) is not one to look for in the list
        hint = "" if data.get("gone") is True else ": `ccf calls list` lists them"
        write(f"error: {visible(error)}{hint}\n", err=True)
        return USAGE
    problems = data.get("problems")
    for problem in (problems if isinstance(problems, list) and problems else
                    [data.get("error") or f"ccf serve answered HTTP {status}"]):
        # the server's words quote the values entered and the CRM's answer
        write(f"error: {visible(problem)}\n", err=True)
    return PROBLEMS


def _segment(call: str) -> str:
    from urllib.parse import quote

    return quote(call, safe="")


def _stored(call: str, fields: dict, done: str, crm: str | None) -> None:
    from ccdsl.terminal_text import visible

    shown = ", ".join(f"{k}={json_text.dumps(v, ensure_ascii=False)}" for k, v in fields.items())
    write(f"wrap-up of call {visible(call)} {done}: {visible(shown or 'no values')}\n")
    if crm and crm not in ("none", "logged"):
        write(f"warning: not logged in the CRM: {visible(crm)}\n", err=True)
    elif crm == "logged":
        write("logged in the CRM\n")


# ---- straight into a call store --------------------------------------------------------


def _to_store(call: str, values: dict[str, str], agent: str | None, store: str,
              crm: Path | None, flow: Path | None) -> int:
    import asyncio

    from ccdsl.cli.common import checked_target, open_store
    from ccdsl.runtime.operations.database import shown
    from ccdsl.runtime.operations.wrapup import WrapupError, call_form, check

    checked_target(store)
    if crm is not None and not crm.is_file():
        write(f"error: there is no CRM database at `{crm}`\n", err=True)
        return USAGE
    if flow is not None and not flow.is_file():
        write(f"error: `{flow}` is not a file\n", err=True)
        return USAGE
    calls = open_store(store, None)
    try:
        record = calls.call(call)
        if record is None:
            raise not_found("call", call, f"the call store {shown(store)}", "`ccf calls list`")
        events = calls.events(call)
        try:
            form = call_form(events, record.get("flow"), record.get("flow_version"),
                             _ir_finder(events, flow), agent)
        except WrapupError as exc:
            hint = "" if flow else "; name it with --flow FILE"
            write(f"error: call {call}: {exc}{hint}\n", err=True)
            return PROBLEMS
        checked = check(form, values)
        if not checked.ok:
            for problem in checked.problems:
                write(f"error: {problem}\n", err=True)
            return PROBLEMS
        return asyncio.run(_write(calls, crm, call, agent or form.agent, checked.values))
    finally:
        calls.close()


async def _write(calls, crm_path: Path | None, call: str, agent: str | None,
                 values: dict) -> int:
    from ccdsl.runtime.core.errors import ExternalError
    from ccdsl.runtime.core.values import to_json
    from ccdsl.runtime.operations.database import shown
    from ccdsl.runtime.operations.store_errors import CallNotStored, StoreBusy, StoreFault
    from ccdsl.runtime.operations.wrapup import AlreadySaved, store_wrapup
    from ccdsl.runtime.operations.wrapup_outcome import not_saved
    from ccdsl.terminal_text import visible

    crm = None
    if crm_path is not None:
        from ccdsl.runtime.core.crm.sqlite import SqliteCRM

        try:
            crm = SqliteCRM(crm_path, create=False)
        except ExternalError as exc:
            write(f"error: the CRM `{crm_path}` cannot be opened: {exc}\n", err=True)
            return USAGE
    try:
        # each agent's wrap-up is saved once (as ccf serve takes it): a second save by the
        # same agent neither overwrites the values nor logs the call in the CRM again
        state = await store_wrapup(calls, crm, call, agent, values, source="ccf", once=True)
    except AlreadySaved:
        by = f" by {agent}" if agent else ""
        write(f"error: the wrap-up of call {visible(call)}{by} is already saved; a saved "
              "wrap-up is not changed\n", err=True)
        return PROBLEMS
    except CallNotStored:  # pruned since it was read: a call that is not there, as in
        # `ccf calls show` (exit 2)
        write(f"error: call {visible(call)} is not in the call store "
              f"{visible(shown(str(calls.path)))} (pruned?); nothing saved\n", err=True)
        return USAGE
    except StoreBusy as exc:  # nothing stored, nothing logged: the desk's words (503)
        write(f"error: {visible(not_saved(call, exc).body['error'])}\n", err=True)
        return USAGE if isinstance(exc, StoreFault) else PROBLEMS
    finally:
        if crm is not None:
            crm.close_now()
    _stored(call, to_json(values), "stored", state)
    return OK


def _ir_finder(events: list[dict], flow: Path | None):
    """(flow name, version) -> IR: the --flow file, else the .ccf files the
    call's events point into that compile to the flow of that name."""
    def find(name: str, version: str | None) -> dict | None:
        from ccdsl.compiler.pipeline import compile_file

        files = [str(flow)] if flow is not None else list(dict.fromkeys(
            e["file"] for e in events if e.get("file") and os.path.isfile(e["file"])))
        for path in files[:5]:
            result = compile_file(path)
            ir = result.ir if result.ok else None
            # the file named with --flow is taken at its word
            if ir is not None and (flow is not None or (ir.get("flow") or {}).get("name") == name):
                return ir
        return None
    return find
