"""What the subcommands share: their common options (declared only here), a flow read
from standard input, the centre's config and call store, exiting with a message.
Imports nothing heavy."""

from __future__ import annotations

import math
import os
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ccdsl.cli.completion import warning_codes
from ccdsl.cli.exit_codes import PROBLEMS, UNREACHABLE, USAGE

# ---- the shared options ----------------------------------------------------------------
# A command takes one as `config: ConfigOption = None`. Where a flag means
# something else in one command (simulate's, wrapup's and serve --simulate's --store), that
# variant is declared here too, beside the shared one, so the two stay told apart. Every
# --store is text (a file or a postgresql:// URL) read by store_target/checked_target below.

DEFAULT_CONFIG = "ccf.toml"
CONFIG_HELP = ("The centre's ccf.toml. Default: $CCF_CONFIG, else ccf.toml in the current "
               "directory.")
ConfigOption = Annotated[str | None, typer.Option(
    "--config", "-c", metavar="FILE", envvar="CCF_CONFIG", show_default=False,
    help=CONFIG_HELP)]

STORE_HELP = ("The call store: a SQLite file, or a postgresql:// URL (its password in "
              "$CCF_STORE_PASSWORD). Default: $CCF_STORE, else the \\[store] url or \\[paths] "
              "store of --config.")
# text, not a Path: a Path would fold a URL's `//`
StoreOption = Annotated[str | None, typer.Option(
    "--store", metavar="FILE|URL", envvar="CCF_STORE", show_default=False,
    help=STORE_HELP)]
# simulate creates the store when missing and by default discards the call
KeepStoreOption = Annotated[str | None, typer.Option(
    "--store", metavar="FILE|URL", envvar="CCF_STORE", show_default=False,
    help="Keep the call (its events and call record) in this call store (a SQLite file or a "
         "postgresql:// URL), created if missing; reports and `last_agent` read it. Default: "
         "$CCF_STORE, else a temporary store that is discarded.")]
# no $CCF_STORE: a variable left set must not divert wrap-ups from `ccf serve`
WriteStoreOption = Annotated[str | None, typer.Option(
    "--store", metavar="FILE|URL", show_default=False,
    help="Write straight into this call store (a SQLite file or a postgresql:// URL, its "
         "password in $CCF_STORE_PASSWORD) instead of sending to `ccf serve`.")]
# serve keeps a simulation's calls only when told where: no $CCF_STORE, no ccf.toml
SimulateStoreOption = Annotated[str | None, typer.Option(
    "--store", metavar="FILE|URL", show_default=False,
    help="With --simulate: keep the calls in this call store, a SQLite file or a "
         "postgresql:// URL (its password in $CCF_STORE_PASSWORD), created if missing "
         "(default: a temporary one).")]

# a listing's --limit: past any screen or file a person reads, and far inside
# SQLite's 64-bit LIMIT (a larger number is an OverflowError there)
MAX_LIMIT = 1_000_000


def limit_option(default: int, help: str):
    """The --limit of a listing (calls, voicemail, call-backs), from 1 to MAX_LIMIT."""
    return typer.Option(default, "--limit", metavar="N", min=1, max=MAX_LIMIT, help=help)


