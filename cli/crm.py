"""`ccf crm import` and `ccf crm show`: fill and read the embedded SQLite CRM.
Reads options and prints; runtime.core.crm does the work."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ccdsl.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    TableFormat,
    TableFormatOption,
    existing_folder,
    fail,
    load_centre,
    not_found,
    table_console,
    write,
)
from ccdsl.cli.exit_codes import USAGE

DB_ENV = "CCF_CRM_DB"  # the same as runtime.core.crm.config.DB_ENV, kept here to start fast
DEFAULT_DB = "ccdsl-crm.db"
DB_HELP = ("The CRM's SQLite file. Default: $CCF_CRM_DB, else the \\[crm] path of --config "
           "(or of ccf.toml in the current directory when there is one), else ccdsl-crm.db "
           "in the current directory.")
DbOption = typer.Option(None, "--db", metavar="FILE", envvar=DB_ENV, show_default=False,
                        help=DB_HELP)

app = typer.Typer(
    name="crm",
    help="The embedded CRM (a SQLite file): import customers, agents, orders and other "
         "records, and show what it holds.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("import")
def import_records(
    file: Path = typer.Argument(..., metavar="FILE", show_default=False,
                                help="A .csv file with a header row, or a .json file holding "
                                     "a list of objects."),
    record_type: str = typer.Option(..., "--type", "-t", show_default=False,
                                    help="The record type: customer, agent, order, ticket, "
                                         "or any name of your own."),
    db: str | None = DbOption,
    config: ConfigOption = None,
) -> None:
    """Import records into the CRM: each row becomes a record of --type.

    A record with an `id` replaces the fields it gives of the record with
    that id (or is added); a record without one is added with a new id.
    CSV cells are text unless the header gives a type (`total:number`,
    `eta:date`, `skills:list`) or the built-in record type does. The
    database is the one `ccf serve` uses with the same ccf.toml. Exit
    status: 0 when imported, 1 for a bad file or type, 2 for a missing FILE,
    a database that is not a SQLite file or a ccf.toml that cannot be used.
    """
    from ccdsl.runtime.core.crm.importer import ImportFileError, read_records
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM, check_type_name
    from ccdsl.runtime.core.errors import ExternalError

    db = crm_db(db, config)
    if not file.exists():
        raise fail(f"{file}: no such file", USAGE)
    try:
        check_type_name(record_type, writing=True)
        records = read_records(file, record_type)
    except (ImportFileError, ExternalError) as exc:
        raise fail(str(exc)) from None
    existing_folder(db, "the CRM")
    try:
        crm = SqliteCRM(db)
    except ExternalError as exc:  # not a SQLite file: a database the command cannot use
        raise fail(str(exc), USAGE) from None
    try:
        added, updated = crm.upsert(record_type, records)
    except ExternalError as exc:
        raise fail(str(exc)) from None
    finally:
        crm.close_now()
    noun = "record" if len(records) == 1 else "records"
    write(f"Imported {len(records)} {record_type} {noun} from {file} into {db} "
          f"({added} new, {updated} updated).\n")


@app.command("show")
def show(
    record_type: str | None = typer.Option(None, "--type", "-t", show_default=False,
                                           help="Show only records of this type "
                                                "(call_log for the logged calls)."),
    db: str | None = DbOption,
    config: ConfigOption = None,
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """Show the records in the CRM, every type or one.

    `--format json` gives a list of records with --type, else an object of
    lists by type. Exit status: 0; 2 when the type does not exist, the
    database does not exist or is not a SQLite file, or the ccf.toml
    cannot be used.
    """
    from ccdsl import json_text
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.core.errors import ExternalError
    from ccdsl.runtime.core.values import to_json
    from ccdsl.terminal_text import visible

    db = crm_db(db, config)
    try:
        crm = SqliteCRM(db, create=False)
    except ExternalError as exc:  # missing, or not a SQLite file
        missing = not Path(db).exists()
        hint = f"; {_import_hint()}" if missing else ""
        raise fail(f"{exc}{hint}", USAGE) from None
    try:
        types = crm.record_types()
        if record_type is not None:
            if record_type not in types:
                where = f"the CRM {visible(db)}"
                if not types:  # nothing for `ccf crm show` to list: what fills it, this type
                    raise not_found("record type", record_type, where, None,
                                    also=f"it is empty; {_import_hint(record_type)}")
                # the type names come from the file: shown escaped, as the name asked for is
                raise not_found("record type", record_type, where, "`ccf crm show`",
                                also=f"it has: {', '.join(visible(name) for name in types)}")
            types = [record_type]
        tables = {name: [r.fields for r in crm.records(name)] for name in types}
    except ExternalError as exc:
        raise fail(str(exc)) from None
    finally:
        crm.close_now()
    if fmt is TableFormat.json:
        data = to_json(tables[record_type] if record_type is not None else tables)
        write(json_text.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    if not tables:
        write(f"The CRM {visible(db)} is empty: {_import_hint()}.\n")
        return
    _render_tables(tables)


def _import_hint(record_type: str | None = None) -> str:
    """What fills a CRM, in the words of every message about one that has no records."""
    from ccdsl.terminal_text import visible

    kind = "TYPE" if record_type is None else visible(record_type)
    return f"import records with `ccf crm import FILE --type {kind}`"


def crm_db(db: str | None, config: str | None) -> str:
    """The CRM file: --db (or $CCF_CRM_DB), else the SQLite CRM of the centre's
    ccf.toml (--config, $CCF_CONFIG, or ./ccf.toml when there is one) as `ccf
    serve` opens it, else ./ccdsl-crm.db."""
    if db is not None:
        return db
    if config is None and not os.path.isfile(DEFAULT_CONFIG):
        return DEFAULT_DB
    centre = load_centre(config)
    path = getattr(centre.crm, "path", None)
    if path is None:
        raise fail(f"the CRM of {centre.path} is not the embedded SQLite one (its [crm] adapter "
                   "is http): `ccf crm` fills a SQLite file; name one with --db", USAGE)
    return path


def _cell(value, to_text) -> str:
    """A CRM cell in the table: a list of skills reads `general, en-US`, as
    a person writes it in the CSV, not as a flow's list literal."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v, to_text) for v in value)
    return to_text(value)


def _render_tables(tables: dict[str, list[dict]]) -> None:
    from rich.table import Table
    from rich.text import Text

    from ccdsl.runtime.core.values import to_text
    from ccdsl.terminal_text import visible

    console = table_console()
    for index, (name, rows) in enumerate(tables.items()):
        columns: list[str] = []
        for row in rows:
            columns.extend(column for column in row if column not in columns)
        noun = "record" if len(rows) == 1 else "records"
        # names and values are the CRM's: rich Text, never markup, escaped
        table = Table(title=Text(f"{visible(name)} ({len(rows)} {noun})"),
                      title_justify="left")
        for column in columns:
            table.add_column(Text(visible(column)), overflow="fold")
        for row in rows:
            table.add_row(*(Text(visible(_cell(row.get(column), to_text))) for column in columns))
        if index:
            console.print()
        console.print(table)
