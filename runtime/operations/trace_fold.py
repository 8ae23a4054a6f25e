"""A text trace's repeats folded: lines that say the same as the ones just before (their time
apart), once or as a cycle of up to MAX_CYCLE lines, are shown the first time and then as one
line "... the same N more times", at the time of the last. For the text trace only (JSON
keeps every event); must not drop, reorder or change a line that is not a repeat.

Line by line, so `ccf simulate` can print as the call goes: a line that may begin a repeat is
held back until the repeat ends (flush, before the caller is asked for keys and at the end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

MAX_CYCLE = 20  # the longest cycle of lines looked for (a looping step's few events)
LEAST_REPEATS = 2  # fewer repeats than this are printed as they are: a retry reads as one


def fold_text(repeats: int, cycle: int) -> str:
    """The words standing for `repeats` more rounds of the `cycle` lines above (the line's
    offset is the last round's last line's)."""
    lines = f" (the {cycle} lines above)" if cycle > 1 else ""
    return f"  ... the same {repeats} more {'time' if repeats == 1 else 'times'}{lines}"


class Folder:
    """Takes a trace's lines as (offset, rest), the rest being everything after the offset
    (where and what); passes each line on to `write`, or a repeat's fold line: its offset
    the last repeated line's, its rest fold_text's. Every line passed on is one above the
    next: a fold's "lines above" are the last it passed on, fold lines among them."""

    def __init__(self, write: Callable[[str, str], None]) -> None:
        self.write = write
        self.seen: list[str] = []  # the rests of the last lines passed on (MAX_CYCLE)
        self.held: list[tuple[str, str]] = []  # lines that may repeat those before them
        self.blocks: dict[int, tuple[str, ...]] = {}  # cycle length -> the lines it repeats
        self.alive: set[int] = set()  # the cycle lengths every held line still matches
        self.matched: dict[int, int] = {}  # a cycle no longer matching: how many lines did

    def add(self, offset: str, rest: str) -> None:
        if self.held:
            at = len(self.held)
            still = {p for p in self.alive if self.blocks[p][at % p] == rest}
            for p in self.alive - still:
                self.matched[p] = at
            if still:
                self.alive = still
                self.held.append((offset, rest))
                return
            self._settle()
            self.add(offset, rest)
            return
        starts = {p for p in range(1, min(MAX_CYCLE, len(self.seen)) + 1)
                  if self.seen[-p] == rest}
        if not starts:
            self._show(offset, rest)
            return
        self.held = [(offset, rest)]
        self.blocks = {p: tuple(self.seen[-p:]) for p in starts}
        self.alive, self.matched = starts, {}

    def flush(self) -> None:
        while self.held:
            self._settle()

    def _show(self, offset: str, rest: str) -> None:
        self.write(offset, rest)
        self.seen = (self.seen + [rest])[-MAX_CYCLE:]

    def _settle(self) -> None:
        """The held lines end their repeat: of the cycles that went round LEAST_REPEATS times,
        the one covering most of them in whole rounds (the shortest of equals) folds them; the
        rest is taken again, as new lines (without such a cycle, all but the first held)."""
        held, matched = self.held, {**{p: len(self.held) for p in self.alive}, **self.matched}
        self.held, self.blocks, self.alive, self.matched = [], {}, set(), {}
        cycle = min(matched, key=lambda p: (matched[p] // p < LEAST_REPEATS,
                                            -(matched[p] // p) * p, p))
        rounds = matched[cycle] // cycle
        if rounds >= LEAST_REPEATS:
            self._show(held[rounds * cycle - 1][0], fold_text(rounds, cycle))
            rest = held[rounds * cycle:]
        else:
            self._show(*held[0])
            rest = held[1:]
        for line in rest:
            self.add(*line)


class Trace:
    """A text trace's folding, line by line: a cycle folded, and again the rounds of a cycle
    holding a fold of its own (a step that loops, playing a prompt three times a round).
    `write` takes each line of text; flush() before anything else is printed and at the
    end."""

    def __init__(self, write: Callable[[str], None], indent: str = "") -> None:
        self.outer = Folder(lambda offset, rest: write(f"{indent}{offset}{rest}\n"))
        self.inner = Folder(self.outer.add)

    def add(self, offset: str, rest: str) -> None:
        self.inner.add(offset, rest)

    def flush(self) -> None:
        self.inner.flush()
        self.outer.flush()


def folded(lines: Iterable[tuple[str, str]], indent: str = "") -> str:
    """A whole trace's lines (offset, rest) as text, repeats folded."""
    out: list[str] = []
    trace = Trace(out.append, indent)
    for offset, rest in lines:
        trace.add(offset, rest)
    trace.flush()
    return "".join(out)


def folded_trace(text: str, indent: str = "") -> str:
    """A trace already written out (render_trace(fold=False): every line) with its repeats
    folded: a line's offset is what comes before its first space."""
    return folded(((line[:line.find(" ")], line[line.find(" "):]) if " " in line
                   else (line, "") for line in text.splitlines()), indent)