def finite(value: float | None) -> float | None:
    """A float option's callback: click's FloatRange lets nan through (every
    comparison with it is false), and inf means nothing to a rate or a time."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a number; give a finite one such as 2.5")
    return value


CrmOption = Annotated[Path | None, typer.Option(
    "--crm", metavar="DB", dir_okay=False, show_default=False,
    help="A SQLite CRM file (`ccf crm import` fills one).")]

# the words of every option that takes a moment (--at, --since, --now: one parser,
# runtime/core/moments.py) or a local date (report's --from and --to)
MOMENT_FORMS_HELP = ("\"YYYY-MM-DD HH:MM \\[Zone]\" such as \"2026-11-30 10:00 Asia/Shanghai\", "
                     "or ISO 8601 such as 2026-11-30T10:00+08:00 (seconds, Z allowed)")
RANGE_FORMS_HELP = ("a date (2026-11-30) or a date and time (\"2026-11-30 10:00\", seconds "
                    "allowed) in the report's time zone (--zone), or a moment with its zone: "
                    f"{MOMENT_FORMS_HELP}, shown in the report's zone")

SinceOption = Annotated[str | None, typer.Option(
    "--since", metavar="WHEN", show_default=False,
    help="Only those from then on: a span back from now (30m, 2h, 3d, 1w), a date "
         f"(2026-11-30) or a moment, {MOMENT_FORMS_HELP}; without a zone, the centre's (the "
         "call store's), else this machine's.")]


class Format(StrEnum):
    """How diagnostics are printed."""

    text = "text"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"


FORMAT_HELP = ("How to print diagnostics: text (quoted source with carets), concise "
               "(file:line:col: CODE message), json (a list of objects, for tools), github "
               "(GitHub Actions annotations) or sarif (SARIF 2.1.0, for code scanning).")
FormatOption = Annotated[Format, typer.Option("--format", "-f", help=FORMAT_HELP)]
# the formats a program reads: a summary for people goes to standard error beside them
MACHINE_FORMATS = (Format.json, Format.github, Format.sarif)

# -- which warnings are reported (ccdsl/code_selection.py), shared by validate, compile, test
SelectOption = Annotated[list[str] | None, typer.Option(
    "--select", metavar="CODES", show_default=False, autocompletion=warning_codes,
    help="Report only these warnings: codes or prefixes (W601, W6, W), comma-separated or "
         "repeated. Errors are always reported.")]
IgnoreOption = Annotated[list[str] | None, typer.Option(
    "--ignore", metavar="CODES", show_default=False, autocompletion=warning_codes,
    help="Do not report these warnings: codes or prefixes (W601, W6, W), comma-separated or "
         "repeated. Errors cannot be ignored.")]
WarningsAsErrorsOption = Annotated[bool, typer.Option(
    "--warnings-as-errors",
    help="Report the warnings as errors, so any warning fails the run (exit 1).")]


# -- the compiler's cache (compiler/cache_store.py), shared by validate, compile, test
NoCacheOption = Annotated[bool, typer.Option(
    "--no-cache",
    help="Compile everything afresh: neither read nor write the cache of parsed modules "
         "and results ($CCF_CACHE_DIR, else $XDG_CACHE_HOME/ccdsl, else ~/.cache/ccdsl).")]


def compile_cache(no_cache: bool):
    """The cache folder's Store, or None with --no-cache."""
    if no_cache:
        return None
    from ccdsl.compiler.cache_store import Store

    return Store()


def code_selection(select: list[str] | None, ignore: list[str] | None,
                   warnings_as_errors: bool = False):
    """The ccdsl.code_selection.Selection the options name, or exit 2."""
    from ccdsl.code_selection import SelectionError, selection

    try:
        return selection(select, ignore, warnings_as_errors)
    except SelectionError as exc:
        raise fail(str(exc), USAGE) from None


# -- standard input as a flow file (`-`), for editors' format-on-save and pipes
STDIN = "-"
STDIN_NAME = "<stdin>"
StdinFilenameOption = Annotated[str | None, typer.Option(
    "--stdin-filename", metavar="PATH", show_default=False,
    help="With `-`: the file the text on standard input is, for the names in diagnostics "
         "and to find the modules it `use`s beside it. Default: <stdin>, with modules found "
         "in the current directory.")]


def stdin_name(paths: list[str], stdin_filename: str | None) -> str | None:
    """The name of the flow on standard input when the only path is `-`,
    else None; `-` among other paths, or --stdin-filename without `-`,
    exits 2."""
    if STDIN not in paths:
        if stdin_filename is not None:
            raise fail("--stdin-filename names the text read from standard input; give `-` "
                       "as the path", USAGE)
        return None
    if len(paths) > 1:
        raise fail("`-` (standard input) cannot be mixed with other paths", USAGE)
    return stdin_filename or STDIN_NAME


def read_stdin() -> bytes:
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None)
    return buffer.read() if buffer is not None else stream.read().encode("utf-8")


