"""`ccf ... | head -1`: a reader that stops reading ends ccf as it ends git or seq, with
no traceback, no "Exception ignored" line and status 141 (128 + SIGPIPE), through a real
pipe to a real process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
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


# ---- write_whole: pieces a pipe takes whole, only where a reader can leave -------------

# four bytes each in UTF-8: a text of them is four times as long in bytes as in characters
WIDE = "\U0001F4DE"  # a telephone receiver


class RecordingFile(io.FileIO):
    """A descriptor's writes as the system sees them: the size of each."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd, "w", closefd=False)
        self.sizes: list[int] = []

    def write(self, data) -> int:
        self.sizes.append(len(data))
        return super().write(data)


def text_stream(raw: RecordingFile) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", write_through=False)


def test_a_file_gets_the_whole_text_in_one_write(tmp_path: Path) -> None:
    from ccdsl.cli.closed_pipe import PIPE_BUF, write_whole

    text = ("line " + WIDE * 40 + "\n") * 200
    with open(tmp_path / "out.txt", "wb") as out:
        raw = RecordingFile(out.fileno())
        write_whole(text_stream(raw), text)
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == text
    assert raw.sizes == [len(text.encode("utf-8"))] and raw.sizes[0] > PIPE_BUF


def _drained_pipe() -> tuple[int, threading.Thread, list[bytes]]:
    """A pipe's write end, with a thread reading everything from the other end."""
    read_end, write_end = os.pipe()
    got: list[bytes] = []

    def drain() -> None:
        with open(read_end, "rb") as reader:
            got.append(reader.read())

    reader = threading.Thread(target=drain)
    reader.start()
    return write_end, reader, got


def test_a_pipe_gets_pieces_of_pipe_buf_bytes_however_wide_the_characters() -> None:
    from ccdsl.cli.closed_pipe import PIPE_BUF, write_whole

    for text in ("a" * (10 * PIPE_BUF), WIDE * (5 * PIPE_BUF // 4) + "é" * PIPE_BUF):
        write_end, reader, got = _drained_pipe()
        raw = RecordingFile(write_end)
        write_whole(text_stream(raw), text)
        os.close(write_end)
        reader.join()
        data = text.encode("utf-8")
        assert got == [data]
        # each write as large as a pipe takes whole, no smaller: sized by the bytes
        assert raw.sizes == [min(PIPE_BUF, len(data) - at) for at in range(0, len(data), PIPE_BUF)]


def test_wide_characters_cut_short_by_head_c_end_ccf_with_141() -> None:
    flow = BIG_FLOW.replace("Welcome number", WIDE * 30)
    proc = subprocess.Popen([sys.executable, "-m", "ccdsl.cli.main", "fmt", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(flow.encode("utf-8"))
    proc.stdin.close()
    first = proc.stdout.read(1000)  # as `head -c 1000` does, then it leaves
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    assert first.startswith(b"flow desk:\n")
    assert proc.wait() == CLOSED_PIPE, err
    assert err == ""


def test_wide_characters_written_to_a_file_arrive_whole(tmp_path: Path) -> None:
    flow = BIG_FLOW.replace("Welcome number", WIDE * 30)
    (tmp_path / "desk.ccf").write_text(flow, encoding="utf-8")
    with open(tmp_path / "out.ccf", "wb") as out:
        done = subprocess.run([sys.executable, "-m", "ccdsl.cli.main", "fmt", "-"],
                              input=flow.encode("utf-8"), stdout=out, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "out.ccf").read_text(encoding="utf-8")
    assert written.count(WIDE) == 30 * 3000 and written.endswith("  hangup\n")


class TextOnly:
    """A text stream with a descriptor but no bytes layer (`buffer`) to write through."""

    encoding, errors = "utf-8", "strict"

    def __init__(self, fd: int) -> None:
        self.fd, self.sizes = fd, []

    def fileno(self) -> int:
        return self.fd

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.sizes.append(len(data))
        return os.write(self.fd, data)

    def flush(self) -> None:
        pass


def test_a_pipe_behind_a_text_only_stream_gets_pieces_cut_between_characters() -> None:
    from ccdsl.cli.closed_pipe import PIPE_BUF, write_whole

    text = "é" + WIDE * PIPE_BUF  # never 4 bytes to a piece's boundary
    write_end, reader, got = _drained_pipe()
    stream = TextOnly(write_end)
    write_whole(stream, text)
    os.close(write_end)
    reader.join()
    assert got == [text.encode("utf-8")]
    assert max(stream.sizes) <= PIPE_BUF and min(stream.sizes[:-1]) > PIPE_BUF - 4


# ---- a broken pipe that is not standard output's ------------------------------------------

def write_to_a_socket_whose_peer_closed() -> None:
    """A command that writes to a socket its peer has closed, and does not catch it."""
    import socket

    mine, peer = socket.socketpair()
    peer.close()
    with mine:
        mine.sendall(b"hello")  # EPIPE: the peer has gone


SOCKET_COMMAND = """
import sys
sys.path.insert(0, {tests!r})
from ccdsl.cli import main
from test_closed_pipe import write_to_a_socket_whose_peer_closed
main.COMMANDS["peer-gone"] = lambda: write_to_a_socket_whose_peer_closed
main.main()
"""


def test_a_sockets_broken_pipe_inside_a_command_is_a_bug_not_a_quiet_141(
        monkeypatch, capsys) -> None:
    import pytest

    from ccdsl.cli import main as cli_main
    from ccdsl.cli.exit_codes import INTERNAL

    monkeypatch.setitem(cli_main.COMMANDS, "peer-gone",
                        lambda: write_to_a_socket_whose_peer_closed)
    with pytest.raises(SystemExit) as stop:
        cli_main.main(["peer-gone"])
    assert stop.value.code == INTERNAL
    assert "internal error: BrokenPipeError" in capsys.readouterr().err


def test_a_sockets_broken_pipe_with_standard_output_a_pipe_still_read_is_a_bug() -> None:
    # standard output a real pipe whose reader is still there: not the pipe that broke
    tests = str(Path(__file__).parent)
    proc = subprocess.Popen([sys.executable, "-c", SOCKET_COMMAND.format(tests=tests),
                             "peer-gone"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    assert proc.returncode == 3, err
    assert out == b""
    assert b"internal error: BrokenPipeError" in err and b"Traceback" not in err


def test_standard_output_a_socket_whose_peer_left_ends_ccf_with_141() -> None:
    import socket

    mine, peer = socket.socketpair()
    peer.close()
    with mine:
        done = subprocess.run([sys.executable, "-m", "ccdsl.cli.main", "fmt", "-"],
                              input=BIG_FLOW.encode(), stdout=mine.fileno(),
                              stderr=subprocess.PIPE)
    assert done.returncode == CLOSED_PIPE, done.stderr
    assert done.stderr == b""


def test_a_terminal_gets_the_whole_text_in_one_write() -> None:
    from ccdsl.cli.closed_pipe import PIPE_BUF, write_whole

    text = "x" * (3 * PIPE_BUF)
    controller, terminal = os.openpty()
    got: list[bytes] = []

    def drain() -> None:
        size = 0
        while size < len(text):
            got.append(os.read(controller, 65536))
            size += len(got[-1].replace(b"\r\n", b"\n"))

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        raw = RecordingFile(terminal)
        write_whole(text_stream(raw), text)
        reader.join()
    finally:
        os.close(terminal)
        os.close(controller)
    assert b"".join(got) == text.encode()
    assert raw.sizes == [len(text)]
