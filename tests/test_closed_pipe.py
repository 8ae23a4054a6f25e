"""`ccf ... | head -1`: a reader that stops reading ends ccf as it ends git or seq, with
no traceback, no "Exception ignored" line and status 141 (128 + SIGPIPE), through a real
pipe to a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ccdsl.cli.exit_codes import CLOSED_PIPE

# many prompts: `ccf fmt -` writes far more than a pipe holds
BIG_FLOW = "flow desk:\n  languages en-US\n\n" + "".join(
    f'prompt welcome{i}:\n  en-US tts "Welcome number {i}."\n\n' for i in range(3000)
) + "on start:\n  answer\n  play welcome0\n  hangup\n"


def run_reading_one_line(args: list[str], stdin: bytes | None = None) -> tuple[bytes, int, str]:
    """Run `ccf ARGS`, read its first line from a pipe, close the pipe: its line, its
    status and what it wrote to standard error."""
    proc = subprocess.Popen([sys.executable, "-m", "ccdsl.cli.main", *args],
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.close()
    line = proc.stdout.readline()
    proc.stdout.close()  # as head does once it has its line
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    return line, proc.wait(), err


def run_into_closed_pipe(args: list[str]) -> tuple[int, str]:
    """Run `ccf ARGS` with standard output a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "ccdsl.cli.main", *args],
                              stdin=subprocess.DEVNULL, stdout=write_end,
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


def test_a_reader_that_stops_after_one_line_ends_ccf_with_141() -> None:
    line, status, err = run_reading_one_line(["fmt", "-"], BIG_FLOW.encode())
    assert line == b"flow desk:\n"
    assert status == CLOSED_PIPE == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_a_reader_gone_before_the_first_line_ends_ccf_with_141(tmp_path: Path) -> None:
    status, err = run_into_closed_pipe(["explain", "--list"])
    assert status == CLOSED_PIPE, err
    assert err == ""


def test_a_closed_pipe_does_not_hide_the_commands_own_errors() -> None:
    # a usage error's message goes to standard error and its status stays 2
    status, err = run_into_closed_pipe(["explain", "E99999"])
    assert status == 2
    assert "E99999" in err


def test_help_printed_by_rich_into_a_closed_pipe_ends_with_141() -> None:
    # rich, not click, writes the help: it catches the closed pipe its own way
    status, err = run_into_closed_pipe(["--help"])
    assert status == CLOSED_PIPE, err
    assert err == ""


def test_a_broken_pipe_that_is_not_standard_output_is_a_bug_not_a_quiet_141(
        monkeypatch, capsys) -> None:
    """A socket's EPIPE nobody caught (a peer gone mid-write) is no reader of ccf's output
    leaving: it ends as every uncaught error does, exit 3 and the bug's words."""
    import pytest

    from ccdsl.cli import main as cli_main
    from ccdsl.cli.exit_codes import INTERNAL

    def broken(**_kw) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # as a socket's send raises it

    monkeypatch.setattr(cli_main, "app", broken)
    with pytest.raises(SystemExit) as stop:
        cli_main.main(["validate", "x.ccf"])
    assert stop.value.code == INTERNAL
    assert "internal error: BrokenPipeError" in capsys.readouterr().err