def compile_stdin(paths: list[str], stdin_filename: str | None, selection, *, lower: bool,
                  store=None):
    """The CompileResult of the flow on standard input when the only path
    is `-` (its sources always hold the text read, to quote it even when it
    does not parse); None when the paths are files. With store (a cache
    Store), the modules it uses are parsed from the cache."""
    name = stdin_name(paths, stdin_filename)
    if name is None:
        return None
    from ccdsl.compiler.flow_files import TEST_SUFFIX
    from ccdsl.compiler.pipeline import CompileResult, compile_file
    from ccdsl.compiler.reader import source_from_bytes

    if name.endswith(TEST_SUFFIX):
        raise fail(f"`{name}` is a test file: check the flow it tests, which reads its tests "
                   "from the file beside it (or use `ccf fmt -` to format it)", USAGE)
    source, problems = source_from_bytes(name, read_stdin())
    if source is None:
        return CompileResult(name, None, problems)
    parses = None
    if store is not None:
        from ccdsl.compiler.parse_cache import ParseCache

        parses = ParseCache(store)
    result = compile_file(name, lower=lower, text=source.text, selection=selection,
                          parses=parses)
    result.sources.setdefault(name, source)
    return result


class TableFormat(StrEnum):
    table = "table"
    json = "json"


TableFormatOption = Annotated[TableFormat, typer.Option(
    "--format", "-f", help="table (for people) or json (for scripts and tools).")]


class TextFormat(StrEnum):
    text = "text"
    json = "json"


TextFormatOption = Annotated[TextFormat, typer.Option(
    "--format", "-f", help="text (for people) or json (for scripts and tools).")]


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    html = "html"


# ---- exiting ---------------------------------------------------------------------------


def fail(message: str, code: int = PROBLEMS) -> typer.Exit:
    """`error: message` on standard error; raise what it returns."""
    write(f"error: {message}\n", err=True)
    return typer.Exit(code)


def not_found(what: str, name: str, where: str, listing: str | None,
              also: str = "") -> typer.Exit:
    """A name or id the command looked up and did not find: a usage error (the user
    asked for something that is not there, as with an unknown option's value), with
    what was not found, where it was looked for and what lists those there are (None
    when there is nothing to list; `also`: a last clause, such as how to add one)."""
    from ccdsl.terminal_text import visible

    said = [f"{listing} lists them"] if listing is not None else []
    return fail(f"no {what} {visible(repr(name))} in {where}: "
                + "; ".join(said + ([also] if also else [])), USAGE)


