"""`ccf simulate FLOW --interactive` at a real pseudo-terminal: each line is
read as --press reads it (bad input refused with --press's message and
asked again, `hangup` hangs up, `5s` is a silence), Ctrl-C ends the call
with exit 130, and what the caller hears, spoken values too, is on the
screen before the keys are asked for."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from ccdsl.cli.exit_codes import INTERRUPTED

CCF = Path(sys.executable).with_name("ccf")
WAIT_S = 10.0

FLOW = """flow desk:
  languages en-US

prompt welcome:
  en-US tts "Welcome to the desk."

prompt choices:
  en-US tts "Press 1 for sales."

on start:
  answer
  play welcome
  say number 42
  menu retries 1 timeout 3s:
    prompt choices
    1 -> play tts "Sales, goodbye."
    timeout, invalid -> play tts "Sorry."
  hangup
"""


def _own_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the
    pseudo-terminal, so Ctrl-C typed there is its SIGINT, as in a shell."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Screen:
    """`ccf ARGS` on a pseudo-terminal: what it has shown, keys typed into it."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([str(CCF), *args], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=cwd, preexec_fn=_own_terminal,
                                     env={**os.environ, "COLUMNS": "120"})
        os.close(slave)
        self.text = ""

    def read(self) -> None:
        while select.select([self.master], [], [], 0.05)[0]:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            self.text += data.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(self, pattern: str, count: int = 1) -> str:
        deadline = time.monotonic() + WAIT_S
        while len(re.findall(pattern, self.text)) < count:
            assert time.monotonic() < deadline, f"waited for {pattern!r}:\n{self.text}"
            self.read()
        return self.text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")  # the terminal sends SIGINT to the process group

    def end(self) -> int:
        deadline = time.monotonic() + WAIT_S
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read()
        self.read()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise AssertionError(f"ccf simulate did not end:\n{self.text}")
        os.close(self.master)
        return self.proc.returncode


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    return tmp_path


def start(folder: Path) -> Screen:
    return Screen("simulate", "desk.ccf", "--at", "2026-11-30 10:00", "--interactive",
                  cwd=folder)


def test_what_the_caller_hears_and_says_is_shown_before_the_question(desk: Path) -> None:
    screen = start(desk)
    shown = screen.wait_for(r"keys> ")
    before = shown.split("keys> ")[0]
    assert 'caller hears: "Welcome to the desk."' in before
    assert "caller hears: number 42" in before  # a spoken value, not left out
    assert 'caller hears: "Press 1 for sales."' in before
    screen.type("1")
    assert screen.end() == 0
    assert 'caller presses "1" for menu' in screen.text
    assert "Sales, goodbye." in screen.text


def test_bad_input_is_refused_as_press_refuses_it_and_asked_again(desk: Path) -> None:
    screen = start(desk)
    screen.wait_for(r"keys> ")
    screen.type("x")
    screen.wait_for(r"keys> ", 2)
    assert ("error: `x` is not something a caller can do: write keys (0-9, * and #), a "
            "silence such as 5s, speak:20s (talking into voicemail), or hangup") in screen.text
    assert "menu: timeout" not in screen.text  # not taken for a silence
    screen.type("1")
    assert screen.end() == 0
    assert 'caller presses "1" for menu' in screen.text


def test_hangup_hangs_up(desk: Path) -> None:
    screen = start(desk)
    screen.wait_for(r"keys> ")
    screen.type("hangup")
    assert screen.end() == 0
    assert "hang-up by caller" in screen.text
    assert "menu: timeout" not in screen.text


def test_a_duration_is_a_silence_not_a_key(desk: Path) -> None:
    screen = start(desk)
    screen.wait_for(r"keys> ")
    screen.type("5s")
    screen.wait_for(r"keys> ", 2)  # the 3 s timeout passed: asked again, on the retry
    assert 'caller presses "5"' not in screen.text
    assert "menu: timeout" in screen.text
    screen.type("hangup")
    assert screen.end() == 0


def test_the_first_ctrl_c_ends_the_call(desk: Path) -> None:
    screen = start(desk)
    screen.wait_for(r"keys> ")
    screen.ctrl_c()
    assert screen.end() == INTERRUPTED, screen.text
    assert "Ctrl-C: the caller hangs up" in screen.text
    assert "hang-up by caller" in screen.text
    assert "Traceback" not in screen.text


def _plays(text: str, words: str) -> list[int]:
    """Where the trace's `plays` lines of a prompt saying `words` start."""
    return [m.start() for m in re.finditer(rf"plays [^\n]*{re.escape(words)}", text)]


def test_the_screen_reads_in_order(desk: Path) -> None:
    screen = start(desk)
    shown = screen.wait_for(r"keys> ")
    # the prompt the caller answers is in the trace before the question...
    assert len(_plays(shown, "Press 1 for sales.")) == 1, shown
    screen.type("1")
    assert screen.end() == 0
    asked = screen.text.index("keys> ")
    after = screen.text[asked:]
    # ...and not again after the answer: what follows the keys is what the keys did
    assert _plays(after, "Press 1 for sales.") == [], screen.text
    assert after.index('caller presses "1" for menu') < after.index("Sales, goodbye.")
    stamps = [line.split()[0] for line in screen.text.splitlines() if line.startswith("+")]
    assert stamps == sorted(stamps), screen.text  # the trace's times only go forward


