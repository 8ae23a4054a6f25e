"""Standard output whose reader stopped reading (`ccf calls list | head -1`): told apart
from a command's own failure and made quiet. Keeps SIGPIPE ignored: the default action
would also kill `ccf serve` whenever a client hangs up mid-answer."""

from __future__ import annotations

import errno
import os
import select
import stat
import sys

# a pipe takes a write of up to PIPE_BUF bytes whole or not at all: a longer one cut
# short by the reader leaving returns its part, and CPython's buffered stream drops
# the rest without an error, so a truncated output would end as a success
PIPE_BUF = getattr(select, "PIPE_BUF", 512)  # POSIX's least where the system does not say


def write_whole(stream, text: str) -> None:
    """Write text and flush it. Into a pipe or a socket, whose reader can leave, in
    pieces of PIPE_BUF encoded bytes, so that a reader gone mid-text raises
    BrokenPipeError here rather than cutting it silently; into a file or a terminal,
    whole."""
    if not reader_can_leave(stream):
        stream.write(text)
        stream.flush()
        return
    encoding, errors = getattr(stream, "encoding", None) or "utf-8", \
        getattr(stream, "errors", None) or "strict"
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text stream with no bytes below it: cut between characters
        for piece in _text_pieces(text, encoding, errors):
            stream.write(piece)
            stream.flush()
        return
    stream.flush()  # what the text layer holds goes first
    data = text.encode(encoding, errors)
    for start in range(0, len(data), PIPE_BUF):
        buffer.write(data[start:start + PIPE_BUF])
        buffer.flush()


def _text_pieces(text: str, encoding: str, errors: str):
    """The text in pieces of at most PIPE_BUF bytes once encoded."""
    piece, size = [], 0
    for char in text:
        width = len(char.encode(encoding, errors))
        if size + width > PIPE_BUF and piece:
            yield "".join(piece)
            piece, size = [], 0
        piece.append(char)
        size += width
    if piece:
        yield "".join(piece)


def reader_can_leave(stream) -> bool:
    """Whether the stream writes into a pipe or a socket (False for a file, a terminal,
    or a stream with no descriptor: an in-process caller's capture)."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class NotOurOutput(Exception):
    """A broken pipe inside a command that is not ccf's own output's (a socket whose
    peer left): carried past click, which would take any EPIPE for standard output's."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def broken_pipe(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno == errno.EPIPE


def own_output_gone() -> bool:
    """Whether the reader of standard output (or standard error) has gone: the pipe's
    read end closed, the socket's peer hung up. False for a file, a terminal, or a
    stream with no descriptor."""
    poll = select.poll()
    for stream in (sys.stdout, sys.stderr):
        if not reader_can_leave(stream):
            continue
        poll.register(stream.fileno(), select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))


def _null_device(stream) -> bool:
    """Whether the stream writes to the null device; False for one with no descriptor
    (an in-process caller's capture) or a closed one."""
    try:
        found, null = os.fstat(stream.fileno()), os.stat(os.devnull)
    except (AttributeError, OSError, ValueError):
        return False
    return (found.st_dev, found.st_ino) == (null.st_dev, null.st_ino)


def watch() -> tuple[object, bool]:
    """What stdout_closed compares with after the command: standard output as the
    command finds it, and whether it is already the null device."""
    return sys.stdout, _null_device(sys.stdout)


def stdout_closed(before: tuple[object, bool]) -> bool:
    """Whether a write to standard output failed because its reader had gone. Each
    library that catches it says so its own way: click and typer put a wrapper around
    the stream (`.wrapped`), rich points the descriptor at the null device (its
    Console.on_broken_pipe); a flush finds any other."""
    stream, was_null = before
    if sys.stdout is not stream and getattr(sys.stdout, "wrapped", None) is stream:
        return True
    if not was_null and _null_device(stream):
        return True
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):  # closed otherwise: not a reader that left
        return False
    return False


def silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush
    of what is still buffered prints no "Exception ignored" line (Python's own advice
    in the signal module's note on SIGPIPE)."""
    try:
        fd = sys.__stdout__.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout: nothing to flush
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