def write_file(path: Path, text: str) -> None:
    """Write an output file the user named (-o, --junit); one that cannot be
    written is a usage error, as the exit table says."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write `{path}`: {exc.strerror or exc}", USAGE) from None


def service_exit_code(exc: Exception) -> int:
    """The exit status for a failure talking to ccf serve's API or to Asterisk's
    AMI: UNREACHABLE when it did not answer, USAGE when it refused our token, an
    id given names nothing (`unknown`), a value given cannot be one (`usage`) or the
    config naming it cannot be used (ApiClientError without either flag from
    api_address), PROBLEMS when it answered no."""
    if getattr(exc, "unreachable", False):
        return UNREACHABLE
    if any(getattr(exc, flag, False) for flag in ("refused", "unknown", "usage")):
        return USAGE
    return PROBLEMS


def problems_exit(problems: list[str], code: int = PROBLEMS, then: str | None = None) -> NoReturn:
    """Each problem as an `error:` line (and a last line `then`), and exit."""
    for problem in problems:
        write(f"error: {problem}\n", err=True)
    if then:
        write(then + "\n", err=True)
    raise typer.Exit(code)


def missing_paths(paths: list[str]) -> list[str]:
    """The input paths that do not exist (`-`, standard input, is never missing):
    a usage error for every command that reads flows."""
    return [p for p in paths if p != "-" and not os.path.exists(p)]


# ---- the centre's config and call store ------------------------------------------------


def load_centre(config: str | None, code: int = USAGE, then: str | None = None):
    """The centre's configuration (runtime.asterisk.config.Centre) from
    --config, else ./ccf.toml; a missing or unusable one ends the command
    with `code` (a usage error: the command was given a config it cannot use)."""
    from ccdsl.runtime.asterisk.config import ConfigError, load_config

    try:
        return load_config(config or DEFAULT_CONFIG)
    except ConfigError as exc:
        problems_exit(exc.problems, code, then)


def require_ami_secrets(centre) -> None:
    """End the command with a usage error when a server's AMI secret is not in the
    environment (the first such server's): every command that logs in to the AMI logs in
    to every server, so it needs every secret, and says so in the same line."""
    from ccdsl.runtime.asterisk.config_servers import missing_secrets

    missing = missing_secrets(centre)
    if missing:
        raise fail(missing[0], USAGE)


def wants_color(stream) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set
    (https://no-color.org), so files, pipes and CI logs stay plain."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write(text: str, *, err: bool = False) -> None:
    if not text:
        return
    if err:
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    from ccdsl.cli.closed_pipe import write_whole

    write_whole(sys.stdout, text)


def sources_for(diags, known: dict) -> dict:
    """The sources the diagnostics point into. A file that failed to parse
    is not part of a loaded program, so its text is read again here to be
    quoted; files that cannot be read are simply not quoted."""
    from ccdsl.compiler.reader import read_source

    sources = dict(known)
    for diag in diags:
        path = diag.span.file
        if path in sources or diag.code in {"E006", "E007", "E008", "E009"}:
            continue
        source, _ = read_source(path) if os.path.isfile(path) else (None, [])
        if source is not None:
            sources[path] = source
    return sources


def render_diagnostics(diags, sources: dict, fmt: Format, *, err: bool = False,
                       root: str | None = None) -> str:
    from ccdsl.render import render

    stream = sys.stderr if err else sys.stdout
    color = fmt is Format.text and wants_color(stream)
    sources = sources_for(diags, sources)
    if fmt in (Format.text, Format.concise):  # for a terminal; the other formats are data
        diags, sources = _terminal_safe(diags, sources)
    return render(diags, sources, fmt.value, color=color, root=root)


def _terminal_safe(diags, sources: dict) -> tuple[list, dict]:
    """The diagnostics with their file names, messages, help and notes escaped (terminal_
    text.visible, line by line: our own line breaks stay): a file is named by whoever made
    it, and the words quote its names and strings. The sources keyed by the escaped names."""
    from dataclasses import replace

    from ccdsl.terminal_text import visible

    def lines(text: str) -> str:
        return "\n".join(visible(line) for line in text.split("\n"))

    shown = [replace(d, span=d.span._replace(file=visible(d.span.file)),
                     message=lines(d.message), notes=tuple(map(lines, d.notes)),
                     help=lines(d.help) if d.help else d.help)
             for d in diags]
    return shown, {visible(path): source for path, source in sources.items()}


def run_failed_note(diags) -> str:
    """A line for people (standard error) when --warnings-as-errors is what
    failed the run: the warnings alone would have passed."""
    from ccdsl.code_selection import AS_ERROR_NOTE

    promoted = sum(1 for d in diags if AS_ERROR_NOTE in d.notes)
    if not promoted or any(d.is_error and AS_ERROR_NOTE not in d.notes for d in diags):
        return ""
    return (f"failed: {promoted} warning{'s' if promoted != 1 else ''} reported as "
            f"error{'s' if promoted != 1 else ''} (--warnings-as-errors)\n")


class StoreNotNamed(Exception):
    """No call store can be found from the options; the message says how to
    name one (the commands exit USAGE)."""


def store_path(store, config: str | None) -> str:
    """The call store the operations commands read: --store (or $CCF_STORE,
    which typer puts there), else the [paths] store of --config (or
    $CCF_CONFIG), else of ./ccf.toml when there is one."""
    if store is not None:
        return str(store)
    if config is None:
        if not os.path.isfile(DEFAULT_CONFIG):
            raise StoreNotNamed("no call store given: name it with --store FILE|URL or "
                                "$CCF_STORE, or give --config ccf.toml (its [paths] store); "
                                "there is no ccf.toml here")
        config = DEFAULT_CONFIG
    from ccdsl.runtime.asterisk.config import ConfigError, load_config

    try:
        return load_config(config).store_path
    except ConfigError as exc:
        problems = "\n".join(f"  {p}" for p in exc.problems)
        raise StoreNotNamed(f"the call store is named in `{config}`, which cannot be used:\n"
                            f"{problems}") from None


def named_store(store, config: str | None) -> str:
    """store_path, or exit USAGE saying how to name the store."""
    try:
        return store_path(store, config)
    except StoreNotNamed as exc:
        raise fail(str(exc), USAGE) from None


def checked_target(text: str, *, exists: bool = True) -> str:
    """A store named by --store, $CCF_STORE or ccf.toml, as text, or exit USAGE: a URL carrying
    its password; with exists, a SQLite file that is not there (never made a new store)."""
    from ccdsl.runtime.operations.database import TargetError, check_target, is_postgres

    try:
        check_target(text)
    except TargetError as exc:
        raise fail(str(exc), USAGE) from None
    if exists and not is_postgres(text) and not os.path.isfile(text):
        raise fail(f"there is no call store at {text} (calls are kept there by `ccf serve` "
                   "or `ccf simulate --store`)", USAGE)
    if not exists and not is_postgres(text):
        existing_folder(text, "the call store")
    return text


def existing_folder(path: str | Path, what: str) -> None:
    """Exit USAGE when the folder a file is to be made in is missing: ccf makes files, never
    folders (a mistyped path would otherwise become a tree of them)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise fail(f"there is no folder {folder} to make {what} in", USAGE)


def store_target(store, config: str | None) -> str:
    """The store every store command names (--store, $CCF_STORE, ccf.toml's [store] url or
    [paths] store), checked; or exit USAGE."""
    return checked_target(named_store(store, config))


def store_failure(text: str, exc: Exception) -> typer.Exit:
    """One line for a store that cannot be opened or reached, what every command that opens a
    store exits with: a PostgreSQL server that does not answer (database.Unreachable, class 08:
    its message names the URL, never the password) exits UNREACHABLE, as a service that did
    not answer; a login or database it refuses (database.Misconfigured) is configuration to
    mend, USAGE, as it says; anything else a store that cannot be read, USAGE. Raise what it
    returns."""
    from ccdsl.runtime.operations.database import Misconfigured, Unreachable, shown

    reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    if isinstance(exc, (Unreachable, Misconfigured)):
        return fail(reason, store_exit(exc))
    return fail(f"{shown(text)} cannot be read as a call store: {reason}", USAGE)


def store_exit(exc: BaseException, otherwise: int = USAGE) -> int:
    """The exit status of a command whose store could not be opened, `exc` or what it was
    raised from or while handling (a report's, a simulation's, a backup's, a copy's, serve's
    start's, the flow store's own error, often raised `from None` to keep its one line):
    UNREACHABLE for a PostgreSQL server that does not answer (database.Unreachable), USAGE
    for one refusing the login or lacking the database (database.Misconfigured), else
    `otherwise` (a command whose other store errors are PROBLEMS says so)."""
    from ccdsl.runtime.operations.database import Misconfigured, Unreachable

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Unreachable):
            return UNREACHABLE
        if isinstance(seen, Misconfigured):
            return USAGE
        seen = seen.__cause__ if seen.__cause__ is not None else seen.__context__
    return otherwise