HOSTILE = "Li\x1b]0;owned\x07\x1b[2J\x1b[31mNa"


def test_hostile_text_from_the_crm_stays_escaped(tmp_path: Path) -> None:
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "customers.csv").write_text(
        f"id,name,phone\nC1,{HOSTILE},+8613900000000\n", encoding="utf-8")
    (tmp_path / "desk.ccf").write_text("""flow desk:
  languages en-US

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  menu retries 1 timeout 3s:
    prompt tts "Hello ${customer.name}, press 1."
    1 -> play tts "Goodbye ${customer.name}."
    timeout, invalid -> play tts "Sorry."
  hangup
""", encoding="utf-8")
    screen = Screen("simulate", "desk.ccf", "--at", "2026-11-30 10:00", "--interactive",
                    cwd=tmp_path)
    shown = screen.wait_for(r"keys> ")
    assert "Hello Li" in shown  # the name was spoken
    screen.type("1")
    assert screen.end() == 0
    assert "Goodbye Li" in screen.text
    assert "\x1b" not in screen.text and "\x07" not in screen.text, repr(screen.text)
    assert "\\x1b]0;owned" in screen.text  # shown, as visible text


def test_bytes_that_are_not_text_are_refused_and_asked_again(desk: Path) -> None:
    # a terminal in another encoding (or a stray byte): bad input, as a wrong key is,
    # never the flow's ERROR
    screen = start(desk)
    screen.wait_for(r"keys> ")
    os.write(screen.master, b"\xff\xfe1\r")
    screen.wait_for(r"keys> ", 2)
    assert "is not something a caller can do" in screen.text
    screen.type("1")
    assert screen.end() == 0
    assert "ERROR" not in screen.text and "Traceback" not in screen.text
    assert 'caller presses "1" for menu' in screen.text


def test_end_of_input_at_the_terminal_hangs_up(desk: Path) -> None:
    # Ctrl-D, as at a shell's prompt: the person is done, so the caller hangs up; the
    # call ran to its end (exit 0), nobody interrupted ccf
    screen = start(desk)
    screen.wait_for(r"keys> ")
    os.write(screen.master, b"\x04")
    assert screen.end() == 0, screen.text
    assert "hang-up by caller" in screen.text
    assert "ERROR" not in screen.text


def test_answers_piped_in_end_with_the_pipe(desk: Path) -> None:
    # the writer of the answers goes away mid-call: the caller hangs up there
    proc = subprocess.Popen([str(CCF), "simulate", "desk.ccf", "--at", "2026-11-30 10:00",
                             "--interactive"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=desk)
    asked = b""
    while not asked.endswith(b"keys> "):
        byte = proc.stderr.read(1)
        assert byte, asked
        asked += byte
    proc.stdin.close()
    out, err = proc.stdout.read(), proc.stderr.read()  # both small: no pipe fills
    assert proc.wait(timeout=WAIT_S) == 0, err
    assert b"hang-up by caller" in out
    assert b"ERROR" not in out


def test_an_interactive_run_with_standard_input_closed_is_refused_up_front(desk: Path) -> None:
    # standard input closed (`<&-`, as some job runners start a command): there is nobody to
    # ask, which is how the command was started, not a bug of ccf's: a usage error before the
    # call starts, never a flow ERROR with exit 0 nor "a bug in ccf"
    proc = subprocess.run(["sh", "-c", f'exec "{CCF}" simulate desk.ccf --at "2026-11-30 '
                           '10:00" --interactive <&-'], capture_output=True, text=True,
                          cwd=desk, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: --interactive reads the caller's keys from standard "
                                  "input, which is closed"), proc.stderr
    assert "bug in ccf" not in proc.stderr and proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_a_question_that_fails_once_asked_is_ccfs_error_not_the_flows(desk: Path, monkeypatch,
                                                                     capsys) -> None:
    # a read of the keys that fails (a terminal gone mid-run): the call ends as a hang-up and
    # ccf reports its own failure (cli/main.py: exit 3), never a flow ERROR with exit 0
    from ccdsl.cli import main as ccf_main
    from ccdsl.cli import simulate as simulate_cli
    from ccdsl.cli.exit_codes import INTERNAL

    def gone(_stdin):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(simulate_cli, "_typed_line", gone)
    monkeypatch.chdir(desk)
    with pytest.raises(SystemExit) as ended:
        ccf_main.main(["simulate", "desk.ccf", "--at", "2026-11-30 10:00", "--interactive"])
    out, err = capsys.readouterr()
    assert ended.value.code == INTERNAL, out + err
    assert "Input/output error" in err and "This is a bug in ccf, not in your flow" in err
    assert "ERROR" not in out
