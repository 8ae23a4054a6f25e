"""One table of exit statuses for every `ccf` command (cli/exit_codes.py): README
quotes it, and each command gives its status for the common mistakes, run in-process."""

from __future__ import annotations

import ast
import os
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ccf_cli import ccf, every_command
from ports import free_port

from ccdsl.cli import exit_codes
from ccdsl.cli.exit_codes import NO_TESTS, UNREACHABLE, USAGE

ROOT = Path(__file__).resolve().parent.parent
FLOW = """flow demo

on start:
  answer
  play tts "Welcome."
  hangup
"""


def leaf_commands() -> dict:
    """Every command a user can run, by its words after `ccf`."""
    return {words: command for words, command in every_command().items()
            if getattr(command, "commands", None) is None}


# ---- README's table is the table --------------------------------------------------------


def test_readme_exit_status_table_is_the_table() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit status", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M)
    assert [(int(code), meaning) for code, meaning in rows] == list(exit_codes.TABLE)


def test_the_authoring_guide_copies_the_table() -> None:
    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text.split("(the table of README's \"Exit status\")", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.M)
    assert [(int(code), meaning) for code, meaning in rows] == list(exit_codes.TABLE)


def test_the_table_names_each_constant_once() -> None:
    codes = [code for code, _ in exit_codes.TABLE]
    assert codes == sorted(set(codes))
    assert set(codes) == {exit_codes.OK, exit_codes.PROBLEMS, exit_codes.USAGE,
                          exit_codes.INTERNAL, exit_codes.UNREACHABLE, exit_codes.NO_TESTS,
                          exit_codes.INTERRUPTED, exit_codes.CLOSED_PIPE}


# ---- no literal statuses in cli/ ----------------------------------------------------------

_EXITING = {"Exit", "exit", "fail", "problems_exit", "load_centre"}


def _literal_statuses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _EXITING:
            continue
        values = [*node.args[1:], *(k.value for k in node.keywords if k.arg == "code")]
        if name in ("Exit", "exit"):
            values = [*node.args, *(k.value for k in node.keywords if k.arg == "code")]
        found.extend(f"{path.name}:{node.lineno}" for v in values
                     if isinstance(v, ast.Constant) and isinstance(v.value, int))
    return found


def test_cli_names_its_exit_statuses() -> None:
    literal = [hit for path in sorted((ROOT / "cli").glob("*.py")) if path.name != "exit_codes.py"
               for hit in _literal_statuses(path)]
    assert literal == [], "use the constants of cli/exit_codes.py"


# ---- every command, the common mistakes ---------------------------------------------------


