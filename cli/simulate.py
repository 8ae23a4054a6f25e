"""`ccf simulate FLOW`: one simulated call, its trace printed as it happens.
Reads options and prints; runtime.sim runs the call, runtime.operations.trace words it."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import typer

from ccdsl.cli.common import (
    MOMENT_FORMS_HELP,
    CrmOption,
    KeepStoreOption,
    TextFormat,
    TextFormatOption,
    checked_target,
    fail,
    store_exit,
    write,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import INTERRUPTED, PROBLEMS, USAGE

PRESS_HELP = (
    "What the caller does, in order, separated by spaces or commas: keys such as `1` or "
    "`20261128#` (pressed when the call next listens for keys), a silence such as `5s` or "
    "`500ms`, `speak:20s` (talking into voicemail: only a caller who speaks leaves a "
    "message), or `hangup`. Example: --press \"1 20261128# 0\".")


class TracePrinter:
    """An event sink that prints each event as it happens, so an
    interactive caller sees the prompt before being asked for keys.

    A prompt played while the flow waits for keys (a menu's, a collect's) is
    an event only once the keys are in: for a caller at the terminal its
    line is printed when they are asked (`before_question`), and the event
    that comes after the answer is not printed again unless it says more
    (the caller hung up in it). The screen then reads in order."""

    def __init__(self, fmt: TextFormat, root: str | None = None, width: int = 30) -> None:
        from ccdsl.runtime.operations import trace, trace_fold

        self.trace, self.trace_fold = trace, trace_fold
        self.fmt = fmt
        self.root = root
        self.width = width
        self.start: datetime | None = None
        self.played: dict[int, int] = {}  # a prompt_played printed: its offset, its sounds
        self.early: set[int] = set()  # offsets of prompts printed before their event
        # a looping call's repeats folded in the text trace (JSON keeps every event)
        self.folder = trace_fold.Trace(write)

    def emit(self, event) -> None:
        if self.start is None:
            self.start = event.at
        if self.fmt is TextFormat.json:
            write(self.trace.trace_json(event, self.start) + "\n")
            return
        if event.kind == "prompt_played":
            offset = round((event.at - self.start).total_seconds() * 1000)
            data = event.data
            if offset in self.early and "ms" not in data and not data.get("interrupted_by"):
                self.early.discard(offset)  # shown when the caller was asked
                return
            self.played[offset] = len(data.get("sounds") or ())
        self.folder.add(*self.trace.trace_parts(event, self.start, root=self.root,
                                                where_width=self.width))

    def flush(self) -> None:
        """Print the lines held back as a possible repeat (at the end of the call)."""
        self.folder.flush()

    def aside(self) -> None:
        """Before anything is written to standard error (stderr_after): the lines held
        back printed, and folding begun again, so that no fold's "lines above" take in
        what standard error printed between them."""
        self.folder.flush()
        self.folder = self.trace_fold.Trace(write)

    @contextmanager
    def stderr_after(self):
        """While the call runs, standard error (a note, a library's warning, a question)
        is written after the trace lines held back before it: on a terminal the two
        streams read in the order things happened."""
        stderr = sys.stderr
        sys.stderr = _AfterTrace(stderr, self)
        try:
            yield
        finally:
            sys.stderr = stderr

    def before_question(self, heard: list[dict]) -> None:
        """Print, as trace lines, the sounds heard that no printed event
        covers yet: the prompt the caller is about to answer."""
        if self.fmt is TextFormat.json or self.start is None:
            return
        pending: list[dict] = []
        covered = 0
        for sound in heard:
            if sound.get("kind") not in ("tts", "file") or not isinstance(sound.get("at"), int):
                continue
            covered = self.played.get(sound["at"], covered)
            if covered > 0:
                covered -= 1
                continue
            pending.append(sound)
        self.folder.flush()  # the caller reads every line before being asked
        if not pending:
            return
        offset = pending[0]["at"]
        self.early.add(offset)
        self.played[offset] = len(pending)
        sounds = [{k: s.get(k) for k in ("kind", "text", "language")} for s in pending]
        line = self.trace.describe("prompt_played", {"sounds": sounds, "prompt": None})
        self.folder.add(self.trace.offset_text(offset),
                        f"  {'':<{self.width}} {self.trace.visible(line)}")
        self.folder.flush()


class _AfterTrace:
    """A standard error that prints a TracePrinter's held lines before each write of the
    thread that made it (the call's). Another thread's write (the call store's writer
    logging a warning) goes straight through: the folding is the call thread's alone, and
    touching it from two threads could print a line twice or lose one."""

    def __init__(self, stream, printer: TracePrinter) -> None:
        self._stream, self._printer = stream, printer
        self._thread = threading.get_ident()

    def write(self, text: str) -> int:
        if threading.get_ident() == self._thread:
            self._printer.aside()
        return self._stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


# ---- the command ---------------------------------------------------------------------


def _call_seed(value: int | None) -> int | None:
    """--seed's callback: the rule of a test block's `seed` (ccdsl/test_words.py), in its
    words, so a seed that one refuses the other does too."""
    from ccdsl.test_words import SEED_RULE, whole_seed

    if value is not None and whole_seed(value) is None:
        raise typer.BadParameter(f"{SEED_RULE}, not {value}")
    return value


def simulate(
    flow: str = typer.Argument(..., metavar="FLOW", show_default=False,
                               autocompletion=flow_paths,
                               help="The entry .ccf flow to call."),
    caller: str = typer.Option("+8613900000000", "--caller", metavar="NUMBER",
                               help="The caller's number (caller id)."),
    dialled: str = typer.Option("", "--to", metavar="NUMBER", help="The number dialled."),
    at: str = typer.Option(None, "--at", metavar="WHEN",
                           help=f"When the call arrives: {MOMENT_FORMS_HELP}. Without a "
                                "zone, the zone of the flow's business hours (else UTC). "
                                "Default: now."),
    press: str = typer.Option("", "--press", metavar="KEYS", help=PRESS_HELP),
    crm: CrmOption = None,
    agents: Path = typer.Option(None, "--agents", metavar="FILE", dir_okay=False,
                                help="Agents of the simulated centre, a TOML or JSON file: a "
                                     "list `agents` of {id, name, skills, state, extension, "
                                     "answer_after}. Default: `agents.toml` beside the flow, "
                                     "else no agents."),
    interactive: bool = typer.Option(False, "--interactive", "-i",
                                     help="Ask what the caller does on standard input whenever "
                                          "the call listens (`keys> `): a line as --press "
                                          "reads it (keys, 5s, speak:20s, hangup; an empty "
                                          "line is silence); end of input hangs up, Ctrl-C "
                                          "hangs up and exits 130."),
    sounds: Path = typer.Option(None, "--sounds", metavar="DIR", file_okay=False,
                                help="The centre's recorded prompts (DIR/LANGUAGE/NAME.wav, as "
                                     "ccf.toml's paths.sounds): a recorded prompt missing there "
                                     "is skipped, as on Asterisk. Default: `sounds/` beside the "
                                     "flow, else every recorded prompt plays (2 s)."),
    store: KeepStoreOption = None,
    screen_pop_url: str = typer.Option(None, "--screen-pop-url", metavar="URL",
                                       help="Send a screen pop (a JSON POST: the call, the "
                                            "agent, the caller's CRM record and recent calls) "
                                            "to this URL whenever an agent is offered the "
                                            "call, as `ccf serve` does; Bearer token from "
                                            "$CCF_SCREEN_POP_TOKEN when set."),
    seed: int = typer.Option(None, "--seed", metavar="N", callback=_call_seed,
                             help="The seed of the call's random choices (`random.choose`), "
                                  "a whole number 0 or more, below 2**63 (as a test block's "
                                  "`seed`): the same seed makes the same choices. Default: a "
                                  "new one, shown in the trace's `random choice` lines."),
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Run one simulated call through a flow and print its trace.

    Each line shows the time since the call started, the .ccf line that
    acted, and what happened: steps, what the caller hears, keys, CRM
    look-ups, routing decisions and their reasons, queues, agents,
    recordings, voicemail and the hang-up; `--format json` prints one
    JSON event per line instead. The call works on a copy of the --crm
    database, so the file is not changed; without --crm, the CSV/JSON
    files of a `crm/` folder beside the flow are imported into a temporary
    CRM (empty when there is no such folder). Exit status: 0 when the call
    ran (whatever its outcome), 1 when the flow has errors (errors only in
    its tests do not stop it), 2 for bad options, 4 when the --store's
    PostgreSQL server does not answer, 130 when Ctrl-C hung up an
    --interactive call (2 when its standard input is closed), 3 when ccf
    could not ask its question.
    """
    from ccdsl.cli.common import Format, render_diagnostics
    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.runtime.operations.trace import where_width

    def bad(message: str) -> typer.Exit:
        return fail(message, USAGE)

    if not os.path.isfile(flow):
        raise bad(f"`{flow}` is not a file")
    if interactive and press:
        raise bad("--press and --interactive do not go together: choose a script or typing")
    if interactive and (sys.stdin is None or sys.stdin.closed):  # started with `<&-`
        raise bad("--interactive reads the caller's keys from standard input, which is "
                  "closed: run it from a terminal, or give the keys with --press")
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.operations.agents_file import load_agents
    from ccdsl.runtime.sim.scenario import run_simulation, simulation
    from ccdsl.runtime.sim.script import parse_press
    from ccdsl.terminal_text import visible

    try:
        actions = parse_press(press)
        agent_file = str(agents) if agents is not None else _beside(flow, "agents.toml")
        agent_specs = load_agents(agent_file) if agent_file else ()
    except InputError as exc:
        raise bad(visible(str(exc))) from None  # it may quote --press as given
    if crm is not None and not crm.is_file():
        raise bad(f"there is no CRM database at `{crm}`")
    if store is not None:
        checked_target(store, exists=False)  # a URL of another scheme, a missing folder
    if sounds is not None and not sounds.is_dir():
        raise bad(f"--sounds `{sounds}` is not a folder")
    sounds_dir = str(sounds) if sounds is not None else _beside(flow, "sounds", folder=True)

    result = compile_file(flow)
    write(render_diagnostics(result.diagnostics, result.sources, Format.text, err=True),
          err=True)
    ir = result.ir if result.ok else _ir_without_broken_tests(result)
    if ir is None:
        raise fail(f"{flow} has errors: fix them to simulate it (`ccf validate {flow}`)",
                   PROBLEMS)
    if not (ir.get("handlers") or {}).get("start"):
        raise bad(f"`{flow}` has no `on start` handler: it is a module that other flows use; "
                  "simulate a flow that uses it")
    try:
        scenario = simulation(ir, caller=caller, at=at, dialled=dialled,
                              actions=actions, agents=agent_specs, seed=seed)
    except InputError as exc:
        raise bad(str(exc)) from None

    root = os.getcwd()
    printer = TracePrinter(fmt, root=root,
                           width=where_width(ir.get("source_files", [flow]), root))
    ask = KeyReader(printer) if interactive else None

    def note(text: str) -> None:
        # set-up facts go to standard error: standard output is the trace
        write(f"{text}\n", err=True)

    from ccdsl.runtime.core.moments import moment_text

    # a form --at reads back
    note(f"call at {moment_text(scenario.start)} ({scenario.start:%A})")
    note(f"agents: {len(agent_specs)} from {agent_file}" if agent_file
         else "agents: none (give --agents FILE)")
    crm_folder = None if crm else _beside(flow, "crm", folder=True)
    note(f"recorded prompts: {sounds_dir} (a missing one is skipped, as on Asterisk)"
         if sounds_dir else "recorded prompts: all play 2 s (give --sounds DIR to check "
         "them as Asterisk does)")
    if store is None:
        note("call store: temporary (give --store FILE to keep the call)")
    if crm is None and crm_folder is None:
        note("CRM: empty (give --crm DB, or put a crm/ folder of CSV files beside the flow)")
    if screen_pop_url is not None and not screen_pop_url.startswith(("http://", "https://")):
        raise bad(f"--screen-pop-url {screen_pop_url!r}: write an http:// or https:// URL")
    run = run_simulation
    if screen_pop_url is not None:
        from functools import partial

        from ccdsl.runtime.sim.screen_pop import run_simulation_with_pop

        run = partial(run_simulation_with_pop, url=screen_pop_url)
    with printer.stderr_after():  # its error too, after the lines held before it
        try:
            run(ir, scenario, sink=printer, crm_db=str(crm) if crm else None,
                crm_folder=crm_folder, ask=ask, note=note,
                store_path=str(store) if store else None, sounds_dir=sounds_dir)
        except InputError as exc:  # a store's server not answering: 4 (cli/common.store_exit)
            raise fail(str(exc), store_exit(exc)) from None
        finally:
            printer.flush()  # the lines held back as a possible repeat
    if ask is not None and ask.failure is not None:
        raise ask.failure  # ccf's own error: cli/main.py says so and exits 3
    if ask is not None and ask.interrupted:
        raise typer.Exit(INTERRUPTED)


def _ir_without_broken_tests(result) -> dict | None:
    """The IR of a flow whose only errors are in test blocks, without those
    blocks (a test being written must not stop its author trying the flow);
    None when the flow itself has errors."""
    from ccdsl.compiler.test_isolation import isolate_tests

    isolated = isolate_tests(result)
    if isolated is None:
        return None
    write("note: the errors are in test blocks: simulating the flow without them\n", err=True)
    return isolated.ir


def _beside(flow: str, name: str, *, folder: bool = False) -> str | None:
    """A file (or folder) of this name in the flow's directory, if there is one."""
    path = os.path.join(os.path.dirname(flow) or ".", name)
    found = os.path.isdir(path) if folder else os.path.isfile(path)
    return path if found else None


class KeyReader:
    """The person at the terminal as the caller: each line read as --press
    reads it (bad input refused with --press's message, then asked again),
    end of input or Ctrl-C hangs up (`interrupted` then says which). What
    the caller heard since the last question, spoken values too, is shown
    first, after the trace's line of the prompt being answered.

    A question that cannot be asked (standard input closed, a terminal that
    fails) is ccf's failure, not the flow's: the interpreter would report
    an exception out of here as the flow's ERROR, so the call is ended as a
    hang-up and the exception kept in `failure` for the command to raise."""

    def __init__(self, printer: TracePrinter) -> None:
        self.interrupted = False
        self.printer = printer
        self.failure: Exception | None = None

    def __call__(self, waiting_for: str, heard: list[dict]):
        try:
            return self._ask(waiting_for, heard)
        except Exception as exc:  # noqa: BLE001 - raised again once the call has ended
            self.failure = exc
            return None

    def _ask(self, waiting_for: str, heard: list[dict]):
        import sys

        from ccdsl.runtime.core.errors import InputError
        from ccdsl.runtime.operations.trace_fold import folded
        from ccdsl.runtime.sim.caller import LEAVING_A_MESSAGE
        from ccdsl.runtime.sim.script import parse_press
        from ccdsl.terminal_text import visible

        self.printer.before_question(heard)
        # a loop answered at one question plays its prompts over and over: folded as the
        # trace's repeats are
        sys.stderr.write(folded(("", f"caller hears: {_heard_text(sound)}") for sound in heard))
        if waiting_for == LEAVING_A_MESSAGE:
            sys.stderr.write("caller may leave a message after the beep: speak:20s talks for "
                             "20 s; empty line: says nothing, also keys or hangup\n")
        elif waiting_for:
            sys.stderr.write(f"caller may press {waiting_for}; empty line: silence, also "
                             "5s, speak:20s or hangup\n")
        while True:
            line = self._line()
            if line is None:
                return None
            try:
                return parse_press(line)
            except InputError as exc:
                sys.stderr.write(f"error: {visible(str(exc))}\n")  # it quotes what was typed

    def _line(self) -> str | None:
        """One line from standard input; None at its end or on Ctrl-C. The
        loop's own Ctrl-C handler only cancels the call once the blocking
        read returns: Python's default one interrupts the read itself."""
        import signal
        import sys
        import threading

        sys.stdout.flush()
        sys.stderr.write("keys> ")
        sys.stderr.flush()
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.default_int_handler) if main else None
        try:
            line = _typed_line(sys.stdin)
        except EOFError:  # a stream that says its end so: the end of input all the same
            line = ""
        except KeyboardInterrupt:
            self.interrupted = True
            sys.stderr.write("\nCtrl-C: the caller hangs up\n")
            return None
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        if not line:
            sys.stderr.write("\n")
            return None
        return line.strip()


def _typed_line(stdin) -> str:
    """A line of standard input, its bytes decoded with what cannot be decoded replaced
    (typed in another encoding): bad input that parse_press refuses as a wrong key. Only
    this reads standard input in an interactive run, so its bytes are read directly."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:
        return stdin.readline()
    return buffer.readline().decode(getattr(stdin, "encoding", None) or "utf-8", "replace")


def _heard_text(sound: dict) -> str:
    """One thing heard, as the trace words it; values may come from the CRM
    (spoken by TTS): escaped for the terminal."""
    from ccdsl.terminal_text import visible

    if sound.get("kind") == "said":
        words = sound.get("words")
        spoken = f' "{visible(words)}"' if words and words != sound.get("value") else ""
        return f"{visible(sound.get('said'))} {visible(sound.get('value'))}{spoken}"
    text = visible(sound.get("text", ""))
    return f"\"{text}\"" if sound.get("kind") == "tts" else f"file {text}"