def connect_store(text: str):
    """A connection to a checked store (store_target), or exit USAGE saying why not."""
    import sqlite3

    from ccdsl.runtime.operations.database import connect

    try:
        return connect(text)
    except sqlite3.Error as exc:
        raise store_failure(text, exc) from None


def open_store(store, config: str | None, **options):
    """The call store, opened (a CallStore with options); a missing file is an error, not a
    new store (an empty PostgreSQL database is made a store: docs/store.md "Migrations")."""
    import sqlite3

    from ccdsl.runtime.operations.database import TargetError
    from ccdsl.runtime.operations.store import CallStore, StoreError

    path = store_target(store, config)
    try:
        return CallStore(path, **options)
    except (StoreError, sqlite3.Error, TargetError) as exc:
        raise store_failure(path, exc) from None


def since_moment(since: str | None, zone) -> datetime | None:
    """The moment a --since names, a date or time without a zone read in ZONE (the call
    store's centre zone, as `ccf report --from` reads its dates), or exit USAGE."""
    from ccdsl.runtime.operations.since import QueryError, since_in

    try:
        return since_in(since, zone)
    except QueryError as exc:
        raise fail(str(exc), USAGE) from None


def table_console():
    """A rich Console for the commands' tables on stdout: colour only on a
    terminal; off a terminal nothing is cut to fit a width (the output is
    read whole, by a pipe or a file)."""
    from rich.console import Console

    terminal = wants_color(sys.stdout)
    return Console(no_color=not terminal, highlight=False, width=None if terminal else 10_000)