@pytest.fixture
def place(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Inputs for the mistakes: a flow, an empty folder, paths that do not exist, a
    ccf.toml whose AMI and HTTP API are on ports nobody listens on, an empty call store."""
    from ccdsl.runtime.operations.store import CallStore

    (tmp_path / "flow.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "agents.toml").write_text('[[agents]]\nid = "li"\nextension = "8001"\n',
                                          encoding="utf-8")
    (tmp_path / "ccf.toml").write_text(
        f'[ami]\nport = {free_port()}\n[api]\nport = {free_port()}\n'
        '[agents]\nfile = "agents.toml"\n', encoding="utf-8")
    # the same centre whose AMI secret is in an environment variable nobody sets
    (tmp_path / "nosecret.toml").write_text(
        (tmp_path / "ccf.toml").read_text(encoding="utf-8").replace(
            "[ami]\n", '[ami]\nsecret_env = "CCF_TEST_NO_SUCH_SECRET"\n'), encoding="utf-8")
    # a users file that cannot be read: a folder where the file should be
    (tmp_path / "users-folder").mkdir()
    (tmp_path / "badusers.toml").write_text('[console]\nusers = "users-folder"\n',
                                            encoding="utf-8")
    (tmp_path / "text.db").write_text("not a database, a text file\n", encoding="utf-8")
    (tmp_path / "people.csv").write_text("id,name\n1,Li\n", encoding="utf-8")
    foreign = sqlite3.connect(tmp_path / "foreign.db")  # SQLite, but someone else's
    foreign.execute("CREATE TABLE invoices (number INTEGER, total REAL)")
    foreign.commit()
    foreign.close()
    CallStore(tmp_path / "calls.db").close()
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM

    SqliteCRM(tmp_path / "crm.db").close_now()  # a CRM with no records yet
    busy = socket.socket()  # a port something else listens on, for --tcp --port
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    yield {"busy_port": str(busy.getsockname()[1]), "flow": str(tmp_path / "flow.ccf"),
           "empty": str(tmp_path / "empty"),
            "missing": str(tmp_path / "none.ccf"), "toml": str(tmp_path / "ccf.toml"),
            "no_toml": str(tmp_path / "none.toml"), "no_db": str(tmp_path / "none.db"),
            "store": str(tmp_path / "calls.db"), "csv": str(tmp_path / "none.csv"),
            "crm": str(tmp_path / "crm.db"),
            "unwritable": str(tmp_path / "no" / "such" / "folder" / "out"),
            "nosecret": str(tmp_path / "nosecret.toml"),
            "badusers": str(tmp_path / "badusers.toml"),
            "people": str(tmp_path / "people.csv"),
            "text_db": str(tmp_path / "text.db"), "foreign_db": str(tmp_path / "foreign.db"),
            "pg_down": f"postgresql://ccf@127.0.0.1:{free_port()}/ccf",
            "pg_password": "postgresql://ccf:pw@127.0.0.1:1/ccf",
            "dir": str(tmp_path)}
    busy.close()


Case = tuple[str, Callable[[dict[str, str]], list[str]], int]
SECRET = {"CCF_AMI_SECRET": "s3cret", "CCF_CONSOLE_PASSWORD": "a long enough password",
          "CCF_CONFIG": "", "CCF_STORE": "", "CCF_CRM_DB": ""}

# `ccf agent pause` and `unpause` take the same words and fail alike
AGENT_CASES: list[Case] = [
    ("missing ccf.toml", lambda p: ["li", "--config", p["no_toml"]], USAGE),
    ("AMI not answering", lambda p: ["li", "--config", p["toml"]], UNREACHABLE),
    ("AMI secret missing", lambda p: ["li", "--config", p["nosecret"]], USAGE),
    ("unknown agent", lambda p: ["ghost", "--config", p["toml"]], USAGE),
]
# For each command, the mistakes it can meet and the status the table gives them. A
# command missing here fails test_every_command_has_its_cases: add its cases.
CASES: dict[tuple[str, ...], list[Case]] = {
    ("validate",): [("missing path", lambda p: [p["missing"]], USAGE),
                    ("empty folder", lambda p: [p["empty"]], USAGE),
                    ("missing path, --no-cache", lambda p: ["--no-cache", p["missing"]],
                     USAGE)],
    ("compile",): [("missing file", lambda p: [p["missing"]], USAGE),
                   ("missing file, --no-cache", lambda p: ["--no-cache", p["missing"]], USAGE),
                   ("unwritable -o", lambda p: [p["flow"], "-o", p["unwritable"]], USAGE),
                   ("a folder, not a file", lambda p: [p["dir"]], USAGE)],
    ("fmt",): [("missing path", lambda p: [p["missing"]], USAGE),
               ("empty folder", lambda p: ["--check", p["empty"]], USAGE)],
    ("explain",): [("unknown code", lambda p: ["E999x"], USAGE)],
    ("crm", "import"): [("missing file", lambda p: [p["csv"], "-t", "customer", "--db",
                                                    p["no_db"]], USAGE),
                        ("missing ccf.toml", lambda p: [p["csv"], "-t", "customer",
                                                        "--config", p["no_toml"]], USAGE),
                        ("CRM database not SQLite", lambda p: [p["people"], "-t", "customer",
                                                               "--db", p["text_db"]], USAGE)],
    ("crm", "show"): [("missing CRM database", lambda p: ["--db", p["no_db"]], USAGE),
                      ("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE),
                      ("CRM database not SQLite", lambda p: ["--db", p["text_db"]], USAGE),
                      ("unknown record type", lambda p: ["--db", p["crm"], "-t", "nosuch"],
                       USAGE)],
    ("simulate",): [("missing file", lambda p: [p["missing"]], USAGE),
                    ("missing CRM database", lambda p: [p["flow"], "--crm", p["no_db"]],
                     USAGE),
                    ("CRM database not SQLite", lambda p: [p["flow"], "--crm", p["text_db"]],
                     USAGE),
                    ("call store not SQLite", lambda p: [p["flow"], "--store", p["text_db"]],
                     USAGE),
                    ("call store someone else's database",
                     lambda p: [p["flow"], "--store", p["foreign_db"]], USAGE)],
    ("test",): [("missing path", lambda p: [p["missing"]], USAGE),
                ("missing path, --no-cache", lambda p: ["--no-cache", p["missing"]], USAGE),
                ("empty folder", lambda p: [p["empty"]], USAGE),
                ("unwritable --junit", lambda p: [p["flow"], "--junit", p["unwritable"]],
                 USAGE),
                ("no test in the flows", lambda p: [p["flow"]], NO_TESTS)],
    ("deploy",): [("missing ccf.toml", lambda p: [p["flow"], "--config", p["no_toml"]], USAGE),
                  ("missing path", lambda p: [p["missing"], "--config", p["toml"]], USAGE),
                  ("empty folder", lambda p: [p["empty"], "--config", p["toml"]], USAGE),
                  ("AMI not answering", lambda p: [p["flow"], "--config", p["toml"]],
                   UNREACHABLE),
                  ("AMI secret missing", lambda p: [p["flow"], "--config", p["nosecret"]],
                   USAGE)],
    ("graph",): [("missing file", lambda p: [p["missing"]], USAGE),
                 ("missing call store", lambda p: [p["flow"], "--store", p["no_db"]], USAGE),
                 ("call store someone else's database",
                  lambda p: [p["flow"], "--store", p["foreign_db"]], USAGE),
                 ("unwritable -o", lambda p: [p["flow"], "-o", p["unwritable"]], USAGE)],
    ("lsp",): [("port in use", lambda p: ["--tcp", "--port", p["busy_port"]], USAGE)],
    ("flows",): [("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE)],
    ("config", "check"): [("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE)],
    ("cache", "info"): [("bad --format", lambda p: ["--format", "xml"], USAGE)],
    ("cache", "clear"): [("a folder named as an argument", lambda p: [p["dir"]], USAGE)],
    ("serve",): [("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE),
                 ("missing --simulate path", lambda p: ["--simulate", p["missing"]], USAGE),
                 ("bad --grace", lambda p: ["--grace", "soon", "--config", p["toml"]], USAGE),
                 ("call store someone else's database",
                  lambda p: ["--simulate", p["flow"], "--store", p["foreign_db"]], USAGE)],
    ("report",): [("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE),
                  ("missing call store", lambda p: ["--store", p["no_db"]], USAGE),
                  ("unwritable -o", lambda p: ["--store", p["store"], "-o", p["unwritable"]],
                   USAGE),
                  ("call store not SQLite", lambda p: ["--store", p["text_db"]], USAGE),
                  ("call store someone else's database", lambda p: ["--store", p["foreign_db"]],
                   USAGE)],
    ("calls", "list"): [("missing call store", lambda p: ["--store", p["no_db"]], USAGE),
                        ("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE),
                        ("call store not SQLite", lambda p: ["--store", p["text_db"]], USAGE),
                        ("call store someone else's database",
                         lambda p: ["--store", p["foreign_db"]], USAGE)],
    ("calls", "show"): [("missing call store", lambda p: ["x", "--store", p["no_db"]], USAGE),
                        ("call store someone else's database",
                         lambda p: ["x", "--store", p["foreign_db"]], USAGE),
                        ("unknown call", lambda p: ["x", "--store", p["store"]], USAGE)],
    ("calls", "callbacks"): [("missing call store", lambda p: ["--store", p["no_db"]], USAGE),
                             ("call store someone else's database",
                              lambda p: ["--store", p["foreign_db"]], USAGE)],
    ("store", "prune"): [("missing call store", lambda p: ["--before", "2026-01-01", "--store",
                                                          p["no_db"]], USAGE),
                         ("call store not SQLite", lambda p: ["--before", "2026-01-01",
                                                              "--store", p["text_db"]], USAGE),
                         ("call store someone else's database",
                          lambda p: ["--before", "2026-01-01", "--store", p["foreign_db"]],
                          USAGE),
                         ("bad --before", lambda p: ["--before", "soon", "--store", p["store"]],
                          USAGE),
                         ("nothing to prune", lambda p: ["--store", p["store"]], USAGE)],
    ("store", "backup"): [("missing call store", lambda p: ["b.db", "--store", p["no_db"]],
                           USAGE),
                          ("call store not SQLite", lambda p: [p["unwritable"], "--store",
                                                               p["text_db"]], USAGE),
                          ("call store someone else's database",
                           lambda p: [p["unwritable"], "--store", p["foreign_db"]], USAGE),
                          ("unwritable DEST", lambda p: [p["unwritable"], "--store",
                                                         p["store"]], USAGE)],
    ("voicemail", "list"): [("missing call store", lambda p: ["--store", p["no_db"]], USAGE),
                            ("call store someone else's database",
                             lambda p: ["--store", p["foreign_db"]], USAGE),
                            ("bad --since", lambda p: ["--store", p["store"], "--since",
                                                       "yesterday"], USAGE)],
    ("store", "copy"): [("missing call store", lambda p: [p["no_db"], p["dir"] + "/new.db"],
                         USAGE),
                        ("call store someone else's database",
                         lambda p: [p["foreign_db"], p["dir"] + "/new.db"], USAGE),
                        ("destination not empty", lambda p: [p["store"], p["foreign_db"]],
                         USAGE),
                        ("password in the URL",
                         lambda p: [p["store"], "postgresql://ccf:pw@127.0.0.1/ccf"], USAGE)],
    ("callback",): [("missing ccf.toml", lambda p: ["x", "-a", "li", "--config", p["no_toml"]],
                     USAGE),
                    ("AMI secret missing", lambda p: ["x", "-a", "li", "--config",
                                                      p["nosecret"]], USAGE),
                    ("unknown agent", lambda p: ["x", "-a", "ghost", "--config", p["toml"],
                                                 "--store", p["store"]], USAGE),
                    ("unknown call", lambda p: ["x", "-a", "li", "--config", p["toml"],
                                                "--store", p["store"]], USAGE)],
    ("wrapup",): [("ccf serve not running", lambda p: ["x", "-f", "a=b", "--config",
                                                       p["toml"]], UNREACHABLE),
                  ("missing ccf.toml", lambda p: ["x", "-f", "a=b", "--config", p["no_toml"]],
                   USAGE),
                  ("missing call store", lambda p: ["x", "-f", "a=b", "--store", p["no_db"]],
                   USAGE),
                  ("missing CRM database", lambda p: ["x", "-f", "a=b", "--store", p["store"],
                                                      "--crm", p["no_db"]], USAGE),
                  ("call store someone else's database",
                   lambda p: ["x", "-f", "a=b", "--store", p["foreign_db"]], USAGE),
                  ("unknown call", lambda p: ["x", "-f", "a=b", "--store", p["store"]], USAGE)],
    ("monitor",): [("missing ccf.toml", lambda p: ["1795.1", "-s", "8009", "--config",
                                                   p["no_toml"]], USAGE),
                   ("AMI not answering", lambda p: ["1795.1", "-s", "8009", "--config",
                                                    p["toml"]], UNREACHABLE),
                   ("AMI secret missing", lambda p: ["1795.1", "-s", "8009", "--config",
                                                     p["nosecret"]], USAGE),
                   ("not a call id", lambda p: ["call;1", "-s", "8009", "--config", p["toml"]],
                    USAGE),
                   ("not an extension", lambda p: ["1795.1", "-s", "80&09", "--config",
                                                   p["toml"]], USAGE)],
    ("status",): [("missing ccf.toml", lambda p: ["--once", "--config", p["no_toml"]], USAGE),
                  ("ccf serve not running", lambda p: ["--once", "--config", p["toml"]],
                   UNREACHABLE)],
    ("prompts", "check"): [("missing path", lambda p: [p["missing"], "--sounds", p["dir"]],
                            USAGE),
                           ("empty folder", lambda p: [p["empty"], "--sounds", p["dir"]],
                            USAGE),
                           ("missing ccf.toml", lambda p: [p["flow"], "--config",
                                                           p["no_toml"]], USAGE)],
    ("agent", "pause"): AGENT_CASES,
    ("agent", "unpause"): AGENT_CASES,
    ("store", "migrate"): [("missing call store", lambda p: ["--store", p["no_db"]], USAGE),
                           ("missing ccf.toml", lambda p: ["--config", p["no_toml"]], USAGE),
                           ("call store not SQLite", lambda p: ["--store", p["text_db"]],
                            USAGE),
                           ("call store someone else's database",
                            lambda p: ["--store", p["foreign_db"]], USAGE),
                           ("call store someone else's database, --check",
                            lambda p: ["--check", "--store", p["foreign_db"]], USAGE),
                           ("a password in the store's URL",
                            lambda p: ["--store", "postgresql://ccf:pw@127.0.0.1:1/ccf"],
                            USAGE)],
    ("console", "user", "add"): [("missing ccf.toml", lambda p: ["zhang", "--role", "admin",
                                                                 "--config", p["no_toml"]],
                                  USAGE),
                                 ("users file unreadable", lambda p: ["zhang", "--role", "admin",
                                                                      "--config", p["badusers"]],
                                  USAGE)],
    ("console", "user", "list"): [("missing ccf.toml", lambda p: ["--config", p["no_toml"]],
                                   USAGE),
                                  ("users file unreadable", lambda p: ["--config", p["badusers"]],
                                   USAGE)],
    ("console", "user", "remove"): [("missing ccf.toml", lambda p: ["zhang", "--config",
                                                                    p["no_toml"]], USAGE),
                                    ("users file unreadable", lambda p: ["zhang", "--config",
                                                                         p["badusers"]], USAGE),
                                    ("unknown user", lambda p: ["zhang", "--config", p["toml"]],
                                     USAGE)],
    ("console", "user", "password"): [("missing ccf.toml", lambda p: ["zhang", "--config",
                                                                      p["no_toml"]], USAGE),
                                      ("users file unreadable",
                                       lambda p: ["zhang", "--config", p["badusers"]], USAGE),
                                      ("unknown user",
                                       lambda p: ["zhang", "--config", p["toml"]], USAGE)],
}

# every command that names a call store, given a PostgreSQL URL: its server down (one line,
# at once: tests/ops/test_store_unreachable.py; a service that did not answer), or the URL
# carrying its password. (words, which store, argv): a command naming two stores, each.
# Not here: `ccf monitor` notes its session in the store only once the supervisor is
# connected (a store down then is a warning: the session runs), and `ccf console` keeps
# its users in a file, not the store.
STORE_ARGS: list[tuple[tuple[str, ...], str, Callable[[dict[str, str], str], list[str]]]] = [
    (("calls", "list"), "", lambda p, url: ["--store", url]),
    (("calls", "show"), "", lambda p, url: ["x", "--store", url]),
    (("calls", "callbacks"), "", lambda p, url: ["--store", url]),
    (("callback",), "", lambda p, url: ["x", "--agent", "li", "--simulate", "--agents",
                                        os.path.join(p["dir"], "agents.toml"), "--store", url]),
    (("voicemail", "list"), "", lambda p, url: ["--store", url]),
    (("wrapup",), "", lambda p, url: ["x", "-f", "a=b", "--store", url]),
    (("report",), "", lambda p, url: ["--store", url]),
    (("graph",), "", lambda p, url: [p["flow"], "--store", url]),
    (("simulate",), "", lambda p, url: [p["flow"], "--store", url]),
    (("serve",), " (--simulate)", lambda p, url: ["--simulate", p["flow"], "--store", url,
                                                  "--web-port", "0"]),
    (("serve",), " (its start)", lambda p, url: ["--config", _centre_on(p, url), "--no-ami",
                                                 "--port", "0", "--web-port", "0"]),
    (("store", "prune"), "", lambda p, url: ["--before", "2026-01-01", "--store", url]),
    (("store", "backup"), "", lambda p, url: ["b.dump", "--store", url]),
    (("store", "migrate"), "", lambda p, url: ["--store", url]),
    (("store", "copy"), " (the source)", lambda p, url: [url, os.path.join(p["dir"], "c.db")]),
    (("store", "copy"), " (the destination)", lambda p, url: [p["store"], url]),
    # the flow store is kept in the call store's database ([store] url)
    (("deploy",), "", lambda p, url: [p["flow"], "--no-apply", "--config", _centre_on(p, url)]),
    (("flows",), "", lambda p, url: ["--config", _centre_on(p, url)]),
]


def _centre_on(p: dict[str, str], url: str) -> str:
    """The place's ccf.toml with its call store at `url` ([store] url), written beside it."""
    path = os.path.join(p["dir"], "store-url.toml")
    with open(p["toml"], encoding="utf-8") as toml, open(path, "w", encoding="utf-8") as out:
        out.write(toml.read() + f'[store]\nurl = "{url}"\n')
    return path


for _words, _which, _argv in STORE_ARGS:
    CASES[_words] = [*CASES[_words],
                     (f"PostgreSQL server down{_which}",
                      lambda p, argv=_argv: argv(p, p["pg_down"]), UNREACHABLE),
                     (f"password in the store's URL{_which}",
                      lambda p, argv=_argv: argv(p, p["pg_password"]), USAGE)]


@pytest.mark.parametrize("fault", ["wrong password", "no such database"])
def test_a_store_refusing_the_login_or_missing_its_database_is_a_usage_error(
        place, monkeypatch, pg_url, fault) -> None:
    """PostgreSQL answering, but refusing the store's password or having no such database:
    configuration to mend (exit 2), said as it is, for every command that names a store;
    never exit 4 (the server did answer), never the password shown."""
    from ccdsl.runtime.operations.database import PASSWORD_ENV, close_pools

    monkeypatch.chdir(place["dir"])
    wrong = "not-the-password-4711"
    env = {**SECRET, PASSWORD_ENV: wrong}
    url, said = pg_url, 'password authentication failed for user "ccf"'
    if fault == "no such database":
        env[PASSWORD_ENV] = os.environ[PASSWORD_ENV]
        url, said = pg_url + "_none", "_none\" does not exist"
    for words, _which, argv in STORE_ARGS:
        close_pools()  # each command run as a process of its own: a pool made anew
        result = ccf(*words, *argv(place, url), env=env)
        assert result.exit_code == USAGE, (words, result.output)
        assert said in result.output, (words, result.output)
        assert wrong not in result.output and "Traceback" not in result.output


def test_every_command_has_its_cases() -> None:
    assert sorted(leaf_commands()) == sorted(CASES), (
        "a command was added or removed: give it its cases in CASES")


@pytest.mark.parametrize(("words", "mistake", "argv", "status"), [
    pytest.param(words, mistake, argv, status, id=f"{' '.join(words)}: {mistake}")
    for words, cases in CASES.items() for mistake, argv, status in cases])
def test_the_common_mistakes(words, mistake, argv, status, place, monkeypatch) -> None:
    monkeypatch.chdir(place["dir"])
    result = ccf(*words, *argv(place), env=SECRET)
    assert result.exit_code == status, result.output
    assert "error" in result.output.lower()
    # a database that is not ccf's is refused as it is, never given ccf's tables
    foreign = sqlite3.connect(place["foreign_db"])
    tables = {row[0] for row in foreign.execute("SELECT name FROM sqlite_master")}
    foreign.close()
    assert tables == {"invoices"}


# a name or id that names nothing: the message says what was not found and what lists
# those there are
UNKNOWN_NAMES = {
    ("calls", "show"): ("no call 'x' in the call store", "`ccf calls list` lists them"),
    ("wrapup",): ("no call 'x' in the call store", "`ccf calls list` lists them"),
    ("callback",): ("no call or voicemail 'x' in the call store",
                    "`ccf calls list` and `ccf voicemail list` show the ids"),
    ("console", "user", "remove"): ("no console user 'zhang' in",
                                    "`ccf console user list` lists them"),
    ("console", "user", "password"): ("no console user 'zhang' in",
                                      "`ccf console user list` lists them"),
    # the place's CRM is empty: nothing to list, so the command that fills it
    ("crm", "show"): ("no record type 'nosuch' in the CRM",
                      "import records with `ccf crm import FILE --type nosuch`"),
}


@pytest.mark.parametrize("words", sorted(UNKNOWN_NAMES), ids=" ".join)
def test_a_name_that_names_nothing_says_what_and_where_to_look(words, place,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(place["dir"])
    mistake, argv, status = next(c for c in CASES[words] if c[0].startswith("unknown ")
                                 and c[0] != "unknown agent")
    result = ccf(*words, *argv(place), env=SECRET)
    assert result.exit_code == status == USAGE, result.output
    what, listing = UNKNOWN_NAMES[words]
    assert what in result.output and listing in result.output
    assert "Traceback" not in result.output


AMI_COMMANDS = [("deploy", "{flow}"), ("agent pause", "li"), ("agent unpause", "li"),
                ("monitor", "1795.1 -s 8009"), ("callback", "x -a li")]


def test_a_missing_ami_secret_is_one_usage_error_for_every_command(place, monkeypatch) -> None:
    monkeypatch.chdir(place["dir"])
    messages = set()
    for words, args in AMI_COMMANDS:
        result = ccf(*words.split(), *args.format(**place).split(), "--config",
                     place["nosecret"], env=SECRET)
        assert result.exit_code == USAGE, (words, result.output)
        messages.add(result.output.strip())
    assert messages == {"error: the AMI secret is missing: set the environment variable "
                        "CCF_TEST_NO_SUCH_SECRET (the secret of the AMI user ccf in "
                        "manager.conf)"}


def test_several_servers_need_each_secret_and_a_silent_one_is_unreachable(place,
                                                                           monkeypatch) -> None:
    """[[asterisk]] servers: `ccf agent`, `ccf monitor` and `ccf callback` ask each one, so a
    second server's missing secret is a usage error naming it, and servers that do not answer
    are exit 4 (the call may be on one of them)."""
    monkeypatch.chdir(place["dir"])
    servers = "".join(f'[[asterisk]]\nname = "{name}"\nport = {free_port()}\n'
                      f'secret_env = "{env}"\n'
                      for name, env in (("a", "CCF_AMI_SECRET"), ("b", "CCF_TEST_SECRET_B")))
    toml = Path(place["dir"]) / "servers.toml"
    toml.write_text(f'{servers}[api]\nport = {free_port()}\n[agents]\nfile = "agents.toml"\n',
                    encoding="utf-8")
    for words, args in AMI_COMMANDS[1:]:
        result = ccf(*words.split(), *args.split(), "--config", str(toml), env=SECRET)
        assert result.exit_code == USAGE, (words, result.output)
        assert "the AMI secret of the Asterisk server b is missing: set the environment " \
               "variable CCF_TEST_SECRET_B" in result.output
    both = {**SECRET, "CCF_TEST_SECRET_B": "b-secret"}
    for words, args in AMI_COMMANDS[1:4]:
        result = ccf(*words.split(), *args.split(), "--config", str(toml), env=both)
        assert result.exit_code == UNREACHABLE, (words, result.output)
        assert "a: " in result.output and "b: " in result.output


@pytest.mark.parametrize("words", sorted(leaf_commands()), ids=" ".join)
def test_an_unknown_option_is_a_usage_error(words) -> None:
    result = ccf(*words, "--no-such-option")
    assert result.exit_code == USAGE
    assert "No such option" in result.output


def _choice_options() -> list[tuple[tuple[str, ...], str]]:
    found = []
    for words, command in sorted(leaf_commands().items()):
        for param in command.params:
            # typer carries its own click: its types are not `click`'s classes
            if param.param_type_name == "option" and getattr(param.type, "choices", None):
                found.append((words, param.opts[0]))
    return found


@pytest.mark.parametrize(("words", "option"), _choice_options(),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_a_bad_option_value_is_a_usage_error(words, option) -> None:
    result = ccf(*words, option, "no-such-value")
    assert result.exit_code == USAGE
    assert "Invalid value" in result.output


def test_choices_are_checked_for_many_commands() -> None:
    # the parametrisation above must not quietly cover nothing
    assert len({words for words, _ in _choice_options()}) >= 10


# ---- each command's help states its statuses, as the table and its cases have them -------

_STATUS_WORD = re.compile(r"(?<![\w.\-])(\d{1,3})(?![\w.%])")


def help_statuses(words: tuple[str, ...]) -> set[int] | None:
    """The statuses the `Exit status:` paragraph of a command's help names,
    or None when its help has none."""
    text = leaf_commands()[words].help or ""
    found = re.search(r"Exit\s+status:?(.*?)(?:\n\s*\n|\Z)", text, re.S)
    if found is None:
        return None
    return {int(word) for word in _STATUS_WORD.findall(found.group(1))}


@pytest.mark.parametrize("words", sorted(leaf_commands()), ids=" ".join)
def test_each_command_help_states_its_exit_statuses(words) -> None:
    statuses = help_statuses(words)
    assert statuses is not None, f"`ccf {' '.join(words)} --help` has no `Exit status:`"
    assert statuses <= {code for code, _ in exit_codes.TABLE}, "a status the table lacks"
    # every command succeeds and every command is a usage error for an unknown option
    assert {exit_codes.OK, USAGE} <= statuses
    assert {status for _, _, status in CASES[words]} <= statuses, \
        "the help leaves out a status its common mistakes exit with"
