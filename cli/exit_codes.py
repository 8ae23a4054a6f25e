"""ccf's exit statuses: one table for every command, which README's "Exit status"
quotes and tests/test_exit_codes.py holds each command to. Imports nothing."""

from __future__ import annotations

OK = 0
# what was checked or run has problems: flow errors, a failing test, `fmt --check`
# finding a file to change, a call store that fails its check
PROBLEMS = 1
# the command was asked wrongly: an unknown option or value, an id or name it looks up
# that names nothing (a call, an agent, a console user: the user's typo, as an unknown
# value is; `ccf monitor`'s call on Asterisk is not, since a call ends on its own),
# an input path that is missing or holds no flows, an input it cannot read or use
# (ccf.toml, a CRM database, a call store, the console users file), an AMI secret not
# set, an unwritable output
USAGE = 2
# a bug in ccf itself (a short message; CCF_DEBUG=1 shows the traceback)
INTERNAL = 3
# a service the command talks to did not answer: ccf serve's HTTP API, Asterisk's AMI, an
# HTTP CRM, a call store's PostgreSQL server (cli/common.store_exit; one that answers but
# refuses the login or has no such database is USAGE: configuration to mend)
UNREACHABLE = 4
# `ccf test` found no test to run (pytest's 5, "no tests collected"): a renamed flow's
# orphaned tests or a wrong folder must not pass CI as "0 passed"
NO_TESTS = 5
# stopped by Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130
# standard output closed before ccf had written it all (`ccf calls list | head -1`):
# 128 + SIGPIPE, the status a shell reports for git or seq stopped the same way
CLOSED_PIPE = 141

TABLE = (
    (OK, "success (warnings allowed; a simulated call ran, whatever its outcome)"),
    (PROBLEMS, "problems found: flow errors, failing tests, `fmt --check` would change a "
               "file, a check that failed, a service that answered with an error"),
    (USAGE, "usage error: an unknown option or value, a call, agent, console user or CRM "
            "record type that does not exist, a missing or empty input path, an "
            "input that cannot be read or used (ccf.toml, a CRM database, a call store, or "
            "its PostgreSQL server refusing the login or lacking the database, the console "
            "users file), the AMI secret's environment variable not set, an output "
            "path that cannot be written"),
    (INTERNAL, "a bug in ccf itself (CCF_DEBUG=1 shows the traceback)"),
    (UNREACHABLE, "a service did not answer: ccf serve's HTTP API, Asterisk's AMI, an HTTP CRM "
                  "or a call store's PostgreSQL server"),
    (NO_TESTS, "no tests: `ccf test` found no test blocks in the flows given"),
    (INTERRUPTED, "interrupted by Ctrl-C"),
    (CLOSED_PIPE, "standard output (or error) closed early: its reader (`head`) stopped "
                  "reading; a broken pipe of anything else, such as a socket whose peer left, "
                  "is the command's own error (3 when nothing caught it)"),
)
